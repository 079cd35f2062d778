// Open directories: every path call resolves relative to the directory's node through the Vfs (which
// never lets `..` or a symlink leave the box), and readdir walks a snapshot of the entries taken when the
// guest starts reading (cookie 0), so a listing costs O(entries) however small the guest's buffer is.
// Runtime code: web-standard APIs only.
import { wasi } from '@bjorn3/browser_wasi_shim';
import { DirNode, FileNode, SymlinkNode, VfsError, type Inode, type Vfs } from '../vfs.js';
import { attempt, errnoOf, LOOKUP_SYMLINK_FOLLOW, READ_RIGHTS, WasiErrno, WRITE_RIGHTS } from './errno.js';
import { BoxFd, FileFd, setTimes } from './fds.js';
import { filetypeOf, type GuestMemory } from './guest-memory.js';

/** Who owns what the guest creates: the spec's uid and gid (recorded, never enforced). */
export interface Owner {
  uid: number;
  gid: number;
}

const encoder = new TextEncoder();
const DIRENT_SIZE = 24;
const dirent = new DataView(new ArrayBuffer(DIRENT_SIZE));
const direntBytes = new Uint8Array(dirent.buffer);
const DOT = encoder.encode('.');
const DOTDOT = encoder.encode('..');

/** An open directory (a preopen when `preopenName` is set). */
export class DirFd extends BoxFd {
  readonly filetype = wasi.FILETYPE_DIRECTORY;
  private listing: { name: Uint8Array; node: Inode }[] | undefined;

  constructor(
    readonly vfs: Vfs,
    readonly node: DirNode,
    readonly owner: Owner,
    rightsBase: bigint,
    rightsInheriting: bigint,
    readonly preopenName?: string,
  ) {
    super(rightsBase, rightsInheriting);
  }

  override fd_prestat_get(): { ret: number; prestat: wasi.Prestat | null } {
    if (this.preopenName === undefined) return super.fd_prestat_get();
    return { ret: wasi.ERRNO_SUCCESS, prestat: wasi.Prestat.dir(this.preopenName) };
  }

  override fd_fdstat_set_flags(): number {
    return wasi.ERRNO_SUCCESS;
  }

  override fd_read(): { ret: number; data: Uint8Array } {
    return { ret: wasi.ERRNO_ISDIR, data: new Uint8Array(0) };
  }

  override fd_filestat_set_times(atim: bigint, mtim: bigint, flags: number): number {
    return setTimes(this.node, atim, mtim, flags);
  }

  /** Fill guest memory at `buf` with dirents from `cookie`; a full buffer (bufLen) means "more may follow". */
  readdir(mem: GuestMemory, buf: number, bufLen: number, cookie: bigint): number {
    if (cookie === 0n || !this.listing) this.listing = this.snapshot();
    const bytes = mem.bytes;
    let used = 0;
    for (let i = Number(cookie); i < this.listing.length; i++) {
      const { name, node } = this.listing[i];
      dirent.setBigUint64(0, BigInt(i + 1), true);
      dirent.setBigUint64(8, BigInt(node.ino), true);
      dirent.setUint32(16, name.byteLength, true);
      dirent.setUint32(20, filetypeOf(node), true);
      // An entry that does not fit is cut short and the buffer reported full, as the spec asks.
      const head = Math.min(DIRENT_SIZE, bufLen - used);
      bytes.set(direntBytes.subarray(0, head), buf + used);
      used += head;
      const tail = Math.min(name.byteLength, bufLen - used);
      bytes.set(name.subarray(0, tail), buf + used);
      used += tail;
      if (head < DIRENT_SIZE || tail < name.byteLength) return bufLen;
    }
    return used;
  }

  private snapshot(): { name: Uint8Array; node: Inode }[] {
    const list = [{ name: DOT, node: this.node as Inode }, { name: DOTDOT, node: this.node.parent ?? this.node }];
    for (const [name, node] of this.node.entries()) list.push({ name: encoder.encode(name), node });
    return list;
  }

  override path_create_directory(path: string): number {
    return attempt(() => this.vfs.mkdir(path, { cwd: this.node, ...this.owner }));
  }

