/**
 * Host directories mounted into a guest filesystem (-v): lazy loading, symlinks and `..` that stay in
 * the guest's namespace, read-only refusal, and the write-back of read-write mounts (each case: a host
 * tree, what the guest does, the host tree afterwards, every path of it).
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileNode, Vfs, VfsError } from '../../../runtime/core/vfs.js';
import { mountHost } from '../../../runtime/hosts/node-mount.js';
import { writeBack } from '../../../runtime/hosts/node-mount-sync.js';

type HostTree = Record<string, string | { link: string } | { dir: true }>;

let base: string;
let outside: string;
const enc = new TextEncoder();
const dec = new TextDecoder();

beforeEach(() => {
  base = mkdtempSync(join(existsShm() ? '/dev/shm' : tmpdir(), 'wasmbox-mount-'));
  outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'host-secret'), 'host secret\n');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

function existsShm(): boolean {
  return statSync('/dev/shm', { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** A host directory holding `tree` (directories are implied by paths or given as {dir: true}). */
function makeHost(name: string, tree: HostTree): string {
  const root = join(base, name);
  mkdirSync(root);
  for (const [path, what] of Object.entries(tree)) {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    if (typeof what === 'string') writeFileSync(full, what);
    else if ('link' in what) symlinkSync(what.link.replace('$OUTSIDE', outside), full);
    else mkdirSync(full, { recursive: true });
  }
  return root;
}

/** Every path under `root` with its content, link target or {dir}. */
function readHost(root: string, prefix = ''): HostTree {
  const tree: HostTree = {};
  for (const name of readdirSync(root).sort()) {
    const full = join(root, name);
    const st = lstatSync(full);
    if (st.isSymbolicLink()) tree[prefix + name] = { link: readlinkSync(full) };
    else if (st.isDirectory()) Object.assign(tree, { [prefix + name]: { dir: true } }, readHost(full, `${prefix}${name}/`));
    else tree[prefix + name] = readFileSync(full, 'utf8');
  }
  return tree;
}

/** A guest filesystem standing in for a box: its own /etc/passwd. */
function boxVfs(): Vfs {
  const vfs = Vfs.empty();
  vfs.mkdir('/etc');
  vfs.writeFile('/etc/passwd', enc.encode('box passwd\n'));
  vfs.mkdir('/tmp');
  return vfs;
}

function text(vfs: Vfs, path: string): string {
  const node = vfs.get(path);
  if (!(node instanceof FileNode)) throw new Error(`${path} is not a file`);
  return dec.decode(node.bytes());
}

describe('reading a mount', () => {
  it('shows the host files, lazily, sizes before bytes', () => {
    const host = makeHost('h', { 'a.txt': 'alpha', 'sub/b.txt': 'beta!' });
    const vfs = boxVfs();
    const mount = mountHost(vfs, { host, guest: '/data', readonly: false });
    expect(mount.root.loaded).toBe(false);
    expect([...(vfs.get('/data') as typeof mount.root).entries().keys()]).toEqual(['a.txt', 'sub']);
    expect((vfs.get('/data/sub/b.txt') as FileNode).size).toBe(5);
    writeFileSync(join(host, 'sub/b.txt'), 'changed on the host before the first read');
    expect(text(vfs, '/data/sub/b.txt')).toBe('changed on the host before the first read');
    expect(text(vfs, '/data/a.txt')).toBe('alpha');
  });

  it.each([
    ['an absolute link', { pw: { link: '/etc/passwd' } }, '/data/pw'],
    ['a relative link climbing out', { up: { link: '../../../../../../etc/passwd' } }, '/data/up'],
    ['a relative link from a subdirectory', { 'sub/up': { link: '../../etc/passwd' } }, '/data/sub/up'],
    ['a path with ..', {}, '/data/../../../../etc/passwd'],
  ] as const)('resolves %s inside the guest (the box\'s /etc/passwd)', (_name, tree, path) => {
    const host = makeHost('h', tree as HostTree);
    const vfs = boxVfs();
    mountHost(vfs, { host, guest: '/data', readonly: true });
    expect(text(vfs, path)).toBe('box passwd\n');
  });

  it('never reaches host files outside the mount through a link', () => {
    const host = makeHost('h', { s: { link: '$OUTSIDE/host-secret' }, d: { link: '$OUTSIDE' } });
    const vfs = boxVfs();
    mountHost(vfs, { host, guest: '/data', readonly: false });
    expect(() => vfs.get('/data/s')).toThrow(VfsError);
    expect(() => vfs.get('/data/d/host-secret')).toThrow(/ENOENT/);
  });

  it('refuses every change under :ro with EROFS and leaves the host alone', () => {
    const host = makeHost('h', { 'a.txt': 'alpha', 'sub/b.txt': 'beta' });
    const vfs = boxVfs();
    const mount = mountHost(vfs, { host, guest: '/data', readonly: true });
    const changes: [string, () => unknown][] = [
      ['writeFile', () => vfs.writeFile('/data/a.txt', enc.encode('x'))],
      ['create', () => vfs.writeFile('/data/new', enc.encode('x'))],
      ['mkdir', () => vfs.mkdir('/data/d')],
      ['unlink', () => vfs.unlink('/data/a.txt')],
      ['rmdir', () => vfs.unlink('/data/sub', { rmdir: true })],
      ['rename', () => vfs.rename('/data/a.txt', '/data/z')],
      ['rename out', () => vfs.rename('/data/a.txt', '/tmp/z')],
      ['symlink', () => vfs.symlink('/x', '/data/l')],
    ];
    for (const [name, change] of changes) expect(change, name).toThrow(/EROFS/);
    expect(writeBack([mount])).toEqual([]);
    expect(readHost(host)).toEqual({ 'a.txt': 'alpha', sub: { dir: true }, 'sub/b.txt': 'beta' });
  });

  it('hides names that are not UTF-8 and keeps them on the host', () => {
    const host = makeHost('h', { ok: '1' });
    writeFileSync(Buffer.concat([Buffer.from(host + '/caf'), Buffer.from([0xe9])]), 'latin1 name');
    const vfs = boxVfs();
    const mount = mountHost(vfs, { host, guest: '/data', readonly: false });
    expect([...mount.root.entries().keys()]).toEqual(['ok']);
    vfs.unlink('/data/ok');
    expect(writeBack([mount])).toEqual([]);
    expect(readdirSync(host, { encoding: 'buffer' }).map((b) => [...b])).toEqual([[...Buffer.from('caf'), 0xe9]]);
  });
});

