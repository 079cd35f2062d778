// The guest's filesystem: a mutable inode tree over a box's read-only FsImage. Directories from the
// image are materialised only when first looked into and file bytes stay zero-copy views into the image
// until a guest writes them (copy-on-write), so a run costs what it touches and the box is never changed.
// Runtime code: web-standard APIs only.
import type { FsEntry, FsImage } from './fs-image.js';

/** The POSIX error names the filesystem raises; engines map them to their own numbers. */
export type Errno =
  | 'ENOENT' | 'ENOTDIR' | 'EISDIR' | 'EEXIST' | 'ENOTEMPTY' | 'ELOOP' | 'EROFS' | 'EINVAL'
  | 'EXDEV' | 'EACCES' | 'EPERM' | 'EBUSY' | 'EFBIG' | 'ENAMETOOLONG' | 'EBADF';

/** A filesystem failure with its POSIX name, e.g. `ENOENT: no such file or directory, open '/x'`. */
export class VfsError extends Error {
  constructor(readonly code: Errno, syscall: string, path: string) {
    super(`${code}: ${DESCRIPTIONS[code]}, ${syscall} '${path}'`);
    this.name = 'VfsError';
  }
}

const DESCRIPTIONS: Record<Errno, string> = {
  ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EISDIR: 'is a directory',
  EEXIST: 'file already exists', ENOTEMPTY: 'directory not empty', ELOOP: 'too many levels of symbolic links',
  EROFS: 'read-only file system', EINVAL: 'invalid argument', EXDEV: 'cross-device link',
  EACCES: 'permission denied', EPERM: 'operation not permitted', EBUSY: 'resource busy',
  EFBIG: 'file too large', ENAMETOOLONG: 'name too long', EBADF: 'bad file descriptor',
};

const MAX_SYMLINK_HOPS = 40;
const encoder = new TextEncoder();
/** Files may not grow past this (the largest ArrayBuffer every host allows). */
export const MAX_FILE_SIZE = 2 ** 31 - 1;

/** Nanoseconds since the epoch, now. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** What every node has: identity, ownership, permission bits (0o7777) and times in nanoseconds. */
export abstract class Inode {
  abstract readonly kind: 'file' | 'dir' | 'symlink' | 'other';
  /** Number of directory entries naming this node (hardlinks). */
  nlink = 1;
  atime: bigint;
  ctime: bigint;
  /** Bumped on every change of content or metadata, so hosts can find what a run changed. */
  version = 0;
  constructor(
    readonly ino: number,
    public mode: number,
    public uid: number,
    public gid: number,
    public mtime: bigint,
    /** Set under read-only mounts: every change is refused with EROFS. */
    readonly readonly = false,
  ) {
    this.atime = mtime;
    this.ctime = mtime;
  }

  /** Record a change made now. */
  touch(content = true): void {
    const now = nowNs();
    if (content) this.mtime = now;
    this.ctime = now;
    this.version++;
  }
}

/** A regular file. Bytes are a view into the box image until the first write copies them. */
export class FileNode extends Inode {
  readonly kind = 'file';
  private buf: Uint8Array;
  private owned: boolean;
  size: number;
  /** The image entry this file came from, while its bytes are still the image's (build diffs use it). */
  origin: FsEntry | undefined;
  /** Supplies the bytes on first use (host mounts read lazily). */
  private load: (() => Uint8Array) | undefined;

  constructor(ino: number, mode: number, uid: number, gid: number, mtime: bigint, data: Uint8Array | (() => Uint8Array), readonly_ = false) {
    super(ino, mode, uid, gid, mtime, readonly_);
    if (typeof data === 'function') {
      this.load = data;
      this.buf = new Uint8Array(0);
      this.size = 0;
    } else {
      this.buf = data;
      this.size = data.byteLength;
    }
    this.owned = false;
  }

  /** Declare the size of lazily loaded bytes before they are read (stat must not force a load). */
  setLazySize(size: number): void {
    if (this.load) this.size = size;
  }

  /** The whole content, as a view (do not keep it across writes). */
  bytes(): Uint8Array {
    this.materialise();
    return this.buf.subarray(0, this.size);
  }