  override path_remove_directory(path: string): number {
    return attempt(() => this.vfs.unlink(path, { cwd: this.node, rmdir: true }));
  }

  override path_unlink_file(path: string): number {
    return attempt(() => this.vfs.unlink(path, { cwd: this.node }));
  }

  override path_filestat_set_times(lookupFlags: number, path: string, atim: bigint, mtim: bigint, flags: number): number {
    try {
      return setTimes(this.stat(path, lookupFlags), atim, mtim, flags);
    } catch (err) {
      return errnoOf(err);
    }
  }

  /** The node at `path`, following a final symlink when the lookup flags say so. */
  stat(path: string, lookupFlags: number): Inode {
    return this.vfs.get(path, { cwd: this.node, follow: (lookupFlags & LOOKUP_SYMLINK_FOLLOW) !== 0, syscall: 'stat' });
  }

  /** A symlink's target as written. */
  readlink(path: string): string {
    const node = this.vfs.get(path, { cwd: this.node, follow: false, syscall: 'readlink' });
    if (!(node instanceof SymlinkNode)) throw new VfsError('EINVAL', 'readlink', path);
    return node.target;
  }

  symlink(target: string, path: string): void {
    if (target === '') throw new VfsError('ENOENT', 'symlink', path);
    this.vfs.symlink(target, path, { cwd: this.node, ...this.owner });
  }

  link(node: Inode, path: string): void {
    this.vfs.hardlink(node, path, { cwd: this.node });
  }

  rename(from: string, to: DirFd, toPath: string): void {
    this.vfs.rename(from, toPath, { cwd: this.node, toCwd: to.node });
  }

  /** path_open: the new fd, or a thrown VfsError/WasiErrno. */
  open(path: string, lookupFlags: number, oflags: number, rightsBase: bigint, rightsInheriting: bigint, fdflags: number): BoxFd {
    const node = this.openNode(path, lookupFlags, oflags);
    const writable = (rightsBase & WRITE_RIGHTS) !== 0n;
    if (oflags & wasi.OFLAGS_DIRECTORY && !(node instanceof DirNode)) throw new VfsError('ENOTDIR', 'open', path);
    if (node instanceof DirNode) {
      if (writable || oflags & wasi.OFLAGS_TRUNC) throw new VfsError('EISDIR', 'open', path);
      return new DirFd(this.vfs, node, this.owner, rightsBase, rightsInheriting);
    }
    if (node instanceof SymlinkNode) throw new VfsError('ELOOP', 'open', path);
    if (!(node instanceof FileNode)) throw new WasiErrno(wasi.ERRNO_NXIO);
    if (writable || oflags & wasi.OFLAGS_TRUNC) this.vfs.writable(node, path, 'open');
    if (oflags & wasi.OFLAGS_TRUNC && node.size > 0) node.truncate(0);
    // A guest that asks for neither read nor write rights gets a read-only fd, like O_RDONLY (which is 0).
    const readable = (rightsBase & READ_RIGHTS) !== 0n || !writable;
    return new FileFd(node, readable, writable, fdflags, rightsBase);
  }

  private openNode(path: string, lookupFlags: number, oflags: number): Inode {
    const follow = (lookupFlags & LOOKUP_SYMLINK_FOLLOW) !== 0;
    if (!(oflags & wasi.OFLAGS_CREAT)) return this.vfs.get(path, { cwd: this.node, follow, syscall: 'open' });
    if (oflags & wasi.OFLAGS_DIRECTORY) throw new VfsError('EINVAL', 'open', path);
    if (path.endsWith('/')) throw new VfsError('EISDIR', 'open', path);
    // O_EXCL fails on any existing entry, a symlink included (dangling or not), as Linux does.
    const exclusive = (oflags & wasi.OFLAGS_EXCL) !== 0;
    const found = this.vfs.lookup(path, { cwd: this.node, follow: follow && !exclusive, syscall: 'open' });
    if (found.node && exclusive) throw new VfsError('EEXIST', 'open', path);
    if (found.node) return found.node;
    return this.vfs.createFile(path, { cwd: this.node, exclusive, ...this.owner });
  }
}
