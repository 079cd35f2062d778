import { WasmboxError } from '../errors.js';
import type { FileContent } from './spill.js';

/** Ownership, permission bits (including setuid/setgid/sticky, 0o7777) and mtime in seconds. */
export interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

/**
 * A regular file. Its `data` is never mutated in place (replace it to change the file); two paths holding
 * the same node are hardlinks. A flattened image's files keep their bytes in a spill file, not in memory:
 * `data.byteLength` is the size either way, and contentBytes(data) (src/fs/spill.ts) gives the bytes.
 */
export interface FileNode extends Meta {
  kind: 'file';
  data: FileContent;
}

/** A directory and its children by name. */
export interface DirNode extends Meta {
  kind: 'dir';
  children: Map<string, Node>;
}

/** A symbolic link; `target` is kept exactly as written. */
export interface SymlinkNode extends Meta {
  kind: 'symlink';
  target: string;
}

/** Anything else a layer may hold (device nodes, FIFOs): kept as metadata only, never usable. */
export interface OtherNode extends Meta {
  kind: 'other';
  device: 'char' | 'block' | 'fifo';
}

/** One entry of the in-memory root filesystem. */
export type Node = FileNode | DirNode | SymlinkNode | OtherNode;

/** Where a path lands in a tree: the directory that holds it, its name there, and what is there now. */
export interface Resolved {
  parent: DirNode;
  name: string;
  node: Node | undefined;
  /** The absolute path after following symlinks, always inside the root. */
  path: string;
}

const MAX_SYMLINK_HOPS = 40;

/** Metadata of a directory made implicitly (a parent nobody declared): root-owned 0755. */
export const IMPLICIT_DIR: Meta = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };

/** A new, empty directory node. */
export function dir(meta: Meta = IMPLICIT_DIR): DirNode {
  return { kind: 'dir', children: new Map(), ...pickMeta(meta) };
}

/** Just the {@link Meta} fields of a node, copied. */
export function pickMeta(m: Meta): Meta {
  return { mode: m.mode, uid: m.uid, gid: m.gid, mtime: m.mtime };
}

/**
 * Split an absolute or relative path into clean components. `..` is resolved lexically and can never
 * climb above the root; `escaped` says whether the path tried to.
 */
export function splitPath(path: string): { parts: string[]; escaped: boolean } {
  const parts: string[] = [];
  let escaped = false;
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) escaped = true;
      else parts.pop();
      continue;
    }
    parts.push(part);
  }
  return { parts, escaped };
}

/** The clean relative form of a path (`./a//b/` → `a/b`), clamped to the root: tar names and lookup keys. */
export function relativePath(path: string): string {
  return splitPath(path).parts.join('/');
}

/** The clean absolute form of a path (`a/../b/` → `/b`), clamped to the root. */
export function cleanPath(path: string): string {
  return '/' + splitPath(path).parts.join('/');
}

/**
 * The in-memory root filesystem that builds work on. Every lookup is confined to the root the way a
 * chroot confines it: `..` at the root stays there and absolute symlink targets restart at the root,
 * so no path, however hostile, names anything outside.
 */
export class Tree {
  constructor(readonly root: DirNode = dir()) {}

