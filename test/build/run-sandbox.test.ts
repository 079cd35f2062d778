/**
 * The stage Tree seen as a guest filesystem and back: whatever a guest does through the Vfs, applying the
 * recorded layer to the tree must give exactly the filesystem the guest left (mounts aside), while paths
 * the guest never touched keep their nodes (and bytes) as they were.
 */
import { describe, expect, it } from 'vitest';
import { DirNode as VDir, FileNode as VFile, type Inode, SymlinkNode as VLink, type Vfs } from '../../runtime/core/vfs.js';
import { Sandbox, TreeMirror } from '../../src/build/sandbox.js';
import { applyLayerBytes, changesOf, layerBytes } from '../../src/build/sandbox-diff.js';
import { type FileNode, type Node, Tree, compareNames, dir } from '../../src/fs/tree.js';

const T0 = 1_000_000_000;
const text = (s: string) => new TextEncoder().encode(s);
const file = (s: string, mode = 0o644, uid = 0, gid = 0): FileNode => ({ kind: 'file', data: text(s), mode, uid, gid, mtime: T0 });

/** A stage tree with a bit of everything: nested dirs, owners, a symlink, a hardlinked pair, a device. */
function sampleTree(): Tree {
  const tree = new Tree(dir({ mode: 0o755, uid: 0, gid: 0, mtime: T0 }));
  const meta = { mode: 0o755, uid: 0, gid: 0, mtime: T0 };
  for (const d of ['/etc', '/usr', '/usr/bin', '/home', '/home/app', '/data', '/data/deep', '/data/deep/er']) tree.put(d, dir(d === '/home/app' ? { ...meta, uid: 1000, gid: 1000 } : meta));
  tree.put('/etc/passwd', file('root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n'));
  tree.put('/etc/hosts', file('127.0.0.1 localhost\n'));
  tree.put('/usr/bin/tool', file('\0asm', 0o755));
  tree.put('/data/deep/er/leaf', file('leaf'));
  tree.put('/data/keep', file('keep'));
  const linked = file('shared bytes');
  tree.put('/data/one', linked);
  tree.put('/usr/bin/two', linked);
  tree.put('/bin', { kind: 'symlink', target: 'usr/bin', mode: 0o777, uid: 0, gid: 0, mtime: T0 });
  tree.put('/dev-null', { kind: 'other', device: 'char', mode: 0o666, uid: 0, gid: 0, mtime: T0 });
  return tree;
}

type Row = [name: string, guest: (vfs: Vfs) => void];

const chmod = (vfs: Vfs, path: string, mode: number) => {
  const n = vfs.get(path);
  n.mode = mode;
  n.touch(false);
};

const ROWS: Row[] = [
  ['nothing', () => {}],
  ['read only', (vfs) => void (vfs.get('/etc/passwd') as VFile).bytes()],
  ['write a new file', (vfs) => vfs.writeFile('/f', text('hi\n'))],
  ['append to a file', (vfs) => { const f = vfs.get('/etc/hosts') as VFile; f.write(f.size, text('::1 localhost\n')); }],
  ['mkdir -p and touch', (vfs) => { vfs.mkdir('/a/b', { recursive: true }); vfs.createFile('/a/b/c'); }],
  ['rm a file', (vfs) => vfs.unlink('/etc/hosts')],
  ['rm -r a directory', (vfs) => { vfs.unlink('/data/deep/er/leaf'); vfs.unlink('/data/deep/er', { rmdir: true }); vfs.unlink('/data/deep', { rmdir: true }); }],
  ['chmod', (vfs) => chmod(vfs, '/usr/bin/tool', 0o700)],
  ['chown', (vfs) => { const n = vfs.get('/data/keep'); n.uid = 7; n.gid = 8; n.touch(false); }],
  ['make a symlink', (vfs) => vfs.symlink('/etc/hosts', '/hosts-link')],
  ['replace a symlink by a directory', (vfs) => { vfs.unlink('/bin'); vfs.mkdir('/bin'); vfs.writeFile('/bin/sh', text('x')); }],
  ['replace a directory by a new one', (vfs) => { vfs.unlink('/data/deep/er/leaf'); vfs.unlink('/data/deep/er', { rmdir: true }); vfs.mkdir('/data/deep/er'); vfs.writeFile('/data/deep/er/new', text('n')); }],
  ['replace a file by a directory', (vfs) => { vfs.unlink('/data/keep'); vfs.mkdir('/data/keep'); }],
  ['move a directory the guest never listed', (vfs) => vfs.rename('/data/deep', '/moved')],
  ['rename a file', (vfs) => vfs.rename('/etc/hosts', '/etc/hosts.bak')],
  ['write through one hardlink', (vfs) => (vfs.get('/data/one') as VFile).write(0, text('SHARED'))],
  ['hardlink an existing file', (vfs) => vfs.hardlink(vfs.get('/data/keep'), '/keep-too')],
  ['unlink one of two hardlinks', (vfs) => vfs.unlink('/usr/bin/two')],
  ['write through a symlinked directory', (vfs) => vfs.writeFile('/bin/new-tool', text('t'))],
  ['delete everything', (vfs) => { for (const name of [...vfs.root.entries().keys()]) removeAll(vfs, `/${name}`); }],
];

