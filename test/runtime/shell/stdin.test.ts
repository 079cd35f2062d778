// The built-in shell reads its stdin only when something reads it: a script whose commands never read it
// finishes although the input stays open (a terminal, `docker run -i` with a pipe nobody closes), and a
// script that reads it still gets all of it, once. Which scripts the interpreter itself reads stdin for
// (`read`, `mapfile`: input up front) is decided from their text; that decision has its own table.
import { describe, expect, it } from 'vitest';
import { launch } from '../../../runtime/core/exec.js';
import { collectOutput, type InputSource } from '../../../runtime/core/process.js';
import { readsShellStdin } from '../../../runtime/core/shell/just-bash-ast.js';
import { NATIVE, PATH, makeBox, type BoxEntry } from '../exec/box.js';
import { buildWasmTool, wasmEngineMissing } from '../exec/wasm-tool.js';

const [tool, engineMissing] = await Promise.all([buildWasmTool(), wasmEngineMissing()]);
const noTool = tool.skip ?? engineMissing;

/** Live input: `typed` piece by piece, then the end — or, when `open`, a read past `typed` fails the test
 *  (a real open input would wait there forever). */
function liveInput(typed: string[], open: boolean): InputSource & { reads: number; waited: boolean } {
  const pieces = [...typed];
  const source = {
    reads: 0,
    waited: false,
    read(): Uint8Array {
      source.reads++;
      const next = pieces.shift();
      if (next !== undefined) return new TextEncoder().encode(next);
      if (open) {
        source.waited = true;
        throw new Error('the shell read the open input: a real one would wait here forever');
      }
      return new Uint8Array(0);
    },
    ready: async () => undefined,
  };
  return source;
}

const BOX: Record<string, BoxEntry> = {
  '/bin/busybox': { file: NATIVE.elf },
  '/bin/sh': { symlink: 'busybox' },
  '/app/data/fruit.txt': { file: 'apples 3\npears 5\n', mode: 0o644 },
  '/app/quiet.sh': { file: '#!/bin/sh\necho "quiet $1"\n' },
  '/app/reader.sh': { file: '#!/bin/sh\nread -r line\necho "reader got [$line]"\n' },
  '/app/lib.sh': { file: 'read -r libline\n', mode: 0o644 },
  '/app/env.sh': { file: 'LABEL=fruit\n', mode: 0o644 },
  '/app/empty.txt': { file: '', mode: 0o644 },
};

async function run(script: string, stdin: InputSource, extra: Record<string, BoxEntry> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = collectOutput();
  const err = collectOutput();
  const vfs = makeBox({ ...BOX, ...extra });
  const code = await launch({ argv: ['/bin/sh', '-c', script], env: [`PATH=${PATH}`, 'HOME=/root'], cwd: '/app', vfs, stdin, stdout: out.sink, stderr: err.sink });
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  return { code, stdout: text(out.bytes()), stderr: text(err.bytes()) };
}

describe('a script that never reads stdin finishes while the input stays open', () => {
  const cases: Array<[string, string, string]> = [
    ['a loop reading a file (examples/shell)', 'total=0\nwhile read -r name count; do echo "$name: $count"; total=$((total + count)); done < data/fruit.txt\necho "total: $total"', 'apples: 3\npears: 5\ntotal: 8\n'],
    ['commands given files, and redirections', 'cat data/fruit.txt | wc -l; grep -c a data/fruit.txt; head -n 1 < data/fruit.txt; cut -d " " -f 2 data/fruit.txt | tr "\\n" " "', '2\n2\napples 3\n3 5 '],
    ['input from /dev/null, an empty file and a heredoc', 'cat < /dev/null; wc -c < empty.txt; tr a-z A-Z <<EOF\nloud\nEOF\nread -r x <<< "here"; echo "$x"', '0\nLOUD\nhere\n'],
    ['a pipe into read', 'echo piped | { read -r v; echo "v=$v"; }', 'v=piped\n'],
    ['nested shells and scripts by path', 'sh -c "echo inner"; ./quiet.sh a; sh quiet.sh b', 'inner\nquiet a\nquiet b\n'],
    ['a sourced file that does not read', '. ./env.sh; echo "$LABEL"', 'fruit\n'],
    ['built-ins standing in for commands', 'ls data; env | grep -c PATH; date +%Y | wc -c', 'fruit.txt\n1\n5\n'],
  ];
  it.each(cases)('%s', async (_, script, stdout) => {
    const input = liveInput([], true);
    const ran = await run(script, input);
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toBe(stdout);
    expect(ran.code).toBe(0);
    expect(input.waited).toBe(false);
  });
});