  /** Up to `length` bytes from `offset`, as a view. */
  read(offset: number, length: number): Uint8Array {
    this.materialise();
    if (offset >= this.size) return this.buf.subarray(0, 0);
    return this.buf.subarray(offset, Math.min(this.size, offset + length));
  }

  /** Write `data` at `offset`, growing the file (with zeros in any gap). Appends are amortised O(1). */
  write(offset: number, data: Uint8Array): number {
    const end = offset + data.byteLength;
    if (end > MAX_FILE_SIZE) throw new VfsError('EFBIG', 'write', '');
    this.reserve(end);
    this.buf.set(data, offset);
    if (end > this.size) this.size = end;
    this.touch();
    return data.byteLength;
  }

  /** Cut or extend (with zeros) to `size` bytes. */
  truncate(size: number): void {
    if (size > MAX_FILE_SIZE) throw new VfsError('EFBIG', 'truncate', '');
    this.reserve(size);
    if (size < this.size) this.buf.fill(0, size, this.size);
    this.size = size;
    this.touch();
  }

  /** Replace the whole content with `data` (taken over, not copied). */
  replace(data: Uint8Array): void {
    this.load = undefined;
    this.buf = data;
    this.size = data.byteLength;
    this.owned = false;
    this.origin = undefined;
    this.touch();
  }

  private materialise(): void {
    if (!this.load) return;
    const load = this.load;
    this.load = undefined;
    this.buf = load();
    this.size = this.buf.byteLength;
  }

  /** Own a private buffer of at least `size` bytes, doubling so appends stay O(1) amortised. */
  private reserve(size: number): void {
    this.materialise();
    this.origin = undefined;
    if (this.owned && size <= this.buf.byteLength) return;
    const capacity = this.owned ? Math.max(size, Math.min(MAX_FILE_SIZE, this.buf.byteLength * 2)) : Math.max(size, this.size);
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.size));
    this.buf = next;
    this.owned = true;
  }
}

/** A directory. Its children come from `load` (image or host) the first time anyone looks. */
export class DirNode extends Inode {
  readonly kind = 'dir';
  private children: Map<string, Inode> | undefined;
  private load: (() => Map<string, Inode>) | undefined;
  /** The directory `..` names; the root (and only the root) has none. */
  parent: DirNode | undefined;

  constructor(ino: number, mode: number, uid: number, gid: number, mtime: bigint, load?: () => Map<string, Inode>, readonly_ = false) {
    super(ino, mode, uid, gid, mtime, readonly_);
    this.load = load;
    this.nlink = 2;
    if (!load) this.children = new Map();
  }

  /** The children by name, in insertion order (readdir is a linear walk of this map). */
  entries(): Map<string, Inode> {
    if (!this.children) {
      this.children = this.load!();
      this.load = undefined;
      for (const child of this.children.values()) if (child instanceof DirNode) child.parent = this;
    }
    return this.children;
  }

  /** Whether the children have been loaded (walks that must not force loads check this). */
  get loaded(): boolean {
    return this.children !== undefined;
  }
}

/** A symbolic link; `target` is kept as written and resolved inside the guest's namespace only. */
export class SymlinkNode extends Inode {
  readonly kind = 'symlink';
  constructor(ino: number, uid: number, gid: number, mtime: bigint, public target: string, readonly_ = false) {
    super(ino, 0o777, uid, gid, mtime, readonly_);
  }
}

/** A device node or FIFO from the image: visible to stat, never usable. */
export class OtherNode extends Inode {
  readonly kind = 'other';
}

/** Where a path lands: the directory that holds it, its name there, and what is there (if anything). */
export interface Lookup {
  parent: DirNode;
  name: string;
  node: Inode | undefined;
}

/** The guest's whole filesystem namespace. Nothing outside it can be named: `..` stops at its root. */
export class Vfs {
  readonly root: DirNode;
  private nextIno = 1;

  private constructor(makeRoot: (vfs: Vfs) => DirNode) {
    this.root = makeRoot(this);
  }

  /** An empty filesystem (a root directory only). */
  static empty(): Vfs {
    return new Vfs((vfs) => new DirNode(vfs.ino(), 0o755, 0, 0, 0n));
  }

  /** The filesystem of a box image, copy-on-write: the image itself is never changed. */
  static fromImage(image: FsImage): Vfs {
    const index = childIndex(image);
    const links = new Map<string, FileNode>();
    return new Vfs((vfs) => {
      const rootEntry = image.entries[0];
      return vfs.imageDir(image, index, links, rootEntry);
    });
  }