function removeAll(vfs: Vfs, path: string): void {
  const node = vfs.get(path, { follow: false });
  if (node instanceof VDir) for (const name of [...node.entries().keys()]) removeAll(vfs, `${path}/${name}`);
  vfs.unlink(path, { rmdir: node instanceof VDir });
}

describe('RUN changes: tree → guest filesystem → layer → tree', () => {
  it.each(ROWS)('%s', async (_name, guest) => {
    const tree = sampleTree();
    const untouched = new Map([...tree.walk()]);
    const sandbox = new Sandbox(tree);
    guest(sandbox.vfs);
    const expected = vfsListing(sandbox.vfs);
    const layer = changesOf(sandbox.mirror, sandbox.vfs.root);
    await applyLayerBytes(tree, await layerBytes(layer), 'test layer');
    expect(treeListing(tree)).toEqual(expected);
    // Paths that are not in the layer keep their very nodes: nothing outside the change was rebuilt.
    const inLayer = new Set([...layer.walk()].map(([p]) => p));
    for (const [path, node] of untouched) if (!inLayer.has(path) && tree.get(path, false) !== undefined) expect(tree.get(path, false)).toBe(node);
  });

  it('keeps hardlinks: a write through one path shows at the other, and a new link is the same inode', async () => {
    const tree = sampleTree();
    const sandbox = new Sandbox(tree);
    (sandbox.vfs.get('/data/one') as VFile).write(0, text('SHARED'));
    sandbox.vfs.hardlink(sandbox.vfs.get('/data/one'), '/third');
    await applyLayerBytes(tree, await layerBytes(changesOf(sandbox.mirror, sandbox.vfs.root)), 'layer');
    const one = tree.get('/data/one');
    expect(one).toBe(tree.get('/usr/bin/two'));
    expect(one).toBe(tree.get('/third'));
    expect(new TextDecoder().decode((one as FileNode).data)).toBe('SHARED bytes');
  });

  it('records nothing when the guest changed nothing, and never copies untouched bytes', () => {
    const tree = sampleTree();
    const sandbox = new Sandbox(tree);
    const bytes = (sandbox.vfs.get('/etc/passwd') as VFile).bytes();
    expect(bytes.buffer).toBe((tree.get('/etc/passwd') as FileNode).data.buffer);
    expect([...changesOf(sandbox.mirror, sandbox.vfs.root).walk()]).toEqual([]);
  });

  it('writes deletions as whiteouts and a replaced directory with an opaque marker', () => {
    const tree = sampleTree();
    const sandbox = new Sandbox(tree);
    sandbox.vfs.unlink('/etc/hosts');
    sandbox.vfs.unlink('/data/deep/er/leaf');
    sandbox.vfs.unlink('/data/deep/er', { rmdir: true });
    sandbox.vfs.mkdir('/data/deep/er');
    const paths = [...changesOf(sandbox.mirror, sandbox.vfs.root).walk()].map(([p]) => p);
    expect(paths).toEqual(['/data', '/data/deep', '/data/deep/er', '/data/deep/er/.wh..wh..opq', '/etc', '/etc/.wh.hosts']);
  });

  it('clamps the mtimes of changes to SOURCE_DATE_EPOCH and gives new files the RUN user when the engine left root', () => {
    const tree = sampleTree();
    const sandbox = new Sandbox(tree);
    sandbox.vfs.writeFile('/home/app/made', text('x'));
    const layer = changesOf(sandbox.mirror, sandbox.vfs.root, { clamp: 1_700_000_000, owner: { uid: 1000, gid: 1000 } });
    expect(layer.get('/home/app/made')).toMatchObject({ uid: 1000, gid: 1000, mtime: 1_700_000_000 });
    // The parent changed (a new entry), so it is recorded with the clamped time too; its owner is its own.
    expect(layer.get('/home/app')).toMatchObject({ uid: 1000, gid: 1000, mtime: 1_700_000_000 });
    expect(layer.get('/home')).toMatchObject({ uid: 0, mtime: T0 });
  });
});

