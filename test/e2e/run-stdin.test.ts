/**
 * `wasmbox run -i` with a stdin nobody closes (docker's `docker run -i box` from a pipe or a terminal): a box
 * whose command never reads stdin ends on its own, and one that reads it gets what was written. The shell
 * example runs a multi-command script in the built-in shell; the WASIX guest (test/fixtures/wasix-src,
 * clang with wasi-libc) runs in @wasmer/sdk, whose stdin is fed without blocking the sdk's thread.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_CLANG, scratchDir } from '../helpers/fixtures.js';
import { type Compiled, REPO, type Run, compileWasmbox, finished } from '../runtime/hosts/compiled.js';


let wb: Compiled;
let tmp: { dir: string; remove: () => Promise<void> };
const boxes: { shell?: string; wasix?: string } = {};

beforeAll(async () => {
  [wb, tmp] = await Promise.all([compileWasmbox(), scratchDir('wasmbox-run-stdin-')]);
  boxes.shell = await build(join(REPO, 'examples/shell'), 'shell');
  if (!NO_CLANG) boxes.wasix = await build(await wasixContext(), 'wasix');
}, 180_000);
afterAll(async () => Promise.all([wb?.remove(), tmp?.remove()]));

async function build(context: string, name: string): Promise<string> {
  const out = join(tmp.dir, name);
  const r = await wb.run(['build', '-q', '-o', out, context]);
  if (r.code !== 0) throw new Error(`wasmbox build ${name} failed: ${r.stderr}`);
  return out;
}

async function wasixContext(): Promise<string> {
  const dir = join(tmp.dir, 'wasix-context');
  await mkdir(dir, { recursive: true });
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-DWASIX', '-o', join(dir, 'guest.wasm'), join(REPO, 'test/fixtures/wasix-src/guest.c')]);
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY guest.wasm /bin/guest\nWORKDIR /work\nENTRYPOINT ["/bin/guest"]\nCMD ["cwd", "exit:6"]\n');
  return dir;
}

/** Run with -i, write `input` and leave stdin open; a run still going after 30 s is killed (signal SIGKILL). */
async function runOpen(args: string[], input = ''): Promise<Run> {
  const child = wb.spawn(['run', '-i', ...args], { input: null });
  if (input) child.stdin.write(input);
  const run = await finished(child);
  child.stdin.destroy();
  return run;
}

const FRUIT = /^apples: 3\npears: 5\nplums: 2\nfruit in stock: 10\nbuilt on \d{4} by RUN\nfiles: data\/built.txt data\/fruit.txt data\/index.txt\s*$/;

describe('wasmbox run -i with stdin left open: the built-in shell', () => {
  it('runs the shell example, which never reads stdin, to its end', async () => {
    const r = await runOpen([boxes.shell!], 'typed but never read\n');
    expect(r.signal, 'the run was still waiting for stdin after 30 s').toBeNull();
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(FRUIT);
    expect(r.code).toBe(0);
  }, 60_000);

  it('runs a script whose built-in commands read files, not stdin', async () => {
    const r = await runOpen([boxes.shell!, 'sh', '-c', 'wc -l < data/fruit.txt; cat data/fruit.txt | head -n 1; sh ./report.sh > /tmp/r; tail -n 1 /tmp/r | cut -c1-6']);
    expect(r.signal, 'the run was still waiting for stdin after 30 s').toBeNull();
    expect(r.stdout).toBe('3\napples 3\nfiles:\n');
    expect(r.code).toBe(0);
  }, 60_000);
});

describe('wasmbox run -i: a script that reads stdin gets it', () => {
  const cases: { name: string; script: string; input: string; stdout: string }[] = [
    { name: 'read', script: 'read x; echo "got $x"', input: 'hello\n', stdout: 'got hello\n' },
    { name: 'a built-in command after other commands', script: 'echo start; tr a-z A-Z; echo end', input: 'abc\ndef\n', stdout: 'start\nABC\nDEF\nend\n' },
    { name: 'a loop over the input', script: 'n=0; while read -r l; do n=$((n + 1)); done; echo "$n lines"', input: 'a\nb\nc\n', stdout: '3 lines\n' },
  ];
  it.each(cases)('$name', async (c) => {
    const r = await wb.run(['run', '-i', boxes.shell!, 'sh', '-c', c.script], { input: c.input });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(c.stdout);
    expect(r.code).toBe(0);
  }, 60_000);
});

describe.skipIf(NO_CLANG)(`wasmbox run -i: a WASIX guest (@wasmer/sdk)${NO_CLANG ? ` (skipped: ${NO_CLANG})` : ''}`, () => {
  it('ends on its own when it never reads the open stdin', async () => {
    const r = await runOpen([boxes.wasix!], 'typed but never read\n');
    expect(r.signal, 'the run was still waiting for stdin after 30 s').toBeNull();
    expect(r.stdout).toBe('/work\n');
    expect(r.code).toBe(6);
  }, 60_000);

  it('reads stdin to its end when it does read it', async () => {
    const r = await wb.run(['run', '-i', boxes.wasix!, 'cat', 'exit:3'], { input: 'through the sdk\n' });
    expect(r.stdout).toBe('through the sdk\n');
    expect(r.code).toBe(3);
  }, 60_000);
});