  /**
   * Resolve `path` inside the tree. Intermediate symlinks are always followed; the last component only
   * when `followLast`. With `create`, missing intermediate directories are made with `createMeta`.
   */
  resolve(path: string, opts: { followLast?: boolean; create?: boolean; createMeta?: Meta } = {}): Resolved {
    const pending = splitPath(path).parts;
    const stack: DirNode[] = [this.root];
    const names: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === '..') {
        if (stack.length > 1) {
          stack.pop();
          names.pop();
        }
        continue;
      }
      const parent = stack[stack.length - 1];
      let node = parent.children.get(name);
      const last = pending.length === 0;
      if (node?.kind === 'symlink' && (!last || opts.followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new WasmboxError('ELOOP', `too many levels of symbolic links resolving ${path}`, { value: path });
        }
        const target = node.target;
        // A symlink's target replaces it; an absolute one starts over at the root, never the host's root.
        const relative = target.split('/').filter((p) => p !== '' && p !== '.');
        pending.unshift(...relative);
        if (target.startsWith('/')) {
          stack.length = 1;
          names.length = 0;
        }
        continue;
      }
      if (last) return { parent, name, node, path: '/' + [...names, name].join('/') };
      if (node === undefined && opts.create) {
        node = dir(opts.createMeta);
        parent.children.set(name, node);
      }
      if (node?.kind !== 'dir') {
        const at = '/' + [...names, name].join('/');
        throw new WasmboxError('ENOTDIR', `${at} is ${node ? `a ${describe(node)}` : 'missing'}, not a directory (resolving ${path})`, {
          value: path,
        });
      }
      stack.push(node);
      names.push(name);
    }
    // The path named a directory we ended inside (the root, or after `..`/a symlink to a directory).
    const self = stack[stack.length - 1];
    if (stack.length === 1) return { parent: this.root, name: '', node: this.root, path: '/' };
    return { parent: stack[stack.length - 2], name: names[names.length - 1], node: self, path: '/' + names.join('/') };
  }

  /** The node at `path` (symlinks followed unless `follow` is false), or undefined. */
  get(path: string, follow = true): Node | undefined {
    try {
      return this.resolve(path, { followLast: follow }).node;
    } catch (err) {
      if (err instanceof WasmboxError && (err.code === 'ENOTDIR' || err.code === 'ELOOP')) return undefined;
      throw err;
    }
  }

  /** Place `node` at `path`, replacing what was there; missing parents are created. Returns the resolved spot. */
  put(path: string, node: Node, parentMeta: Meta = IMPLICIT_DIR): Resolved {
    const spot = this.resolve(path, { create: true, createMeta: parentMeta });
    if (spot.name === '') throw new WasmboxError('EINVAL', `cannot replace the root directory with a ${describe(node)}`, { value: path });
    spot.parent.children.set(spot.name, node);
    return { ...spot, node };
  }

  /** Make the directory `path` and its parents (following symlinks); an existing directory is kept. */
  mkdirp(path: string, meta: Meta = IMPLICIT_DIR): DirNode {
    const spot = this.resolve(path, { create: true, createMeta: meta, followLast: true });
    if (spot.node?.kind === 'dir') return spot.node;
    if (spot.node !== undefined) {
      throw new WasmboxError('ENOTDIR', `${spot.path} exists and is a ${describe(spot.node)}, not a directory`, { value: path });
    }
    const made = dir(meta);
    spot.parent.children.set(spot.name, made);
    return made;
  }

  /** Remove whatever is at `path` (a symlink itself, not its target); returns whether something was there. */
  remove(path: string): boolean {
    const spot = this.resolve(path);
    if (spot.name === '' || spot.node === undefined) return false;
    return spot.parent.children.delete(spot.name);
  }

  /** Every path below the root in depth-first order, children sorted by name, so output never depends on insertion order. */
  *walk(from: DirNode = this.root, prefix = ''): Generator<[string, Node]> {
    const names = [...from.children.keys()].sort(compareNames);
    for (const name of names) {
      const node = from.children.get(name)!;
      const path = `${prefix}/${name}`;
      yield [path, node];
      if (node.kind === 'dir') yield* this.walk(node, path);
    }
  }
}

/** Byte-order comparison of names (code points), independent of locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A deep copy of a node: new metadata objects sharing the immutable file content (in memory or spilled). Hardlinks inside are kept as hardlinks. */
export function cloneNode(node: Node, seen = new Map<Node, Node>()): Node {
  const known = seen.get(node);
  if (known) return known;
  let copy: Node;
  switch (node.kind) {
    case 'dir': {
      const d = dir(node);
      for (const [name, child] of node.children) d.children.set(name, cloneNode(child, seen));
      copy = d;
      break;
    }
    case 'file':
      copy = { kind: 'file', data: node.data, ...pickMeta(node) };
      break;
    case 'symlink':
      copy = { kind: 'symlink', target: node.target, ...pickMeta(node) };
      break;
    case 'other':
      copy = { kind: 'other', device: node.device, ...pickMeta(node) };
      break;
  }
  seen.set(node, copy);
  return copy;
}

/** A short noun for a node's kind, for messages. */
export function describe(node: Node): string {
  return node.kind === 'dir' ? 'directory' : node.kind === 'other' ? `${node.device} device` : node.kind;
}