describe('mounts over the sandbox', () => {
  it('hide what is below them, never reach the layer, and leave no stub directories', () => {
    const tree = sampleTree();
    const sandbox = new Sandbox(tree);
    const source = sampleTree();
    sandbox.attach('/mnt/src', new TreeMirror(sandbox.vfs, source, true).dir(source.root, '/'));
    sandbox.attach('/etc', new VDir(sandbox.vfs.ino(), 0o1777, 0, 0, 0n));
    expect(() => sandbox.vfs.writeFile('/mnt/src/x', text('no'))).toThrow(/EROFS/);
    expect(sandbox.vfs.lookup('/etc/passwd').node).toBeUndefined();
    sandbox.vfs.writeFile('/etc/in-tmpfs', text('gone'));
    sandbox.vfs.writeFile('/kept', text('yes'));
    sandbox.detachAll();
    expect(sandbox.vfs.lookup('/mnt').node).toBeUndefined();
    expect(sandbox.vfs.lookup('/etc/passwd').node).toBeInstanceOf(VFile);
    const paths = [...changesOf(sandbox.mirror, sandbox.vfs.root, { skip: sandbox.mounted }).walk()].map(([p]) => p);
    expect(paths).toEqual(['/kept']);
  });

  it('keep a stub directory the guest put something else in', () => {
    const sandbox = new Sandbox(sampleTree());
    sandbox.attach('/opt/cache/x', new VDir(sandbox.vfs.ino(), 0o755, 0, 0, 0n));
    sandbox.vfs.writeFile('/opt/cache/other', text('o'));
    sandbox.detachAll();
    const paths = [...changesOf(sandbox.mirror, sandbox.vfs.root, { skip: sandbox.mounted }).walk()].map(([p]) => p);
    expect(paths).toEqual(['/opt', '/opt/cache', '/opt/cache/other']);
  });

  it('refuse a target below a file', () => {
    const sandbox = new Sandbox(sampleTree());
    expect(() => sandbox.attach('/etc/hosts/x', new VDir(sandbox.vfs.ino(), 0o755, 0, 0, 0n))).toThrow(/hosts on the way is a file/);
  });
});

/** `path kind mode uid:gid mtime detail` for every path, symlink modes left out (the guest always shows 0777). */
function treeListing(tree: Tree): string[] {
  return [...tree.walk()].map(([path, node]) => line(path, node.kind, node.kind === 'symlink' ? 0 : node.mode, node.uid, node.gid, node.mtime, detail(node)));
}

function vfsListing(vfs: Vfs): string[] {
  const out: string[] = [];
  const visit = (d: VDir, prefix: string) => {
    for (const name of [...d.entries().keys()].sort(compareNames)) {
      const n = d.entries().get(name)!;
      const path = `${prefix}/${name}`;
      const seconds = Number(n.mtime / 1_000_000_000n);
      const extra = n instanceof VFile ? new TextDecoder().decode(n.bytes()) : n instanceof VLink ? `-> ${n.target}` : '';
      out.push(line(path, n.kind, n.kind === 'symlink' ? 0 : n.mode, n.uid, n.gid, seconds, extra));
      if (n instanceof VDir) visit(n, path);
    }
  };
  visit(vfs.root, '');
  return out;
}

function detail(node: Node): string {
  if (node.kind === 'file') return new TextDecoder().decode(node.data);
  return node.kind === 'symlink' ? `-> ${node.target}` : '';
}

function line(path: string, kind: Inode['kind'] | Node['kind'], mode: number, uid: number, gid: number, mtime: number, extra: string): string {
  return `${path} ${kind} ${(mode & 0o7777).toString(8)} ${uid}:${gid} ${mtime} ${JSON.stringify(extra)}`;
}