  /** A fresh inode number. */
  ino(): number {
    return this.nextIno++;
  }

  /** Resolve `path` (absolute, or relative to `cwd`). `follow` says whether a final symlink is followed. */
  lookup(path: string, options: { cwd?: DirNode; follow?: boolean; syscall?: string } = {}): Lookup {
    return this.walk(path, options.cwd ?? this.root, options.follow ?? true, options.syscall ?? 'open', 0);
  }

  /** The node at `path`, or a VfsError (ENOENT, ENOTDIR, ELOOP). */
  get(path: string, options: { cwd?: DirNode; follow?: boolean; syscall?: string } = {}): Inode {
    const found = this.lookup(path, options);
    if (!found.node) throw new VfsError('ENOENT', options.syscall ?? 'stat', path);
    return found.node;
  }

  /** The absolute path of a directory, by walking `..` up to the root. */
  pathOf(dir: DirNode): string {
    const names: string[] = [];
    for (let d = dir; d.parent; d = d.parent) {
      const name = [...d.parent.entries()].find(([, n]) => n === d)?.[0];
      if (name === undefined) break;
      names.unshift(name);
    }
    return '/' + names.join('/');
  }

  /** Create a directory at `path`; with `recursive`, missing parents too and no error if it exists. */
  mkdir(path: string, options: { cwd?: DirNode; mode?: number; recursive?: boolean; uid?: number; gid?: number } = {}): DirNode {
    const { cwd = this.root, mode = 0o755, recursive = false, uid = 0, gid = 0 } = options;
    if (recursive) {
      let dir = path.startsWith('/') ? this.root : cwd;
      for (const part of path.split('/').filter((p) => p !== '' && p !== '.')) {
        const found = this.walk(part, dir, true, 'mkdir', 0);
        if (found.node instanceof DirNode) dir = found.node;
        else if (found.node) throw new VfsError('ENOTDIR', 'mkdir', path);
        else dir = this.addDir(found, mode, uid, gid, path);
      }
      return dir;
    }
    const found = this.lookup(path, { cwd, follow: false, syscall: 'mkdir' });
    if (found.node) throw new VfsError('EEXIST', 'mkdir', path);
    return this.addDir(found, mode, uid, gid, path);
  }

  /** Create (or, without `exclusive`, open existing) a regular file at `path`. */
  createFile(path: string, options: { cwd?: DirNode; mode?: number; uid?: number; gid?: number; exclusive?: boolean } = {}): FileNode {
    const { cwd = this.root, mode = 0o644, uid = 0, gid = 0, exclusive = false } = options;
    const found = this.lookup(path, { cwd, follow: true, syscall: 'open' });
    if (found.node) {
      if (exclusive) throw new VfsError('EEXIST', 'open', path);
      if (found.node instanceof DirNode) throw new VfsError('EISDIR', 'open', path);
      if (!(found.node instanceof FileNode)) throw new VfsError('EINVAL', 'open', path);
      return found.node;
    }
    const file = new FileNode(this.ino(), mode, uid, gid, nowNs(), new Uint8Array(0));
    this.link(found, file, path, 'open');
    return file;
  }

  /** Write a whole file (created if missing), replacing its content. */
  writeFile(path: string, data: Uint8Array, options: { cwd?: DirNode; mode?: number } = {}): FileNode {
    const file = this.createFile(path, options);
    this.writable(file, path, 'open');
    file.replace(data);
    return file;
  }

  /** Make a symlink at `path` holding `target` as written. */
  symlink(target: string, path: string, options: { cwd?: DirNode; uid?: number; gid?: number } = {}): SymlinkNode {
    const found = this.lookup(path, { cwd: options.cwd, follow: false, syscall: 'symlink' });
    if (found.node) throw new VfsError('EEXIST', 'symlink', path);
    const link = new SymlinkNode(this.ino(), options.uid ?? 0, options.gid ?? 0, nowNs(), target);
    this.link(found, link, path, 'symlink');
    return link;
  }

