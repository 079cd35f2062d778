/**
 * The Node host and `wasmbox run` around it, through the real bin script, with exec.js replaced by the
 * scripted fake-exec.js: what is tested is the plumbing (flags, environment, stdio streaming, exit
 * codes, timeouts, signals, memory containment, mounts), independent of any Wasm engine. The same
 * behaviours with real WASI guests are in test/e2e/run.test.ts.
 */
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../../helpers/fixtures.js';
import { type Compiled, type Run, compileWasmbox, finished, firstOutput } from './compiled.js';

let wb: Compiled;
let tmp: { dir: string; remove: () => Promise<void> };
let box: string;
let bare: string;
let n = 0;

const DOCKERFILE = `FROM scratch
COPY etc /etc
ENV GREETING=hi
WORKDIR /work
CMD ["args", "default"]
`;

beforeAll(async () => {
  [wb, tmp] = await Promise.all([compileWasmbox({ fakeExec: true }), scratchDir('wasmbox-host-')]);
  await files(join(tmp.dir, 'ctx'), {
    Dockerfile: DOCKERFILE,
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
    'etc/secret': 'the box secret\n',
  });
  await files(join(tmp.dir, 'bare-ctx'), { Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'x' });
  box = join(tmp.dir, 'box');
  bare = join(tmp.dir, 'bare');
  for (const [ctx, out] of [['ctx', box], ['bare-ctx', bare]]) {
    const built = await wb.run(['build', '-q', '-o', out, join(tmp.dir, ctx)]);
    expect(built.code, built.stderr).toBe(0);
  }
}, 120_000);
afterAll(async () => Promise.all([wb?.remove(), tmp?.remove()]));

