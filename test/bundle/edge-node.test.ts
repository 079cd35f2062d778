/**
 * The node bundle: `node DIST/run.js [OPTIONS] [ARGS]` runs the bundled box as `wasmbox run` does, from
 * a directory that holds nothing of the repository (the bundle is copied away from node_modules first).
 */
import { spawn } from 'node:child_process';
import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withBox } from '../../src/bundle/node-launcher.js';
import { TARGETS } from '../../src/bundle/targets.js';
import { scratchDir } from '../helpers/fixtures.js';
import { type Compiled, type Run, compileWasmbox, finished } from '../runtime/hosts/compiled.js';
import { type Boxes, NO_CLANG, buildBoxes } from './edge-boxes.js';

describe('withBox: the launcher words as wasmbox run words', () => {
  it.for([
    { argv: [], want: ['--', 'B'] },
    { argv: ['a', '-l'], want: ['--', 'B', 'a', '-l'] },
    { argv: ['-e', 'K=V', 'a', '-l'], want: ['-e', 'K=V', '--', 'B', 'a', '-l'] },
    { argv: ['-i', '--', '-x'], want: ['-i', '--', 'B', '-x'] },
    { argv: ['-e', 'K=V'], want: ['-e', 'K=V', '--', 'B'] },
    { argv: ['sh', '-c', 'x', '--', 'y'], want: ['--', 'B', 'sh', '-c', 'x', '--', 'y'] },
    { argv: ['-e', 'K=V', '--', '-e', 'x'], want: ['-e', 'K=V', '--', 'B', '-e', 'x'] },
    { argv: ['-e', '--'], want: ['-e', '--', '--', 'B'] },
    { argv: ['-e'], want: ['--', 'B', '-e'] },
    { argv: ['--not-an-option', 'x'], want: ['--', 'B', '--not-an-option', 'x'] },
  ])('$argv', ({ argv, want }) => {
    expect(withBox('B', argv)).toEqual(want);
  });
});

let cli: Compiled;
let tmp: { dir: string; remove: () => Promise<void> };
let boxes: Boxes;
const dists: Record<string, string> = {};

beforeAll(async () => {
  [cli, tmp] = await Promise.all([compileWasmbox(), scratchDir('wasmbox-edge-node-')]);
  boxes = await buildBoxes(cli, tmp.dir);
  const writer = await TARGETS.node();
  for (const name of ['cgi', 'python', ...(boxes.hello ? ['hello', 'wasix'] : [])] as const) {
    const dist = join(tmp.dir, `node-${name}`);
    await writer(boxes[name]!, dist, {});
    // Away from the repository, so nothing resolves through its node_modules.
    dists[name] = join(tmp.dir, 'moved', name);
    await cp(dist, dists[name], { recursive: true });
  }
}, 180_000);
afterAll(async () => Promise.all([cli?.remove(), tmp?.remove()]));

function runJs(name: string, args: string[], input = ''): Promise<Run> {
  const child = spawn(process.execPath, [join(dists[name], 'run.js'), ...args], { cwd: tmp.dir, env: { PATH: process.env.PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(input);
  return finished(child);
}

describe('node DIST/run.js', () => {
  it('runs the C program with its Cmd, or with the given args and options', async ({ skip }) => {
    if (!boxes.hello) skip(NO_CLANG!);
    expect(await runJs('hello', [])).toMatchObject({ code: 0, stdout: 'hello, world\nrunning in /work as wasmbox\n' });
    expect(await runJs('hello', ['-e', 'GREETER=me', '-w', '/tmp', 'you', '7'])).toMatchObject({ code: 7, stdout: 'hello, you\nrunning in /tmp as me\n' });
  });

  it('gives stdin with -i and reports a missing command as wasmbox run does', async () => {
    const r = await runJs('cgi', ['-i', '-e', 'PATH_INFO=/env', '-e', 'REQUEST_METHOD=PUT'], 'from stdin');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^REQUEST_METHOD=PUT$/m);
    expect(r.stdout).toMatch(/^STDIN=from stdin$/m);
    const missing = await runJs('cgi', ['--entrypoint', '/no/such']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/\/no\/such/);
  });

  it('runs Python with the Pyodide files it carries', async () => {
    expect(await readdir(join(dists.python, 'node_modules'))).toEqual(['pyodide']);
    const r = await runJs('python', []);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/^python 3\.\d+: top words \[\('the', 4\), \('same', 2\), \('in', 2\)\]\n/);
  }, 60_000);

  it('runs a WASIX program with the @wasmer/sdk it carries', async ({ skip }) => {
    if (!boxes.wasix) skip(NO_CLANG!);
    expect(await readdir(join(dists.wasix, 'node_modules'))).toEqual(['@mercuryworkshop', '@wasmer']);
    expect(await runJs('wasix', ['cwd', 'exit:5'])).toMatchObject({ code: 5, stdout: '/work\n' });
  }, 60_000);

  it('carries no interpreter files a box does not need', async () => {
    expect(await readdir(dists.cgi)).toEqual(['box', 'lib', 'package.json', 'run.js']);
  });
});
