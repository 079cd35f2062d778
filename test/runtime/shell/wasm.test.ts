// Wasm programs inside the built-in shell: found by name or path, fed from pipes, their output redirected
// into the box, their exit codes seen by `||`, `$?` and `set -e`. The module is tool.c compiled with clang.
import { describe, expect, it } from 'vitest';
import { NATIVE, makeBox, readText, runIn, type BoxEntry } from '../exec/box.js';
import { buildWasmTool, wasmEngineMissing } from '../exec/wasm-tool.js';

const [tool, engineMissing] = await Promise.all([buildWasmTool(), wasmEngineMissing()]);
const skip = tool.skip ?? engineMissing;

describe.skipIf(skip !== undefined)(`Wasm programs in the shell${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const box = (extra: Record<string, BoxEntry> = {}) =>
    makeBox({
      '/bin/busybox': { file: NATIVE.elf },
      '/bin/sh': { symlink: 'busybox' },
      '/usr/local/bin/tool': { file: tool.bytes! },
      '/app/bin/tool.wasm': { symlink: '/usr/local/bin/tool' },
      '/app/viatool': { file: '#!/usr/local/bin/tool args\n' },
      ...extra,
    });
  type Expect = { code?: number; stdout?: string; stderr?: RegExp; files?: Record<string, string> };
  const cases: Array<[string, string, Expect, Record<string, BoxEntry>?]> = [
    ['by name through PATH', 'tool args "a b"', { stdout: 'argc=3 [/usr/local/bin/tool] [args] [a b]\n' }],
    ['stdin from a pipe', 'printf "abc\\n" | tool upper | tr B b', { stdout: 'AbC\n' }],
    ['a heredoc as stdin', 'tool upper <<EOF\nhere $HOME\nEOF', { stdout: 'HERE /ROOT\n' }],
    ['exit codes reach || and $?', 'tool exit 3 || echo "failed $?"', { stdout: 'failed 3\n', stderr: /exiting with 3/ }],
    ['set -e stops on a failing module', 'set -e; tool exit 2; echo no', { code: 2 }],
    ['output redirected into a box file', 'tool args x > out.txt; tool upper < out.txt >> out.txt', { files: { '/app/out.txt': 'argc=3 [/usr/local/bin/tool] [args] [x]\nARGC=3 [/USR/LOCAL/BIN/TOOL] [ARGS] [X]\n' } }],
    ['command substitution', 'v=$(tool getenv HOME); echo "got $v"', { stdout: 'got HOME=/root\n' }],
    ['exported and prefix variables, nothing else', 'export A=1; B=2 tool getenv B; tool getenv A; C=3; tool getenv C', { stdout: 'B=2\nA=1\nC=(unset)\n' }],
    ['a relative path after cd', 'cd bin && ./tool.wasm', { stdout: 'argc=1 [/app/bin/tool.wasm]\n' }],
    ['a #! script whose interpreter is the module', './viatool q', { stdout: 'argc=4 [/usr/local/bin/tool] [args] [/app/viatool] [q]\n' }],
    ['a Wasm /usr/bin/ls runs instead of the built-in ls', 'ls -l', { stdout: 'argc=2 [/usr/bin/ls] [-l]\n' }, { '/usr/bin/ls': { file: tool.bytes! } }],
    ['a Wasm sh runs for sh -c', 'sh -c "echo hi"', { stdout: 'argc=3 [sh] [-c] [echo hi]\n' }, { '/usr/bin/sh': { file: tool.bytes! } }],
  ];
  it.each(cases)('%s', async (_, script, expected, extra) => {
    const vfs = box(extra);
    const ran = await runIn(vfs, ['bash', '-c', script], { cwd: '/app' });
    if (expected.stdout !== undefined) expect(ran.stdout).toBe(expected.stdout);
    if (expected.stderr) expect(ran.stderr).toMatch(expected.stderr);
    expect(ran.code).toBe(expected.code ?? 0);
    for (const [path, text] of Object.entries(expected.files ?? {})) expect(readText(vfs, path)).toBe(text);
  });

  // A stdin that hands out one line per read and notes, at its last read, whether output had already come.
  async function outputBeforeInputEnds(argv: string[]): Promise<{ early: boolean; stdout: string }> {
    const lines = ['abc\n', 'def\n'];
    const out: string[] = [];
    let early = false;
    const stdin = {
      read: () => {
        if (lines.length === 0) early = out.length > 0;
        return new TextEncoder().encode(lines.shift() ?? '');
      },
    };
    const { launch } = await import('../../../runtime/core/exec.js');
    await launch({ argv, env: ['PATH=/usr/local/bin:/bin'], cwd: '/app', vfs: box(), stdin, stdout: (b) => out.push(new TextDecoder().decode(b)), stderr: () => {} });
    return { early, stdout: out.join('') };
  }

  it('streams a script that is one program: output comes while input is still being read', async () => {
    expect(await outputBeforeInputEnds(['sh', '-c', 'exec tool upper'])).toEqual({ early: true, stdout: 'ABC\nDEF\n' });
  });

  it('buffers other scripts: all input is read before the script starts', async () => {
    expect(await outputBeforeInputEnds(['sh', '-c', 'tool upper; echo done'])).toEqual({ early: false, stdout: 'ABC\nDEF\ndone\n' });
  });

  it('runs a Wasm /bin/sh itself rather than the built-in shell', async () => {
    const ran = await runIn(box({ '/bin/sh': { file: tool.bytes! } }), ['/bin/sh', '-c', 'echo hi']);
    expect(ran).toMatchObject({ code: 0, stdout: 'argc=3 [/bin/sh] [-c] [echo hi]\n', log: [] });
  });
});