async function files(root: string, content: Record<string, string>): Promise<string> {
  for (const [path, text] of Object.entries(content)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  await mkdir(root, { recursive: true });
  return root;
}

async function hostDir(content: Record<string, string> = {}): Promise<string> {
  return files(join(tmp.dir, `host${n++}`), content);
}

const run = (args: string[], opts?: Parameters<Compiled['run']>[1]): Promise<Run> => wb.run(['run', ...args], opts);

/** A run error as docker reports them: exit 125, `error:` first, no stack trace. */
function expectRunError(r: Run, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(125);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.split('\n')[0]).toMatch(/^error: /);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe('command line, environment and exit codes', () => {
  const cases: { name: string; args: (b: string) => string[]; env?: NodeJS.ProcessEnv; code: number; stdout?: string | RegExp; stderr?: RegExp }[] = [
    { name: 'runs the Cmd', args: (b) => [b], code: 0, stdout: '["args","default"]\n' },
    { name: 'args after the box replace the Cmd, dashes included', args: (b) => [b, 'args', '-l', '--all', '-e', 'X=1'], code: 0, stdout: '["args","-l","--all","-e","X=1"]\n' },
    { name: '-- ends the options', args: (b) => ['-e', 'A=1', '--', b, 'args', '--', '-x'], code: 0, stdout: '["args","--","-x"]\n' },
    { name: 'options may follow the box', args: (b) => [b, '-e', 'A=1', 'env'], code: 0, stdout: /^A=1$/m },
    { name: 'the exit code is the guest\'s', args: (b) => [b, 'exit', '42'], code: 42 },
    { name: 'exit 0', args: (b) => [b, 'exit', '0'], code: 0, stdout: '' },
    { name: 'a missing command exits 127', args: (b) => [b, 'nosuch'], code: 127, stderr: /^wasmbox: nosuch: not found$/m },
    { name: 'a trap exits 134', args: (b) => [b, 'trap'], code: 134, stderr: /the guest crashed: unreachable/ },
    { name: 'stdout and stderr are kept apart', args: (b) => [b, 'both'], code: 0, stdout: 'to stdout\n', stderr: /^to stderr$/m },
    { name: 'the config\'s Env, PATH and HOME, nothing from the host', args: (b) => [b, 'env'], env: { SECRET_HOST_VAR: 's3' }, code: 0, stdout: 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nGREETING=hi\nHOME=/root\n' },
    { name: '-e K=V overrides the config', args: (b) => ['-e', 'GREETING=yo', '--env=B=2', '-eC=3', b, 'env'], code: 0, stdout: /^GREETING=yo\n(.*\n)?B=2\nC=3$/m },
    { name: '-e K takes K from the host when set', args: (b) => ['-e', 'FROM_HOST', '-e', 'UNSET_ONE', b, 'env'], env: { FROM_HOST: 'v a=l' }, code: 0, stdout: /^FROM_HOST=v a=l$/m },
    { name: 'the WorkingDir', args: (b) => [b, 'pwd'], code: 0, stdout: '/work\n' },
    { name: '-w replaces it', args: (b) => ['-w', '/tmp/x', b, 'pwd'], code: 0, stdout: '/tmp/x\n' },
    { name: '--entrypoint replaces the Entrypoint and drops the Cmd', args: (b) => ['--entrypoint', 'args', b], code: 0, stdout: '["args"]\n' },
    { name: '--entrypoint with args', args: (b) => ['--entrypoint', 'args', b, 'one', '-two'], code: 0, stdout: '["args","one","-two"]\n' },
    { name: '--entrypoint \'\' clears it', args: (b) => ['--entrypoint', '', b, 'args', 'x'], code: 0, stdout: '["args","x"]\n' },
  ];
  it.each(cases)('$name', async (c) => {
    const r = await run(c.args(box), { env: c.env });
    expect(r.code, r.stderr).toBe(c.code);
    if (typeof c.stdout === 'string') expect(r.stdout).toBe(c.stdout);
    else if (c.stdout) expect(r.stdout).toMatch(c.stdout);
    if (c.stderr) expect(r.stderr).toMatch(c.stderr);
    if (c.name.includes('nothing from the host')) expect(r.stdout).not.toContain('SECRET');
  });

  it('reads --env-file: K=V, comments, K alone from the host, then -e on top', async () => {
    const dir = await hostDir({ 'vars.env': '\uFEFF# a comment\n\nA=1\n  B= spaced value \r\nFROM_HOST\nNOT_SET\nC=x=y\n' });
    const r = await run(['--env-file', join(dir, 'vars.env'), '-e', 'C=last', box, 'env'], { env: { FROM_HOST: 'h' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^A=1\nB= spaced value \nFROM_HOST=h\nC=last\nHOME=\/root\n$/m);
    expect(r.stdout).not.toContain('NOT_SET');
  });
});

describe('errors before the guest runs exit 125', () => {
  const cases: { name: string; args: (b: string) => string[]; message: RegExp }[] = [
    { name: 'no box', args: () => [], message: /name the box to run/ },
    { name: 'a missing box', args: () => ['/nonexistent/box'], message: /no box at \/nonexistent\/box/ },
    { name: 'a file as the box', args: () => [join(box, 'box.json')], message: /is a file, not a box directory/ },
    { name: 'a registry reference not in the cache, with --pull never', args: () => ['--pull', 'never', 'ghcr.io/acme/app:1.0'], message: /not in the cache, and --pull=never/ },
    { name: 'no command', args: () => [bare], message: /no command to run/ },
    { name: 'an unknown option', args: (b) => ['--evn', 'A=1', b], message: /unknown option --evn[^]*did you mean "--env"/ },
    { name: 'a flag without its value', args: (b) => [b, '-e'], message: /-e needs a value/ },
    { name: 'a bad memory size', args: (b) => ['--memory', '12q', b], message: /--memory: not a memory size \(got "12q"\)/ },
    { name: 'a tiny memory size', args: (b) => ['-m', '1k', b], message: /below one WebAssembly page/ },
    { name: 'a bad timeout', args: (b) => ['--timeout', '-3', b], message: /--timeout: .*positive number of seconds/ },
    { name: 'an unknown engine', args: (b) => ['--engine', 'v8', b], message: /--engine: unknown engine "v8"/ },
    { name: 'a relative workdir', args: (b) => ['-w', 'rel', b], message: /-w: the working directory must be an absolute path/ },
    { name: 'a volume without a guest path', args: (b) => ['-v', '/tmp', b], message: /-v: a volume is HOST:GUEST/ },
    { name: 'a relative guest path', args: (b) => ['-v', '/tmp:data', b], message: /the guest path data is not absolute/ },
    { name: 'a missing host directory', args: (b) => ['-v', '/nonexistent/dir:/data', b], message: /host directory \/nonexistent\/dir does not exist/ },
    { name: 'a volume mode', args: (b) => ['-v', '/tmp:/data:z', b], message: /unknown volume mode "z"/ },
  ];
  it.each(cases)('$name', async (c) => {
    expectRunError(await run(c.args(box)), c.message);
  });

  // Node itself scans every argument for --env-file, even after the script, and exits 9 when the file is
  // missing or unreadable, before wasmbox runs (Node 20; it does not load the file). The user still
  // learns which file it is; wasmbox's own message shows where Node lets it through.
  it('refuses a missing env file', async () => {
    const r = await run(['--env-file', '/nonexistent.env', box]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\/nonexistent\.env: not found|cannot read the env file \/nonexistent\.env/);
  });

  it('names the env-file line at fault', async () => {
    const dir = await hostDir({ 'bad.env': 'A=1\nB C=2\n' });
    expectRunError(await run(['--env-file', join(dir, 'bad.env'), box]), /bad\.env:2: --env-file: variable 'B C' contains whitespace/);
  });

  it('says a damaged box is damaged', async () => {
    const copy = join(tmp.dir, `damaged${n++}`);
    await mkdir(copy);
    for (const f of await readdir(box)) await writeFile(join(copy, f), await readFile(join(box, f)));
    await writeFile(join(copy, 'config.json'), '{}');
    expectRunError(await run([copy]), /box at .* is damaged: config.json does not match box.json/);
  });

  it('prints help and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: wasmbox run \[options\] BOX/);
  });
});

describe('stdio', () => {
  it('forwards stdin with -i, in full', async () => {
    const input = 'line one\nline two\n'.repeat(5000);
    const r = await run(['-i', box, 'cat'], { input });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(input);
  });

  it('gives an empty stdin without -i', async () => {
    const r = await run([box, 'cat'], { input: 'not for the guest' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('streams output as the guest writes it', async () => {
    const child = wb.spawn(['run', box, 'tick', '1500']);
    const started = performance.now();
    const done = finished(child);
    const first = await firstOutput(child, /first\n/);
    const r = await done;
    expect(r.code).toBe(0);
    expect(first.text).toBe('first\n');
    expect(performance.now() - first.at, 'the second line comes ~1.5 s after the first').toBeGreaterThan(1000);
    expect(first.at - started).toBeLessThan(1500);
  });

  it('passes stdin through as it arrives (the guest waits for more)', async () => {
    const child = wb.spawn(['run', '-i', box, 'cat'], { input: null });
    const done = finished(child);
    child.stdin.write('ping\n');
    const first = await firstOutput(child, /ping\n/);
    expect(first.text).toBe('ping\n');
    child.stdin.end('pong\n');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ping\npong\n');
  });

  it('keeps every byte of a large output in order', async () => {
    const r = await run([box, 'big', '20000']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(20000 * 1024);
    expect(r.stdout.split('\n').filter((l) => l !== '' && l !== 'x'.repeat(1023))).toEqual([]);
  });
});

describe('ending a guest', () => {
  it('--timeout ends an endless loop with 124', async () => {
    const started = performance.now();
    const r = await run(['--timeout', '0.5', box, 'spin']);
    expect(r.code).toBe(124);
    expect(r.stderr).toBe('wasmbox: timed out after 0.5 s\n');
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('--timeout ends a guest blocked on stdin', async () => {
    const child = wb.spawn(['run', '-i', '--timeout', '0.5', box, 'cat'], { input: null });
    const r = await finished(child);
    expect(r.code).toBe(124);
  });

  it('--memory contains a runaway in JavaScript: 137', async () => {
    const r = await run(['--memory', '64m', box, 'hog']);
    expect(r.code).toBe(137);
    expect(r.stderr).toBe('wasmbox: the guest ran out of memory (--memory 64m): its JavaScript heap reached the limit\n');
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s ends the guest with %i', async (signal, code) => {
    const child = wb.spawn(['run', box, 'tick', '60000']);
    const done = finished(child);
    await firstOutput(child, /first/);
    child.kill(signal);
    const r = await done;
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('first\n');
  });
});

describe('-v mounts through the CLI', () => {
  it('shows a host directory and writes the guest\'s changes back when the run ends', async () => {
    const host = await hostDir({ 'in.txt': 'from the host\n', 'gone.txt': 'x' });
    const r = await run(['-v', `${host}:/data`, box, 'do', 'read', '/data/in.txt', ';', 'write', '/data/out.txt', 'from the guest', ';', 'rm', '/data/gone.txt']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from the host\n');
    expect((await readdir(host)).sort()).toEqual(['in.txt', 'out.txt']);
    expect(await readFile(join(host, 'out.txt'), 'utf8')).toBe('from the guest');
  });

  it('writes back after a non-zero exit too', async () => {
    const host = await hostDir();
    const r = await run(['-v', `${host}:/data`, box, 'do', 'write', '/data/f', 'kept', ';', 'exit', '3']);
    expect(r.code).toBe(3);
    expect(await readFile(join(host, 'f'), 'utf8')).toBe('kept');
  });

  it('refuses writes under :ro and leaves the host alone', async () => {
    const host = await hostDir({ 'in.txt': 'x' });
    const r = await run(['-v', `${host}:/data:ro`, box, 'write', '/data/new', 'y']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/EROFS: read-only file system, open '\/data\/new'/);
    expect(await readdir(host)).toEqual(['in.txt']);
  });

  it('resolves a mounted symlink to /etc/passwd in the box, not on the host', async () => {
    const host = await hostDir();
    await symlink('/etc/passwd', join(host, 'pw'));
    const r = await run(['-v', `${host}:/data:ro`, box, 'read', '/data/pw']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('root:x:0:0:root:/root:/bin/sh\n');
  });

  it('accepts a relative host path and refuses a file as one', async () => {
    const host = await hostDir({ f: 'rel' });
    const r = await run(['-v', `./${join(host.slice(tmp.dir.length + 1))}:/data`, box, 'read', '/data/f'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('rel');
    expectRunError(await run(['-v', `${join(host, 'f')}:/data`, box]), /-v: the host directory .*\/f is not a directory/);
  });
});