  /** Add a hard link at `path` to the existing non-directory `node`. */
  hardlink(node: Inode, path: string, options: { cwd?: DirNode } = {}): void {
    if (node instanceof DirNode) throw new VfsError('EPERM', 'link', path);
    const found = this.lookup(path, { cwd: options.cwd, follow: false, syscall: 'link' });
    if (found.node) throw new VfsError('EEXIST', 'link', path);
    this.link(found, node, path, 'link');
    node.nlink++;
    node.touch(false);
  }

  /** Remove a non-directory entry (`rmdir: false`) or an empty directory (`rmdir: true`). */
  unlink(path: string, options: { cwd?: DirNode; rmdir?: boolean } = {}): void {
    const syscall = options.rmdir ? 'rmdir' : 'unlink';
    const found = this.lookup(path, { cwd: options.cwd, follow: false, syscall });
    const { node, parent, name } = found;
    if (!node) throw new VfsError('ENOENT', syscall, path);
    this.writable(parent, path, syscall);
    if (options.rmdir) {
      if (!(node instanceof DirNode)) throw new VfsError('ENOTDIR', syscall, path);
      if (node === this.root || name === '.' || name === '..') throw new VfsError('EBUSY', syscall, path);
      if (node.entries().size > 0) throw new VfsError('ENOTEMPTY', syscall, path);
      parent.nlink--;
    } else if (node instanceof DirNode) {
      throw new VfsError('EISDIR', syscall, path);
    }
    parent.entries().delete(name);
    node.nlink--;
    node.touch(false);
    parent.touch();
  }

  /** Move `from` to `to`, replacing a file or empty directory there, as rename(2) does. */
  rename(from: string, to: string, options: { cwd?: DirNode; toCwd?: DirNode } = {}): void {
    const src = this.lookup(from, { cwd: options.cwd, follow: false, syscall: 'rename' });
    if (!src.node) throw new VfsError('ENOENT', 'rename', from);
    const dst = this.lookup(to, { cwd: options.toCwd ?? options.cwd, follow: false, syscall: 'rename' });
    this.writable(src.parent, from, 'rename');
    this.writable(dst.parent, to, 'rename');
    if (dst.node === src.node) return;
    if (src.node instanceof DirNode) {
      for (let d: DirNode | undefined = dst.parent; d; d = d.parent) if (d === src.node) throw new VfsError('EINVAL', 'rename', to);
      if (dst.node && !(dst.node instanceof DirNode)) throw new VfsError('ENOTDIR', 'rename', to);
      if (dst.node instanceof DirNode && dst.node.entries().size > 0) throw new VfsError('ENOTEMPTY', 'rename', to);
    } else if (dst.node instanceof DirNode) {
      throw new VfsError('EISDIR', 'rename', to);
    }
    if (dst.node) dst.node.nlink--;
    src.parent.entries().delete(src.name);
    dst.parent.entries().set(dst.name, src.node);
    if (src.node instanceof DirNode) {
      src.node.parent = dst.parent;
      src.parent.nlink--;
      if (!(dst.node instanceof DirNode)) dst.parent.nlink++;
    }
    src.node.touch(false);
    src.parent.touch();
    dst.parent.touch();
  }

  /** Place `dir` at `path` (created if missing), hiding what was there: how hosts mount directories. */
  mount(path: string, dir: DirNode): void {
    const target = this.mkdir(path, { recursive: true });
    const parent = target.parent;
    if (!parent) throw new VfsError('EBUSY', 'mount', path);
    const name = [...parent.entries()].find(([, n]) => n === target)![0];
    parent.entries().set(name, dir);
    dir.parent = parent;
  }

  /** Refuse changes to nodes under read-only mounts. */
  writable(node: Inode, path: string, syscall: string): void {
    if (node.readonly) throw new VfsError('EROFS', syscall, path);
  }

  private addDir(found: Lookup, mode: number, uid: number, gid: number, path: string): DirNode {
    const dir = new DirNode(this.ino(), mode, uid, gid, nowNs());
    this.link(found, dir, path, 'mkdir');
    dir.parent = found.parent;
    found.parent.nlink++;
    return dir;
  }

  private link(found: Lookup, node: Inode, path: string, syscall: string): void {
    if (found.name === '' || found.name === '.' || found.name === '..') throw new VfsError('EEXIST', syscall, path);
    if (encoder.encode(found.name).byteLength > 255) throw new VfsError('ENAMETOOLONG', syscall, path);
    this.writable(found.parent, path, syscall);
    found.parent.entries().set(found.name, node);
    found.parent.touch();
  }

