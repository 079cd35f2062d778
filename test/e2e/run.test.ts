/**
 * `wasmbox run` end to end: real WASI guests (C from test/fixtures/run-src, compiled with clang here),
 * packed by `wasmbox build` (FROM scratch + COPY) and run through the real bin script. Covers docker's
 * command-line rules, exit codes, stdio streaming, timeouts, memory limits, mounts and signals.
 * The same host plumbing with a scripted launcher (no engine) is in test/runtime/hosts/node-host.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_CLANG, scratchDir } from '../helpers/fixtures.js';
import { type Compiled, REPO, type Run, compileWasmbox, finished, firstOutput } from '../runtime/hosts/compiled.js';

if (NO_CLANG) console.warn(`run e2e: skipping: ${NO_CLANG}`);

let wb: Compiled;
let tmp: { dir: string; remove: () => Promise<void> };
let box: string;
let n = 0;

const DOCKERFILE = `FROM scratch
COPY probe.wasm /bin/probe
COPY hello.wasm /bin/hello
COPY native /bin/native
COPY etc /etc
ENV GREETING=hi
WORKDIR /work
CMD ["probe", "args", "default"]
`;

beforeAll(async () => {
  if (NO_CLANG) return;
  [wb, tmp] = await Promise.all([compileWasmbox(), scratchDir('wasmbox-run-e2e-')]);
  const ctx = join(tmp.dir, 'ctx');
  await mkdir(join(ctx, 'etc'), { recursive: true });
  for (const name of ['probe', 'hello']) {
    execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-o', join(ctx, `${name}.wasm`), join(REPO, `test/fixtures/run-src/${name}.c`)]);
  }
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(ctx, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(ctx, 'native'), Buffer.from('\x7fELF\x02\x01\x01\0native program', 'latin1'), { mode: 0o755 });
  box = join(tmp.dir, 'box');
  const built = await wb.run(['build', '-q', '-o', box, ctx]);
  if (built.code !== 0) throw new Error(`wasmbox build failed: ${built.stderr}`);
}, 120_000);
afterAll(async () => Promise.all([wb?.remove(), tmp?.remove()]));

const run = (args: string[], opts?: Parameters<Compiled['run']>[1]): Promise<Run> => wb.run(['run', ...args], opts);

async function hostDir(content: Record<string, string> = {}): Promise<string> {
  const root = join(tmp.dir, `host${n++}`);
  await mkdir(root);
  for (const [path, text] of Object.entries(content)) await writeFile(join(root, path), text);
  return root;
}

describe.skipIf(NO_CLANG)('wasmbox run with WASI guests', () => {
  const cases: { name: string; args: () => string[]; env?: NodeJS.ProcessEnv; input?: string; code: number; stdout?: string | RegExp; stderr?: RegExp }[] = [
    { name: 'runs the Cmd', args: () => [box], code: 0, stdout: '["probe","args","default"]\n' },
    { name: 'a single guest module', args: () => [box, 'hello'], code: 0, stdout: 'hello from wasm\n' },
    { name: 'args after the box, dashes included', args: () => [box, 'probe', 'args', '-l', '--all', '-e', 'X'], code: 0, stdout: '["probe","args","-l","--all","-e","X"]\n' },
    { name: 'the guest\'s exit code', args: () => [box, 'probe', 'exit', '7'], code: 7 },
    { name: 'not found: 127', args: () => [box, 'nosuch'], code: 127, stderr: /nosuch/ },
    { name: 'a native binary: 126', args: () => [box, '/bin/native'], code: 126, stderr: /\/bin\/native: native ELF binary/ },
    { name: 'the environment: config, -e, -e K from the host, nothing else', args: () => ['-e', 'A=1', '-e', 'FROM_HOST', box, 'probe', 'env'], env: { FROM_HOST: 'h', HOST_ONLY: 'secret' }, code: 0, stdout: /^PATH=[^]*^GREETING=hi$[^]*^A=1$\n^FROM_HOST=h$/m },
    { name: 'the WorkingDir', args: () => [box, 'probe', 'pwd'], code: 0, stdout: '/work\n' },
    { name: '-w', args: () => ['-w', '/tmp', box, 'probe', 'pwd'], code: 0, stdout: '/tmp\n' },
    { name: '--entrypoint', args: () => ['--entrypoint', '/bin/hello', box], code: 0, stdout: 'hello from wasm\n' },
    { name: '--entrypoint with args', args: () => ['--entrypoint', 'probe', box, 'args', 'x'], code: 0, stdout: '["probe","args","x"]\n' },
    { name: 'stdin with -i', args: () => ['-i', box, 'probe', 'cat'], input: 'some input\n'.repeat(1000), code: 0, stdout: 'some input\n'.repeat(1000) },
    { name: 'no stdin without -i', args: () => [box, 'probe', 'cat'], input: 'not for the guest', code: 0, stdout: '' },
    { name: '--engine wasi', args: () => ['--engine', 'wasi', box, 'probe', 'exit', '0'], code: 0 },
  ];
  it.each(cases)('$name', async (c) => {
    const r = await run(c.args(), { env: c.env, input: c.input });
    expect(r.code, r.stderr).toBe(c.code);
    if (typeof c.stdout === 'string') expect(r.stdout).toBe(c.stdout);
    else if (c.stdout) expect(r.stdout).toMatch(c.stdout);
    if (c.stderr) expect(r.stderr).toMatch(c.stderr);
    expect(r.stdout + r.stderr).not.toContain('secret');
  });

  it('reads --env-file', async () => {
    const dir = await hostDir({ 'e.env': '# c\nX=1\nY=two words\n' });
    const r = await run(['--env-file', join(dir, 'e.env'), box, 'probe', 'env']);
    expect(r.stdout).toMatch(/^X=1\nY=two words$/m);
  });

  it('streams output as the guest writes it', async () => {
    const child = wb.spawn(['run', box, 'probe', 'tick', '1500']);
    const done = finished(child);
    const first = await firstOutput(child, /first\n/);
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('first\nsecond\n');
    expect(performance.now() - first.at).toBeGreaterThan(1000);
  });

  it('--timeout ends an endless loop: 124', async () => {
    const r = await run(['--timeout', '1', box, 'probe', 'spin']);
    expect(r.code).toBe(124);
    expect(r.stderr).toBe('wasmbox: timed out after 1 s\n');
  });

  it('--memory stops a memory bomb: 137', async () => {
    const r = await run(['--memory', '64m', box, 'probe', 'bomb']);
    expect(r.code).toBe(137);
    expect(r.stderr).toMatch(/^wasmbox: the guest ran out of memory \(--memory 64m\): .*raise the limit/m);
  });

  it('Ctrl-C ends the guest: 130', async () => {
    const child = wb.spawn(['run', box, 'probe', 'tick', '60000']);
    const done = finished(child);
    await firstOutput(child, /first/);
    child.kill('SIGINT');
    expect((await done).code).toBe(130);
  });

  it('-v: reads host files and writes changes back', async () => {
    const host = await hostDir({ 'in.txt': 'host text\n', 'old.txt': 'x' });
    const read = await run(['-v', `${host}:/data`, box, 'probe', 'read', '/data/in.txt']);
    expect(read.stdout).toBe('host text\n');
    const write = await run(['-v', `${host}:/data`, box, 'probe', 'write', '/data/new.txt', 'from wasm']);
    expect(write.code, write.stderr).toBe(0);
    expect(await readFile(join(host, 'new.txt'), 'utf8')).toBe('from wasm');
    const rm = await run(['-v', `${host}:/data`, box, 'probe', 'rm', '/data/old.txt']);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await readdir(host)).sort()).toEqual(['in.txt', 'new.txt']);
  });

  it('-v :ro refuses writes', async () => {
    const host = await hostDir({ 'in.txt': 'x' });
    const r = await run(['-v', `${host}:/data:ro`, box, 'probe', 'write', '/data/new.txt', 'y']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\/data\/new.txt: Read-only file system/);
    expect(await readdir(host)).toEqual(['in.txt']);
  });

  it.each([
    ['a mounted symlink to /etc/passwd', '/data/pw'],
    ['.. past the mount', '/data/../../../../etc/passwd'],
    ['a relative symlink climbing out', '/data/up'],
  ])('%s reads the box\'s /etc/passwd, not the host\'s', async (_name, path) => {
    const host = await hostDir();
    await symlink('/etc/passwd', join(host, 'pw'));
    await symlink('../../../../../../../etc/passwd', join(host, 'up'));
    const r = await run(['-v', `${host}:/data:ro`, box, 'probe', 'read', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('root:x:0:0:root:/root:/bin/sh\n');
  });

  it('lists a mounted directory', async () => {
    const host = await hostDir({ b: '', a: '' });
    await copyFile(join(host, 'a'), join(host, 'c'));
    const r = await run(['-v', `${host}:/data`, box, 'probe', 'ls', '/data']);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['a', 'b', 'c']);
  });
});
