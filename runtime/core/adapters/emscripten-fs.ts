// An Emscripten filesystem backend over the box Vfs, used by interpreters built with Emscripten (Pyodide).
// For one run the box's root directory becomes Emscripten's root, so every path the guest names (`/app`,
// `/tmp`, a new top-level directory) is a box path, and renames work across the whole tree. Nodes carry
// the Vfs inode they stand for; reads and writes go straight to it, so nothing is copied in or out.
// The interpreter's own directories (Pyodide's stdlib under /lib, /dev, /proc) are grafted in by name.
// Runtime code: web-standard APIs only.
import type { Inode, Vfs } from '../vfs.js';
import { VfsBackend, emMode } from './emscripten-vfs-ops.js';

/** A node of Emscripten's FS (FS.FSNode), with the Vfs inode it stands for when it is ours. */
export interface EmNode {
  id: number;
  name: string;
  mode: number;
  parent: EmNode;
  mount: EmMount;
  node_ops: object;
  stream_ops: object;
  vnode?: Inode;
}

/** An Emscripten mount record. */
export interface EmMount {
  type: object;
  opts: object;
  mountpoint: string;
  mounts: EmMount[];
  root?: EmNode;
}

/** An open Emscripten stream (FS.FSStream), as stream_ops see it. */
export interface EmStream {
  node: EmNode;
  flags: number;
  position: number;
}

/** The parts of Emscripten's FS object the backend uses (Pyodide exposes it as `pyodide.FS`). */
export interface EmscriptenFS {
  root: EmNode;
  nameTable: (EmNode & { name_next?: EmNode })[];
  ignorePermissions: boolean;
  ErrnoError: new (errno: number) => Error;
  createNode(parent: EmNode | null, name: string, mode: number, rdev: number): EmNode;
  destroyNode(node: EmNode): void;
  lookupNode(parent: EmNode, name: string): EmNode;
  chdir(path: string): void;
  cwd(): string;
  filesystems: { MEMFS: { ops_table: MemfsOps | null } };
}

/** MEMFS's shared operation tables (every MEMFS node points at one of them). */
interface MemfsOps {
  dir: { node: Record<string, unknown> };
  file: { node: Record<string, unknown>; stream: Record<string, unknown> };
  link: { node: Record<string, unknown> };
}

/** Who owns what the guest creates. */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Make `vfs` the root of `FS` until the returned function is called. `graft` names top-level entries of the
 * runtime's own tree that stay visible (and hide the box's entries of the same name).
 */
export function mountBoxRoot(FS: EmscriptenFS, vfs: Vfs, graft: readonly string[], owner: Owner): () => void {
  const backend = new VfsBackend(FS, vfs, owner);
  const oldRoot = FS.root;
  const oldCwd = FS.cwd();
  const mount: EmMount = { type: {}, opts: {}, mountpoint: '/', mounts: [] };
  const root = FS.createNode(null, '/', emMode(vfs.root), 0);
  root.mount = mount;
  mount.root = root;
  backend.attach(root, vfs.root);
  const grafted = new Map<string, EmNode>();
  for (const name of graft) {
    const node = tryLookup(FS, oldRoot, name);
    if (node) grafted.set(name, node);
  }
  backend.grafted = grafted;
  for (const node of grafted.values()) node.parent = root;
  FS.root = root;
  const ignored = FS.ignorePermissions;
  // The box's processes run as root in effect: the Vfs reports uid/gid but never enforces permission bits.
  FS.ignorePermissions = true;
  return () => {
    FS.root = oldRoot;
    FS.ignorePermissions = ignored;
    for (const node of grafted.values()) node.parent = oldRoot;
    dropNodes(FS, mount);
    try {
      FS.chdir(oldCwd);
    } catch {
      FS.chdir('/');
    }
  };
}

function tryLookup(FS: EmscriptenFS, parent: EmNode, name: string): EmNode | undefined {
  try {
    return FS.lookupNode(parent, name);
  } catch {
    return undefined;
  }
}

/** Forget every cached node of `mount`, as FS.unmount does, so the next run starts from the Vfs again. */
function dropNodes(FS: EmscriptenFS, mount: EmMount): void {
  for (let i = 0; i < FS.nameTable.length; i++) {
    let node: (EmNode & { name_next?: EmNode }) | undefined = FS.nameTable[i];
    while (node) {
      const next: (EmNode & { name_next?: EmNode }) | undefined = node.name_next;
      if (node.mount === mount) FS.destroyNode(node);
      node = next;
    }
  }
}

const EROFS = 69;

/**
 * Make the interpreter's own in-memory files (Pyodide's stdlib and site-packages under /lib, /dev/shm)
 * read-only until the returned function is called, so no box can change the interpreter the next one gets.
 */
export function sealMemfs(FS: EmscriptenFS): () => void {
  const table = FS.filesystems.MEMFS.ops_table;
  if (!table) return () => undefined;
  const refuse = () => {
    throw new FS.ErrnoError(EROFS);
  };
  const sealed: [Record<string, unknown>, string][] = [
    ...['mknod', 'rename', 'unlink', 'rmdir', 'symlink', 'setattr'].map((op) => [table.dir.node, op] as [Record<string, unknown>, string]),
    [table.file.node, 'setattr'], [table.file.stream, 'write'], [table.link.node, 'setattr'],
  ];
  const saved = sealed.map(([ops, op]) => ops[op]);
  for (const [ops, op] of sealed) ops[op] = refuse;
  return () => sealed.forEach(([ops, op], i) => (ops[op] = saved[i]));
}