  private walk(path: string, start: DirNode, follow: boolean, syscall: string, hops: number): Lookup {
    if (path === '') throw new VfsError('ENOENT', syscall, path);
    let dir = path.startsWith('/') ? this.root : start;
    const parts = path.split('/').filter((p) => p !== '');
    const mustBeDir = path.endsWith('/');
    if (parts.length === 0) return { parent: dir.parent ?? dir, name: '.', node: dir };
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i];
      const last = i === parts.length - 1;
      let node: Inode | undefined =
        name === '.' ? dir : name === '..' ? (dir.parent ?? dir) : dir.entries().get(name);
      if (node instanceof SymlinkNode && (!last || follow || mustBeDir)) {
        if (++hops > MAX_SYMLINK_HOPS) throw new VfsError('ELOOP', syscall, path);
        const target = this.walk(node.target, dir, true, syscall, hops);
        if (last) return target;
        node = target.node;
      }
      if (last) {
        if (mustBeDir && node && !(node instanceof DirNode)) throw new VfsError('ENOTDIR', syscall, path);
        return { parent: dir, name, node };
      }
      if (!node) throw new VfsError('ENOENT', syscall, path);
      if (!(node instanceof DirNode)) throw new VfsError('ENOTDIR', syscall, path);
      dir = node;
    }
    throw new Error('unreachable');
  }

  private imageDir(image: FsImage, index: Map<string, FsEntry[]>, links: Map<string, FileNode>, entry: FsEntry): DirNode {
    const load = (): Map<string, Inode> => {
      const children = new Map<string, Inode>();
      for (const child of index.get(entry.path) ?? []) {
        children.set(child.path.slice(child.path.lastIndexOf('/') + 1), this.imageNode(image, index, links, child));
      }
      return children;
    };
    return new DirNode(this.ino(), entry.mode, entry.uid, entry.gid, seconds(entry.mtime), load);
  }

  private imageNode(image: FsImage, index: Map<string, FsEntry[]>, links: Map<string, FileNode>, entry: FsEntry): Inode {
    const mtime = seconds(entry.mtime);
    switch (entry.type) {
      case 'dir':
        return this.imageDir(image, index, links, entry);
      case 'symlink':
        return new SymlinkNode(this.ino(), entry.uid, entry.gid, mtime, entry.target);
      case 'other':
        return new OtherNode(this.ino(), entry.mode, entry.uid, entry.gid, mtime);
      default: {
        // Hardlink groups share one node, whichever member is loaded first.
        const key = entry.type === 'hardlink' ? entry.target : entry.path;
        const shared = links.get(key);
        if (shared) return shared;
        const primary = entry.type === 'hardlink' ? image.byPath.get(entry.target)! : entry;
        const file = new FileNode(this.ino(), primary.mode, primary.uid, primary.gid, seconds(primary.mtime), image.read(primary));
        file.origin = primary;
        file.nlink = linkCount(index, key);
        if (file.nlink > 1) links.set(key, file);
        return file;
      }
    }
  }
}

function seconds(s: number): bigint {
  return BigInt(Math.trunc(s)) * 1_000_000_000n;
}

const indexes = new WeakMap<FsImage, Map<string, FsEntry[]>>();
const linkCounts = new WeakMap<Map<string, FsEntry[]>, Map<string, number>>();

/** Children of each directory path in an image, built once per image. */
function childIndex(image: FsImage): Map<string, FsEntry[]> {
  let index = indexes.get(image);
  if (index) return index;
  index = new Map();
  const counts = new Map<string, number>();
  for (const entry of image.entries) {
    if (entry.path === '/') continue;
    const parent = entry.path.slice(0, entry.path.lastIndexOf('/')) || '/';
    let list = index.get(parent);
    if (!list) index.set(parent, (list = []));
    list.push(entry);
    if (entry.type === 'hardlink') counts.set(entry.target, (counts.get(entry.target) ?? 1) + 1);
  }
  indexes.set(image, index);
  linkCounts.set(index, counts);
  return index;
}

function linkCount(index: Map<string, FsEntry[]>, primary: string): number {
  return linkCounts.get(index)?.get(primary) ?? 1;
}
