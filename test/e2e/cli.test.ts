/**
 * `wasmbox build` and `wasmbox inspect` as a user runs them: the real bin script in a child process,
 * on temporary directories. Covers the output contracts (text, --json, -q), the ways to name the
 * Dockerfile and build args, reproducible output, and misuse: every failure exits non-zero, starts
 * with `error:`, shows no stack trace, and leaves no half-written box behind.
 */
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../helpers/fixtures.js';
import { type Cli, type Run, REPO, compileCli } from './cli.js';

let cli: Cli;
let tmp: { dir: string; remove: () => Promise<void> };
let n = 0;

beforeAll(async () => {
  [cli, tmp] = await Promise.all([compileCli(), scratchDir('wasmbox-e2e-')]);
}, 60_000);
afterAll(async () => Promise.all([cli?.remove(), tmp?.remove()]));

/** A fresh directory holding `files` (path → text), under the test's scratch directory. */
async function dir(files: Record<string, string> = {}): Promise<string> {
  const root = join(tmp.dir, `d${n++}`);
  await mkdir(root, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

/** A user error as the CLI must print it: non-zero exit, `error:` first, no stack trace. */
function expectUserError(r: Run, pattern: RegExp): void {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr + r.stdout).not.toMatch(/^\s+at /m);
  expect(r.stderr.split('\n')[0], 'the first line of stderr').toMatch(/^error: /);
}

const STATIC_SITE = join(REPO, 'examples/static-site');

describe('build and inspect', () => {
  it('builds the example and inspects it as text', async () => {
    const out = join(await dir(), 'box');
    const built = await cli.run(['build', STATIC_SITE, '-o', out]);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/box written to .*box: \d+ paths/);
    const shown = await cli.run(['inspect', out]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^platform: +linux\/amd64$/m);
    expect(shown.stdout).toMatch(/^Cmd: +\["\/usr\/local\/bin\/serve\.sh"\]$/m);
    expect(shown.stdout).toMatch(/^User: +1000:1000$/m);
    expect(shown.stdout).toMatch(/^-rwxr-xr-x 0:0 +\d+ \/usr\/local\/bin\/serve\.sh$/m);
    // The example's .dockerignore keeps its backup file out.
    expect(shown.stdout).toContain('/srv/www/index.html\n');
    expect(shown.stdout).not.toContain('index.html.bak');
  });

  it('prints inspect --json as one object per path, in path order', async () => {
    const out = join(await dir(), 'box');
    expect((await cli.run(['build', STATIC_SITE, '-q', '-o', out])).code).toBe(0);
    const r = await cli.run(['inspect', '--json', out]);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(entries.length).toBeGreaterThan(3);
    for (const e of entries) {
      const keys = ['path', 'type', 'mode', 'uid', 'gid', 'size', ...(e.type === 'file' ? ['sha256'] : []), ...(e.type === 'symlink' ? ['target'] : []), 'mtime'];
      expect(Object.keys(e)).toEqual(keys);
      expect(e.path).toMatch(/^\/[^]+$/);
      expect(e.mode).toMatch(/^[0-7]{4}$/);
      expect(['file', 'dir', 'symlink', 'hardlink', 'other']).toContain(e.type);
      if (e.type === 'file') expect(e.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const paths = entries.map((e) => e.path as string);
    expect(paths).toEqual([...paths].sort());
    expect(entries.find((e) => e.path === '/usr/local/bin/serve.sh')).toMatchObject({ type: 'file', mode: '0755', uid: 0, gid: 0 });
  });

  it('reads the Dockerfile from stdin with -f - and names it <stdin> in errors', async () => {
    const ctx = await dir({ 'a.txt': 'a\n' });
    const out = join(ctx, 'box');
    const ok = await cli.run(['build', ctx, '-f', '-', '-q', '-o', out], { input: 'FROM scratch\nCOPY a.txt /from-stdin.txt\n' });
    expect(ok.code, ok.stderr).toBe(0);
    expect((await cli.run(['inspect', out])).stdout).toContain('/from-stdin.txt');
    const bad = await cli.run(['build', ctx, '-f', '-', '-q', '-o', join(ctx, 'bad')], { input: 'FROM scratch\nCOPPY a.txt /\n' });
    expectUserError(bad, /^error: <stdin>:2: COPPY: unknown instruction/);
  });

  it('takes -f relative to the working directory, with <Dockerfile>.dockerignore beside it', async () => {
    const root = await dir({
      'ctx/keep.txt': 'keep\n', 'ctx/skip.txt': 'skip\n', 'ctx/.dockerignore': 'keep.txt\n',
      'docker/app.Dockerfile': 'FROM scratch\nCOPY . /ctx/\n', 'docker/app.Dockerfile.dockerignore': 'skip.txt\n',
    });
    const r = await cli.run(['build', 'ctx', '-f', 'docker/app.Dockerfile', '-q', '-o', 'box'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const listing = (await cli.run(['inspect', join(root, 'box')])).stdout;
    expect(listing).toContain('/ctx/keep.txt');
    expect(listing).not.toContain('skip.txt');
  });

  it('takes --build-arg K from the environment, and skips it when the variable is unset', async () => {
    const ctx = await dir({ Dockerfile: 'FROM scratch\nARG FROM_ENV=default\nARG GIVEN\nLABEL env="$FROM_ENV" given="$GIVEN"\n' });
    const labels = async (args: string[], env: NodeJS.ProcessEnv) => {
      const out = join(ctx, `box${n++}`);
      const r = await cli.run(['build', ctx, ...args, '-q', '-o', out], { env });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(await readFile(join(out, 'config.json'), 'utf8')).config.Labels;
    };
    expect(await labels(['--build-arg', 'FROM_ENV', '--build-arg', 'GIVEN=x=y'], { FROM_ENV: 'from the env' })).toEqual({ env: 'from the env', given: 'x=y' });
    expect(await labels(['--build-arg', 'FROM_ENV'], {})).toEqual({ env: 'default', given: '' });
  });

  it('prints only the box directory with -q', async () => {
    const root = await dir({ Dockerfile: 'FROM scratch\n' });
    const r = await cli.run(['build', '.', '-q', '-o', 'out'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${join(root, 'out')}\n`);
    expect(r.stderr).toBe('');
  });

  it('builds --target with the stages it needs', async () => {
    const ctx = await dir({ Dockerfile: 'FROM scratch AS app\nLABEL stage=app\nFROM app\nRUN never\n' });
    const out = join(ctx, 'box');
    expect((await cli.run(['build', ctx, '--target', 'app', '-q', '-o', out])).code).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')).config.Labels).toEqual({ stage: 'app' });
  });
});

describe('reproducible output', () => {
  const files = { Dockerfile: 'FROM scratch\nWORKDIR /app\nCOPY . .\nCOPY <<EOF /made.txt\nmade\nEOF\n', 'a.txt': 'a\n', 'sub/b.txt': 'b\n', 'sub/c.txt': 'c\n' };

  /** A context written in the given file order, then given identical mtimes. */
  async function context(order: string[]): Promise<string> {
    const root = await dir();
    for (const name of order) {
      await mkdir(join(root, name, '..'), { recursive: true });
      await writeFile(join(root, name), files[name as keyof typeof files]);
    }
    for (const name of [...order, 'sub', '.']) await utimes(join(root, name), 1_600_000_000, 1_600_000_000);
    return root;
  }

  async function boxBytes(out: string): Promise<Record<string, Buffer>> {
    const names = (await readdir(out)).sort();
    return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await readFile(join(out, name))])));
  }

  it('writes byte-identical boxes with SOURCE_DATE_EPOCH, whatever the time or the order files were written', async () => {
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const names = Object.keys(files);
    const [first, second] = [await context(names), await context([...names].reverse())];
    const a = await cli.run(['build', first, '-q', '-o', join(first, '../box-a')], { env });
    await new Promise((r) => setTimeout(r, 1100));
    const b = await cli.run(['build', second, '-q', '-o', join(second, '../box-b')], { env });
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const [boxA, boxB] = [await boxBytes(join(first, '../box-a')), await boxBytes(join(second, '../box-b'))];
    expect(Object.keys(boxA)).toEqual(Object.keys(boxB));
    for (const name of Object.keys(boxA)) expect(boxA[name].equals(boxB[name]), name).toBe(true);
    expect(JSON.parse(boxA['config.json'].toString()).created).toBe('2023-11-14T22:13:20Z');
  });

  it('stamps the build time when SOURCE_DATE_EPOCH is not set', async () => {
    const root = await context(Object.keys(files));
    const before = Math.floor(Date.now() / 1000);
    expect((await cli.run(['build', root, '-q', '-o', join(root, '../box-now')])).code).toBe(0);
    const created = Date.parse(JSON.parse(await readFile(join(root, '../box-now/config.json'), 'utf8')).created) / 1000;
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  });
});

describe('misuse', () => {
  /** Each row: what the user typed (in a directory holding Dockerfile `FROM scratch`), and what the error must say. */
  const rows: Array<{ name: string; args: string[]; env?: NodeJS.ProcessEnv; error: RegExp }> = [
    { name: 'no command', args: [], error: /name a command/ },
    { name: 'unknown command', args: ['biuld', '.'], error: /unknown command biuld[^]*did you mean "build"/ },
    { name: 'missing -o', args: ['build', '.'], error: /output/ },
    { name: 'missing context', args: ['build', '-o', 'out'], error: /context|argument/ },
    { name: 'unknown flag', args: ['build', '.', '-o', 'out', '--taget', 'x'], error: /unknown option[^]*did you mean "--target"/ },
    { name: 'nonexistent context', args: ['build', 'no-such-dir', '-o', 'out'], error: /no-such-dir/ },
    { name: 'missing Dockerfile', args: ['build', '.', '-f', 'Nope.Dockerfile', '-o', 'out'], error: /cannot find the Dockerfile .*Nope\.Dockerfile/ },
    { name: 'bad --platform', args: ['build', '.', '-o', 'out', '--platform', 'linux/amd64/v9/extra'], error: /--platform: .*is not a platform/ },
    { name: 'bad --build-context', args: ['build', '.', '-o', 'out', '--build-context', 'no-equals-sign'], error: /--build-context: a build context must be NAME=REF/ },
    { name: 'bad --build-arg name', args: ['build', '.', '-o', 'out', '--build-arg', '1X=2'], error: /invalid build-arg name "1X"/ },
    { name: 'bad SOURCE_DATE_EPOCH', args: ['build', '.', '-o', 'out'], env: { SOURCE_DATE_EPOCH: 'yesterday' }, error: /SOURCE_DATE_EPOCH must be a whole number/ },
    { name: 'unknown --target', args: ['build', '.', '-o', 'out', '--target', 'nope'], error: /target stage "nope" could not be found/ },
    { name: 'inspect of a missing box', args: ['inspect', 'no-box-here'], error: /no box at no-box-here/ },
  ];

  it.each(rows)('$name', async ({ args, env, error }) => {
    const root = await dir({ Dockerfile: 'FROM scratch\n' });
    const r = await cli.run(args, { cwd: root, env });
    expect((await readdir(root)).sort()).toEqual(['Dockerfile']);
    expectUserError(r, error);
  });

  it('rejects a nonexistent context even when the Dockerfile comes from elsewhere', async () => {
    const root = await dir({ Dockerfile: 'FROM scratch\n' });
    const r = await cli.run(['build', 'no-such-dir', '-f', 'Dockerfile', '-o', 'out'], { cwd: root });
    expect(await readdir(root)).toEqual(['Dockerfile']);
    expectUserError(r, /no-such-dir/);
  });

  it('leaves no box and no temporary siblings when a build fails', async () => {
    const root = await dir({ Dockerfile: 'FROM scratch\nCOPY missing.txt /\n' });
    const r = await cli.run(['build', '.', '-o', 'out/box'], { cwd: root });
    const left = await readdir(join(root, 'out')).catch(() => []);
    expect(left).toEqual([]);
    expectUserError(r, /^error: Dockerfile:2: COPY: missing\.txt not found/m);
  });

  it('leaves an existing box untouched when a build fails', async () => {
    const root = await dir({ Dockerfile: 'FROM scratch\nLABEL v=1\n', 'Broken.Dockerfile': 'FROM scratch\nRUN make\n' });
    expect((await cli.run(['build', '.', '-q', '-o', 'box'], { cwd: root })).code).toBe(0);
    const before = await snapshot(join(root, 'box'));
    const r = await cli.run(['build', '.', '-f', 'Broken.Dockerfile', '-o', 'box'], { cwd: root });
    expect(await snapshot(join(root, 'box'))).toEqual(before);
    expect((await readdir(root)).sort()).toEqual(['Broken.Dockerfile', 'Dockerfile', 'box']);
    expectUserError(r, /^error: Broken\.Dockerfile:2: RUN make: exit code 127\n.*make: command not found/m);
  });

  it('refuses to replace a directory that is not a box', async () => {
    const root = await dir({ Dockerfile: 'FROM scratch\n', 'precious/notes.txt': 'keep me\n' });
    const r = await cli.run(['build', '.', '-o', 'precious'], { cwd: root });
    expect(await readdir(join(root, 'precious'))).toEqual(['notes.txt']);
    expect((await readdir(root)).sort()).toEqual(['Dockerfile', 'precious']);
    expectUserError(r, /precious exists and is not a box/);
  });
});

/** Every file of a directory with its bytes and mtime. */
async function snapshot(path: string): Promise<Record<string, { bytes: string; mtime: number }>> {
  const out: Record<string, { bytes: string; mtime: number }> = {};
  for (const name of (await readdir(path)).sort()) {
    out[name] = { bytes: (await readFile(join(path, name))).toString('base64'), mtime: (await stat(join(path, name))).mtimeMs };
  }
  return out;
}
