// Trees built in code for the box tests: one with every kind of node, and a way to rebuild any tree
// with its directories' insertion order reversed (walk order must not care).
import { Tree, dir, type DirNode, type FileNode, type Meta, type Node } from '../../src/fs/tree.js';
import type { ImageConfig } from '../../src/image/config.js';

const text = (s: string) => new TextEncoder().encode(s);
const meta = (mode: number, uid = 0, gid = 0, mtime = 1_700_000_000): Meta => ({ mode, uid, gid, mtime });

/** A regular file node. */
export function file(content: string | Uint8Array, m: Meta = meta(0o644)): FileNode {
  return { kind: 'file', data: typeof content === 'string' ? text(content) : content, ...m };
}

/** The long path used to exercise PAX names in tar (over 100 bytes, one component over 100 too). */
export const LONG_PATH = `/opt/${'d'.repeat(60)}/${'f'.repeat(110)}.txt`;

/** A tree holding every node kind: files (one empty, two with equal bytes), dirs, symlinks, hardlinks, setuid/sticky modes, a device. */
export function sampleTree(): Tree {
  const t = new Tree(dir(meta(0o755)));
  const sh = file('#!/bin/sh\necho hi\n', meta(0o755));
  t.mkdirp('/bin', meta(0o755));
  t.put('/bin/sh', sh);
  t.put('/bin/dash', file('#!/bin/sh\necho hi\n', meta(0o755))); // same bytes, different file
  t.put('/usr/bin/sh', sh); // hardlink: /bin/sh comes first in walk order
  t.put('/usr/bin/su', file('su', meta(0o4755)));
  t.put('/etc/empty', file(''));
  t.put('/etc/passwd', file('root:x:0:0:root:/root:/bin/sh\n'));
  t.put('/etc/naïve', file('unicode name\n'));
  t.put('/lib', { kind: 'symlink', target: 'usr/lib', ...meta(0o777) });
  t.mkdirp('/tmp', meta(0o1777));
  t.mkdirp('/home/user', meta(0o750, 1000, 1000));
  t.put('/dev/null', { kind: 'other', device: 'char', ...meta(0o666) });
  t.put(LONG_PATH, file('long\n', meta(0o600, 3_000_000, 70_000)));
  return t;
}

/** The same tree with every directory's children inserted in reverse order (same node objects). */
export function reversedTree(t: Tree): Tree {
  const seen = new Map<Node, Node>();
  const rebuild = (node: Node): Node => {
    if (node.kind !== 'dir') return node;
    const copy: DirNode = dir(node);
    for (const [name, child] of [...node.children].reverse()) copy.children.set(name, seen.get(child) ?? rebuild(child));
    seen.set(node, copy);
    return copy;
  };
  return new Tree(rebuild(t.root) as DirNode);
}

/** A small image config with every field inspect prints. */
export function sampleConfig(): ImageConfig {
  return {
    architecture: 'wasm32',
    os: 'wasip1',
    config: {
      User: '1000:1000',
      ExposedPorts: { '8080/tcp': {} },
      Env: ['PATH=/usr/bin:/bin', 'GREETING=hi'],
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo hi'],
      Volumes: { '/data': {} },
      WorkingDir: '/home/user',
      Labels: { 'org.opencontainers.image.title': 'sample' },
    },
    rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] },
  };
}