describe('a script that reads stdin gets it, once', () => {
  const cases: Array<[string, string, string[], string]> = [
    ['read', 'read x; echo "got $x"', ['hello\n'], 'got hello\n'],
    ['read in a loop, after other commands', 'echo start; cat data/fruit.txt | wc -l; while read -r l; do echo "[$l]"; done; echo end', ['a b\n', 'c\n'], 'start\n2\n[a b]\n[c]\nend\n'],
    ['a built-in command reads it when it runs', 'echo before; tr a-z A-Z; echo after', ['abc\n', 'def\n'], 'before\nABC\nDEF\nafter\n'],
    ['what one command read is gone for the next', 'cat; echo ---; cat; echo end', ['only once\n'], 'only once\n---\nend\n'],
    ['a command substitution', 'x=$(cat); echo "[$x]"', ['typed\n'], '[typed]\n'],
    ['a script by path that reads', 'echo first; ./reader.sh; echo last', ['line one\n'], 'first\nreader got [line one]\nlast\n'],
    ['a nested sh -c that reads', 'echo a; sh -c \'read -r y; echo "nested $y"\'', ['deep\n'], 'a\nnested deep\n'],
    ['a sourced file that reads', '. ./lib.sh; echo "lib read $libline"', ['from lib\n'], 'lib read from lib\n'],
    ['mapfile', 'mapfile -t rows; echo "${#rows[@]} rows, last ${rows[1]}"', ['r1\nr2\n'], '2 rows, last r2\n'],
  ];
  it.each(cases)('%s', async (_, script, typed, stdout) => {
    const input = liveInput(typed, false);
    const ran = await run(script, input);
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toBe(stdout);
    expect(ran.code).toBe(0);
  });

  it('is not read at all by a script whose reading command never runs', async () => {
    const input = liveInput([], true);
    const ran = await run('if [ -f missing ]; then cat; fi; echo skipped', input);
    expect(ran.stdout).toBe('skipped\n');
    expect(input.reads).toBe(0);
  });
});

describe.skipIf(noTool !== undefined)(`Wasm programs in a script get the live input${noTool ? ` (skipped: ${noTool})` : ''}`, () => {
  const withTool = (): Record<string, BoxEntry> => ({ '/usr/local/bin/tool': { file: tool.bytes! } });

  it('a program that does not read leaves the open input alone', async () => {
    const input = liveInput([], true);
    const ran = await run('tool args one; echo between; tool upper < /dev/null; tool exit 0', input, withTool());
    expect(ran.stdout).toBe('argc=3 [/usr/local/bin/tool] [args] [one]\nbetween\n');
    expect(input.waited).toBe(false);
  });

  it('a program that reads gets the input as it comes, and the next command the rest', async () => {
    const input = liveInput(['abc\n', 'def\n'], false);
    const ran = await run('tool args one; tool upper; echo "rest: [$(cat)]"', input, withTool());
    expect(ran.stdout).toBe('argc=3 [/usr/local/bin/tool] [args] [one]\nABC\nDEF\nrest: []\n');
  });
});

describe('which scripts the interpreter itself reads stdin for', () => {
  const files: Record<string, string> = { './lib.sh': 'read x\n', './quiet.sh': 'echo hi\n', 'found.sh': 'mapfile a\n' };
  const cases: Array<[string, boolean]> = [
    ['read x', true],
    ['IFS= read -r line || true', true],
    ['if read -r x; then echo "$x"; fi', true],
    ['mapfile -t a', true],
    ['readarray a', true],
    ['echo $(read x)', true],
    ['f() { read x; }', true],
    ['command read x', true],
    ['timeout 5 read x', true],
    ['eval "read x"', true],
    ['eval "$cmd"', true],
    ['. ./lib.sh', true],
    ['. found.sh', true],
    ['. "$f"', true],
    ['. ./missing.sh', true],
    ['for x in; do', true],
    ['read x < file', false],
    ['read x <<< "word"', false],
    ['read x <&3', false],
    ['while read -r l; do echo "$l"; done < file', false],
    ['cat file | while read -r l; do echo "$l"; done', false],
    ['{ read a; read b; } < file', false],
    ['f() { read x; } < /dev/null', false],
    ['cat; grep x; wc -l', false],
    ['echo read; printf "%s" read', false],
    ['eval "echo hi"', false],
    ['. ./quiet.sh', false],
    ['$cmd x', false],
    ['', false],
  ];
  it.each(cases)('%j: %s', (script, reads) => {
    expect(readsShellStdin(script, (path) => files[path])).toBe(reads);
  });
});