describe('writing a read-write mount back', () => {
  const w = (vfs: Vfs, path: string, data: string): unknown => vfs.writeFile(path, enc.encode(data));
  const cases: { name: string; host: HostTree; guest: (vfs: Vfs) => unknown; after: HostTree }[] = [
    { name: 'nothing changed', host: { a: '1', 'd/b': '2' }, guest: (v) => text(v, '/data/d/b'), after: { a: '1', d: { dir: true }, 'd/b': '2' } },
    { name: 'a new file', host: {}, guest: (v) => w(v, '/data/new', 'n'), after: { new: 'n' } },
    { name: 'a changed file', host: { a: 'old' }, guest: (v) => w(v, '/data/a', 'new'), after: { a: 'new' } },
    { name: 'an appended file', host: { a: 'old' }, guest: (v) => (v.get('/data/a') as FileNode).write(3, enc.encode('+more')), after: { a: 'old+more' } },
    { name: 'a truncated file', host: { a: 'longer' }, guest: (v) => (v.get('/data/a') as FileNode).truncate(2), after: { a: 'lo' } },
    { name: 'a deleted file', host: { a: '1', b: '2' }, guest: (v) => v.unlink('/data/a'), after: { b: '2' } },
    { name: 'a new directory tree', host: {}, guest: (v) => (v.mkdir('/data/x/y', { recursive: true }), w(v, '/data/x/y/f', 'deep')), after: { x: { dir: true }, 'x/y': { dir: true }, 'x/y/f': 'deep' } },
    { name: 'a removed directory', host: { 'd/f': '1', k: '2' }, guest: (v) => (v.unlink('/data/d/f'), v.unlink('/data/d', { rmdir: true })), after: { k: '2' } },
    { name: 'an unread file renamed', host: { a: 'content of a' }, guest: (v) => v.rename('/data/a', '/data/z'), after: { z: 'content of a' } },
    { name: 'two unread files swapped', host: { a: 'A', b: 'B' }, guest: (v) => (v.rename('/data/a', '/data/t'), v.rename('/data/b', '/data/a'), v.rename('/data/t', '/data/b')), after: { a: 'B', b: 'A' } },
    { name: 'an unlisted directory renamed', host: { 'd/e/f': 'deep' }, guest: (v) => v.rename('/data/d', '/data/n'), after: { n: { dir: true }, 'n/e': { dir: true }, 'n/e/f': 'deep' } },
    { name: 'a file replaced by a directory', host: { a: 'file' }, guest: (v) => (v.unlink('/data/a'), v.mkdir('/data/a'), w(v, '/data/a/in', 'i')), after: { a: { dir: true }, 'a/in': 'i' } },
    { name: 'a directory replaced by a file', host: { 'a/in': 'i' }, guest: (v) => (v.unlink('/data/a/in'), v.unlink('/data/a', { rmdir: true }), w(v, '/data/a', 'file')), after: { a: 'file' } },
    { name: 'a file moved in from the box', host: {}, guest: (v) => v.rename('/etc/passwd', '/data/pw'), after: { pw: 'box passwd\n' } },
    { name: 'a file moved out to the box', host: { a: '1', b: '2' }, guest: (v) => v.rename('/data/a', '/tmp/a'), after: { b: '2' } },
    { name: 'a new symlink, kept as written', host: {}, guest: (v) => v.symlink('/etc/passwd', '/data/l'), after: { l: { link: '/etc/passwd' } } },
    { name: 'a host symlink replaced by a directory: the link goes, its target stays', host: { out: { link: '$OUTSIDE' } }, guest: (v) => (v.unlink('/data/out'), v.mkdir('/data/out'), w(v, '/data/out/x', 'in')), after: { out: { dir: true }, 'out/x': 'in' } },
    { name: 'a hardlink becomes two files', host: { a: 'shared' }, guest: (v) => v.hardlink(v.get('/data/a'), '/data/b'), after: { a: 'shared', b: 'shared' } },
  ];
  it.each(cases)('$name', (c) => {
    const host = makeHost('h', c.host);
    const vfs = boxVfs();
    const mount = mountHost(vfs, { host, guest: '/data', readonly: false });
    c.guest(vfs);
    expect(writeBack([mount])).toEqual([]);
    const after = JSON.parse(JSON.stringify(c.after).replaceAll('$OUTSIDE', outside)) as HostTree;
    expect(readHost(host)).toEqual(after);
    expect(readHost(outside), 'nothing outside HOST changes').toEqual({ 'host-secret': 'host secret\n' });
  });

  it('rewrites only what changed', () => {
    const host = makeHost('h', { same: 's', changed: 'c' });
    const before = lstatSync(join(host, 'same'), { bigint: true });
    const vfs = boxVfs();
    const mount = mountHost(vfs, { host, guest: '/data', readonly: false });
    text(vfs, '/data/same');
    w(vfs, '/data/changed', 'C');
    writeBack([mount]);
    expect(lstatSync(join(host, 'same'), { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    expect(readFileSync(join(host, 'changed'), 'utf8')).toBe('C');
  });

  it('writes modes', () => {
    const host = makeHost('h', { f: 'x' });
    const vfs = boxVfs();
    const mount = mountHost(vfs, { host, guest: '/data', readonly: false });
    const f = vfs.get('/data/f');
    f.mode = 0o600;
    f.touch(false);
    writeBack([mount]);
    expect(statSync(join(host, 'f')).mode & 0o777).toBe(0o600);
  });

  it('does not follow a symlink the host put in place of a file during the run', () => {
    const host = makeHost('h', { f: 'x' });
    const vfs = boxVfs();
    const mount = mountHost(vfs, { host, guest: '/data', readonly: false });
    w(vfs, '/data/f', 'from the guest');
    rmSync(join(host, 'f'));
    symlinkSync(join(outside, 'host-secret'), join(host, 'f'));
    writeBack([mount]);
    expect(readFileSync(join(outside, 'host-secret'), 'utf8')).toBe('host secret\n');
    expect(readHost(host)).toEqual({ f: 'from the guest' });
  });

  it('moves files between mounts, and leaves a nested mount\'s files in its own host directory', () => {
    const one = makeHost('one', { f: 'from one' });
    const two = makeHost('two', { g: 'from two' });
    const vfs = boxVfs();
    const mounts = [mountHost(vfs, { host: one, guest: '/m', readonly: false }), mountHost(vfs, { host: two, guest: '/m/sub', readonly: false })];
    vfs.rename('/m/f', '/m/sub/f');
    writeBack(mounts);
    expect(readHost(one)).toEqual({ sub: { dir: true } });
    expect(readHost(two)).toEqual({ f: 'from one', g: 'from two' });
  });

  it('reports what it cannot write and writes the rest', () => {
    const host = makeHost('h', { 'locked/f': 'x' });
    const vfs = boxVfs();
    const mount = mountHost(vfs, { host, guest: '/data', readonly: false });
    w(vfs, '/data/locked/new', 'n');
    w(vfs, '/data/ok', 'fine');
    chmodSync(join(host, 'locked'), 0o500);
    try {
      const warnings = writeBack([mount]);
      if (process.getuid?.() === 0) expect(warnings).toEqual([]); // root writes anyway
      else expect(warnings.join('\n')).toMatch(/locked\/new: cannot write back: EACCES/);
      expect(readFileSync(join(host, 'ok'), 'utf8')).toBe('fine');
    } finally {
      chmodSync(join(host, 'locked'), 0o755);
    }
  });
});
