import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadContext } from '../../src/build/context.js';
import type { WasmboxError } from '../../src/errors.js';
import type { Tree } from '../../src/fs/tree.js';

let root: string;
let ctx: string;
let outside: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wasmbox-context-'));
  ctx = join(root, 'ctx');
  outside = join(root, 'outside');
  await mkdir(ctx);
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'outside the context');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Write files (path → contents) under the context, creating parent directories. */
async function layout(files: Record<string, string>, base = ctx): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(base, path)), { recursive: true });
    await writeFile(join(base, path), text);
  }
}

/** The tree's paths with a one-letter kind, for whole-tree comparisons. */
function listing(tree: Tree): string[] {
  return [...tree.walk()].map(([path, node]) => `${node.kind[0]} ${path}`);
}

const IGNORE = `# build junk
node_modules
*.log
!keep.log
vendor
!vendor/wanted
`;

describe('loadContext', () => {
  it('honours .dockerignore, including an exception under an excluded directory', async () => {
    await layout({
      '.dockerignore': IGNORE,
      Dockerfile: 'FROM scratch\n',
      'src/main.js': 'console.log(1)\n',
      'node_modules/a/index.js': 'x',
      'app.log': 'noise',
      'keep.log': 'kept',
      'vendor/x.txt': 'dropped',
      'vendor/wanted/y.txt': 'kept',
      'vendor/unwanted/z.txt': 'dropped',
    });
    const tree = await loadContext(ctx);
    expect(listing(tree)).toEqual([
      'f /.dockerignore',
      'f /Dockerfile',
      'f /keep.log',
      'd /src',
      'f /src/main.js',
      'd /vendor',
      'd /vendor/wanted',
      'f /vendor/wanted/y.txt',
    ]);
    const main = tree.get('/src/main.js');
    expect(main?.kind === 'file' && Buffer.from(main.data).toString()).toBe('console.log(1)\n');
  });

  it('keeps permission bits and whole-second mtimes, and makes everything root-owned', async () => {
    await layout({ 'bin/run.sh': '#!/bin/sh\n', 'private.key': 'k', 'shared.txt': 's' });
    const modes: Array<[string, number]> = [['bin/run.sh', 0o755], ['private.key', 0o600], ['shared.txt', 0o640], ['bin', 0o750], ['.', 0o711]];
    for (const [path, mode] of modes) await chmod(join(ctx, path), mode);
    await utimes(join(ctx, 'shared.txt'), 1_600_000_000.75, 1_600_000_000.75);
    await utimes(join(ctx, 'bin'), 1_500_000_000, 1_500_000_000);
    const tree = await loadContext(ctx);
    for (const [path, mode] of modes) expect([path, tree.get(path)?.mode]).toEqual([path, mode]);
    expect(tree.get('/shared.txt')?.mtime).toBe(1_600_000_000);
    expect(tree.get('/bin')?.mtime).toBe(1_500_000_000);
    for (const [, node] of tree.walk()) expect([node.uid, node.gid]).toEqual([0, 0]);
  });

  it('keeps symlinks as written and never reads through them', async () => {
    await layout({ 'real.txt': 'r' });
    await symlink(join(outside, 'secret.txt'), join(ctx, 'to-secret'));
    await symlink(outside, join(ctx, 'to-outside-dir'));
    await symlink('../outside/secret.txt', join(ctx, 'relative-out'));
    await symlink('real.txt', join(ctx, 'to-real'));
    await symlink('nowhere', join(ctx, 'dangling'));
    const tree = await loadContext(ctx);
    const targets = Object.fromEntries([...tree.walk()].map(([p, n]) => [p, n.kind === 'symlink' ? n.target : n.kind]));
    expect(targets).toEqual({
      '/dangling': 'nowhere',
      '/real.txt': 'file',
      '/relative-out': '../outside/secret.txt',
      '/to-outside-dir': outside,
      '/to-real': 'real.txt',
      '/to-secret': join(outside, 'secret.txt'),
    });
    expect(tree.get('/to-outside-dir/secret.txt')).toBeUndefined();
  });

  it('skips sockets', async () => {
    await layout({ 'a.txt': 'a' });
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(join(ctx, 'sock'), resolve));
    try {
      expect(listing(await loadContext(ctx))).toEqual(['f /a.txt']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('prefers <Dockerfile>.dockerignore over .dockerignore', async () => {
    await layout({ '.dockerignore': 'a.txt\n', 'app.Dockerfile.dockerignore': 'b.txt\n', 'app.Dockerfile': 'FROM scratch\n', 'a.txt': 'a', 'b.txt': 'b' });
    const specific = await loadContext(ctx, { dockerfilePath: join(ctx, 'app.Dockerfile') });
    expect(listing(specific)).toEqual(['f /.dockerignore', 'f /a.txt', 'f /app.Dockerfile', 'f /app.Dockerfile.dockerignore']);
    const fallback = await loadContext(ctx, { dockerfilePath: join(ctx, 'Dockerfile') });
    expect(listing(fallback)).toEqual(['f /.dockerignore', 'f /app.Dockerfile', 'f /app.Dockerfile.dockerignore', 'f /b.txt']);
  });

  it('finds <Dockerfile>.dockerignore next to a Dockerfile outside the context', async () => {
    await layout({ 'a.txt': 'a', 'b.txt': 'b' });
    await layout({ 'Dockerfile.dockerignore': 'a.txt\n' }, outside);
    expect(listing(await loadContext(ctx, { dockerfilePath: join(outside, 'Dockerfile') }))).toEqual(['f /b.txt']);
  });

  it('loads thousands of files', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) files[`d${i % 20}/f${i}.txt`] = String(i);
    await layout(files);
    const tree = await loadContext(ctx);
    expect([...tree.walk()].filter(([, n]) => n.kind === 'file')).toHaveLength(2000);
    const f = tree.get('/d7/f1987.txt');
    expect(f?.kind === 'file' && Buffer.from(f.data).toString()).toBe('1987');
  });
});

describe('loadContext errors', () => {
  async function failure(promise: Promise<unknown>): Promise<WasmboxError> {
    return promise.then(
      () => expect.fail('expected loadContext to fail'),
      (err: WasmboxError) => err,
    );
  }

  it('reports a missing context directory', async () => {
    const err = await failure(loadContext(join(root, 'nope')));
    expect([err.code, err.value]).toEqual(['CONTEXT', join(root, 'nope')]);
    expect(err.hint).toBeTruthy();
  });

  it('reports a context that is a file', async () => {
    await layout({ 'f.txt': 'x' });
    const err = await failure(loadContext(join(ctx, 'f.txt')));
    expect([err.code, err.message]).toEqual(['CONTEXT', expect.stringContaining('not a directory')]);
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable file unless it is excluded', async () => {
    await layout({ 'locked.txt': 'x', 'ok.txt': 'y' });
    await chmod(join(ctx, 'locked.txt'), 0);
    const err = await failure(loadContext(ctx));
    expect([err.code, err.value]).toEqual(['CONTEXT', join(ctx, 'locked.txt')]);
    await writeFile(join(ctx, '.dockerignore'), 'locked.txt\n');
    expect(listing(await loadContext(ctx))).toEqual(['f /.dockerignore', 'f /ok.txt']);
  });

  it('reports a bad .dockerignore pattern with its file and line', async () => {
    await layout({ '.dockerignore': '*.log\n\nsrc/[oops\n' });
    const err = await failure(loadContext(ctx));
    expect([err.code, err.location]).toEqual(['DOCKERIGNORE', { file: join(ctx, '.dockerignore'), line: 3 }]);
  });
});
