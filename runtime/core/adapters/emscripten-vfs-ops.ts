// The node_ops and stream_ops of the Emscripten filesystem backend (emscripten-fs.ts): each Emscripten node
// stands for a Vfs inode, and every call works on that inode directly. Runtime code: web-standard APIs only.
import { DirNode, FileNode, SymlinkNode, VfsError, type Errno, type Inode, type Vfs } from '../vfs.js';
import type { EmNode, EmStream, EmscriptenFS, Owner } from './emscripten-fs.js';

/** Emscripten's errno numbers (the WASI numbering) for the errors the Vfs raises. */
const ERRNO: Record<Errno, number> = {
  EACCES: 2, EBADF: 8, EBUSY: 10, EEXIST: 20, EFBIG: 22, EINVAL: 28, EISDIR: 31, ELOOP: 32, ENAMETOOLONG: 37,
  ENOENT: 44, ENOTDIR: 54, ENOTEMPTY: 55, EPERM: 63, EROFS: 69, EXDEV: 75,
};
const ENXIO = 60;
const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFIFO = 0o010000;
const O_ACCMODE = 3;

/** The Emscripten mode (type and permission bits) of a Vfs inode. */
export function emMode(inode: Inode): number {
  const type = inode instanceof DirNode ? S_IFDIR : inode instanceof FileNode ? S_IFREG : inode instanceof SymlinkNode ? S_IFLNK : S_IFIFO;
  return type | (inode.mode & 0o7777);
}

/** node_ops and stream_ops over Vfs inodes; every Vfs error becomes the matching Emscripten errno. */
export class VfsBackend {
  grafted = new Map<string, EmNode>();
  private readonly dirOps: object;
  private readonly fileOps: object;
  private readonly linkOps: object;
  private readonly dirStream: object;
  private readonly fileStream: object;

  constructor(private readonly FS: EmscriptenFS, private readonly vfs: Vfs, private readonly owner: Owner) {
    const attr = { getattr: (n: EmNode) => this.getattr(n), setattr: (n: EmNode, a: Attr) => this.guard(() => this.setattr(n, a)) };
    this.dirOps = {
      ...attr,
      lookup: (p: EmNode, name: string) => this.guard(() => this.lookup(p, name)),
      mknod: (p: EmNode, name: string, mode: number) => this.guard(() => this.mknod(p, name, mode)),
      rename: (old: EmNode, dir: EmNode, name: string) => this.guard(() => this.rename(old, dir, name)),
      unlink: (p: EmNode, name: string) => this.guard(() => this.remove(p, name, false)),
      rmdir: (p: EmNode, name: string) => this.guard(() => this.remove(p, name, true)),
      readdir: (n: EmNode) => this.readdir(n),
      symlink: (p: EmNode, name: string, target: string) => this.guard(() => this.adopt(p, name, this.vfs.symlink(target, name, { cwd: dirOf(p), ...this.owner }))),
    };
    this.fileOps = attr;
    this.linkOps = { ...attr, readlink: (n: EmNode) => (n.vnode as SymlinkNode).target };
    const llseek = (s: EmStream, offset: number, whence: number) => this.llseek(s, offset, whence);
    this.dirStream = { llseek };
    this.fileStream = {
      llseek,
      open: (s: EmStream) => this.guard(() => this.open(s)),
      read: (s: EmStream, buf: Uint8Array, at: number, len: number, pos: number) => this.read(s, buf, at, len, pos),
      write: (s: EmStream, buf: Uint8Array, at: number, len: number, pos: number) => this.guard(() => this.write(s, buf, at, len, pos)),
    };
  }

  /** Bind an Emscripten node to a Vfs inode and give it the operations for its kind. */
  attach(node: EmNode, inode: Inode): EmNode {
    node.vnode = inode;
    node.mode = emMode(inode);
    node.node_ops = inode instanceof DirNode ? this.dirOps : inode instanceof SymlinkNode ? this.linkOps : this.fileOps;
    node.stream_ops = inode instanceof DirNode ? this.dirStream : this.fileStream;
    return node;
  }

  /** A new Emscripten node for an inode just made under `parent` (made first, so a failure leaves no stale node). */
  private adopt(parent: EmNode, name: string, inode: Inode): EmNode {
    return this.attach(this.FS.createNode(parent, name, emMode(inode), 0), inode);
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (err) {
      if (err instanceof VfsError) throw new this.FS.ErrnoError(ERRNO[err.code] ?? ERRNO.EINVAL);
      throw err;
    }
  }

  private getattr(node: EmNode) {
    const inode = node.vnode!;
    node.mode = emMode(inode);
    const size = inode instanceof FileNode ? inode.size : inode instanceof DirNode ? 4096 : inode instanceof SymlinkNode ? new TextEncoder().encode(inode.target).byteLength : 0;
    const date = (ns: bigint) => new Date(Number(ns / 1_000_000n));
    return {
      dev: 1, ino: inode.ino, mode: node.mode, nlink: inode.nlink, uid: inode.uid, gid: inode.gid, rdev: 0, size,
      atime: date(inode.atime), mtime: date(inode.mtime), ctime: date(inode.ctime), blksize: 4096, blocks: Math.ceil(size / 512),
    };
  }

  private setattr(node: EmNode, attr: Attr): void {
    const inode = node.vnode!;
    const changes = attr.mode !== undefined || attr.size !== undefined || typeof (attr.atime ?? attr.mtime) === 'number';
    if (changes) this.vfs.writable(inode, node.name, 'setattr');
    if (attr.mode !== undefined && !(inode instanceof SymlinkNode)) {
      inode.mode = attr.mode & 0o7777;
      node.mode = emMode(inode);
      inode.touch(false);
    }
    if (typeof attr.atime === 'number') inode.atime = BigInt(Math.trunc(attr.atime)) * 1_000_000n;
    if (typeof attr.mtime === 'number') inode.mtime = BigInt(Math.trunc(attr.mtime)) * 1_000_000n;
    if (attr.size !== undefined) {
      if (!(inode instanceof FileNode)) throw new VfsError('EINVAL', 'truncate', node.name);
      inode.truncate(attr.size);
    }
  }

  private lookup(parent: EmNode, name: string): EmNode {
    const grafted = parent === this.FS.root ? this.grafted.get(name) : undefined;
    if (grafted) return grafted;
    const inode = dirOf(parent).entries().get(name);
    if (!inode) throw new VfsError('ENOENT', 'open', name);
    return this.adopt(parent, name, inode);
  }

  private mknod(parent: EmNode, name: string, mode: number): EmNode {
    const opts = { cwd: dirOf(parent), mode: mode & 0o7777, ...this.owner };
    if ((mode & 0o170000) === S_IFDIR) return this.adopt(parent, name, this.vfs.mkdir(name, opts));
    if ((mode & 0o170000) !== S_IFREG) throw new VfsError('EPERM', 'mknod', name);
    return this.adopt(parent, name, this.vfs.createFile(name, { ...opts, exclusive: true }));
  }

  private rename(old: EmNode, dir: EmNode, name: string): void {
    if (this.isGrafted(old.parent, old.name) || this.isGrafted(dir, name)) throw new VfsError('EBUSY', 'rename', name);
    // FS.rename looked the target up already, so a node it replaces is cached: forget it once the move is done.
    let replaced: EmNode | undefined;
    try {
      replaced = this.FS.lookupNode(dir, name);
    } catch {
      replaced = undefined;
    }
    this.vfs.rename(old.name, name, { cwd: dirOf(old.parent), toCwd: dirOf(dir) });
    if (replaced && replaced !== old) this.FS.destroyNode(replaced);
    old.name = name;
  }

  private remove(parent: EmNode, name: string, rmdir: boolean): void {
    if (this.isGrafted(parent, name)) throw new VfsError('EBUSY', rmdir ? 'rmdir' : 'unlink', name);
    this.vfs.unlink(name, { cwd: dirOf(parent), rmdir });
  }

  private readdir(node: EmNode): string[] {
    const names = ['.', '..', ...dirOf(node).entries().keys()];
    if (node !== this.FS.root) return names;
    return [...new Set([...names, ...this.grafted.keys()])];
  }

  private isGrafted(parent: EmNode, name: string): boolean {
    return parent === this.FS.root && this.grafted.has(name);
  }

  private open(stream: EmStream): void {
    const inode = stream.node.vnode!;
    if (!(inode instanceof FileNode)) throw new this.FS.ErrnoError(ENXIO);
    if ((stream.flags & O_ACCMODE) !== 0) this.vfs.writable(inode, stream.node.name, 'open');
  }

  private read(stream: EmStream, buf: Uint8Array, at: number, length: number, position: number): number {
    const bytes = (stream.node.vnode as FileNode).read(position, length);
    buf.set(bytes, at);
    return bytes.byteLength;
  }

  private write(stream: EmStream, buf: Uint8Array, at: number, length: number, position: number): number {
    const file = stream.node.vnode as FileNode;
    this.vfs.writable(file, stream.node.name, 'write');
    return file.write(position, buf.subarray(at, at + length));
  }

  private llseek(stream: EmStream, offset: number, whence: number): number {
    const inode = stream.node.vnode;
    const base = whence === 1 ? stream.position : whence === 2 && inode instanceof FileNode ? inode.size : 0;
    const position = base + offset;
    if (position < 0) throw new this.FS.ErrnoError(ERRNO.EINVAL);
    return position;
  }
}

/** What Emscripten asks setattr to change (times in milliseconds). */
interface Attr {
  mode?: number;
  size?: number;
  atime?: number;
  mtime?: number;
}

function dirOf(node: EmNode): DirNode {
  const inode = node.vnode;
  if (!(inode instanceof DirNode)) throw new VfsError('ENOTDIR', 'lookup', node.name);
  return inode;
}
