// The guest's open files: our own subclasses of the shim's Fd over Vfs nodes (the shim's File and
// Directory copy the whole file on every append and rebuild a directory listing per entry read).
// Directories are in dir-fd.ts. Runtime code: web-standard APIs only.
import { Fd, wasi } from '@bjorn3/browser_wasi_shim';
import type { InputSource, OutputSink } from '../process.js';
import { MAX_FILE_SIZE, type FileNode, type Inode } from '../vfs.js';
import type { GuestClock } from './clock.js';
import { attempt, STREAM_RIGHTS } from './errno.js';

const EMPTY = new Uint8Array(0);

/** What every fd of ours has: its node (none for streams), its file type, rights and flags. */
export abstract class BoxFd extends Fd {
  abstract readonly node: Inode | undefined;
  abstract readonly filetype: number;
  fdflags = 0;

  constructor(public rightsBase: bigint, public rightsInheriting: bigint) {
    super();
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat } {
    const fdstat = new wasi.Fdstat(this.filetype, this.fdflags);
    fdstat.fs_rights_base = this.rightsBase;
    fdstat.fs_rights_inherited = this.rightsInheriting;
    return { ret: wasi.ERRNO_SUCCESS, fdstat };
  }

  /** Rights only shrink; the engine records them but does not restrict by them. */
  override fd_fdstat_set_rights(base: bigint, inheriting: bigint): number {
    this.rightsBase &= base;
    this.rightsInheriting &= inheriting;
    return wasi.ERRNO_SUCCESS;
  }

  /** Only preopened directories answer prestat; wasi-libc stops scanning preopens at the first EBADF. */
  override fd_prestat_get(): { ret: number; prestat: wasi.Prestat | null } {
    return { ret: wasi.ERRNO_BADF, prestat: null };
  }

  // Path calls the shim forwards to whatever fd the guest names: only directories take paths.
  override path_create_directory(_path: string): number {
    return wasi.ERRNO_NOTDIR;
  }
  override path_filestat_set_times(_flags: number, _path: string, _atim: bigint, _mtim: bigint, _fstFlags: number): number {
    return wasi.ERRNO_NOTDIR;
  }
  override path_remove_directory(_path: string): number {
    return wasi.ERRNO_NOTDIR;
  }
  override path_unlink_file(_path: string): number {
    return wasi.ERRNO_NOTDIR;
  }
}

/**
 * stdio: streams, not files. No seek, tell, pread or pwrite (ESPIPE); flag changes (O_NONBLOCK...) are
 * accepted and ignored. They report as pipes, not terminals, as under `docker run` without -t, so
 * wasi-libc's isatty() is false and its stdout is block-buffered after the first line.
 */
abstract class StreamFd extends BoxFd {
  readonly node = undefined;
  readonly filetype = wasi.FILETYPE_UNKNOWN;
  constructor() {
    super(STREAM_RIGHTS, 0n);
  }

  override fd_seek(): { ret: number; offset: bigint } {
    return { ret: wasi.ERRNO_SPIPE, offset: 0n };
  }
  override fd_tell(): { ret: number; offset: bigint } {
    return { ret: wasi.ERRNO_SPIPE, offset: 0n };
  }
  override fd_pread(): { ret: number; data: Uint8Array } {
    return { ret: wasi.ERRNO_SPIPE, data: EMPTY };
  }
  override fd_pwrite(): { ret: number; nwritten: number } {
    return { ret: wasi.ERRNO_SPIPE, nwritten: 0 };
  }
  override fd_fdstat_set_flags(): number {
    return wasi.ERRNO_SUCCESS;
  }
}

/** stdin: reads go to the spec's synchronous input source; an empty chunk is end of input. */
export class InputFd extends StreamFd {
  constructor(private readonly source: InputSource, private readonly clock: GuestClock) {
    super();
  }

  override fd_read(size: number): { ret: number; data: Uint8Array } {
    return { ret: wasi.ERRNO_SUCCESS, data: size === 0 ? EMPTY : this.clock.blocking(() => this.source.read(size)) };
  }
  override fd_write(): { ret: number; nwritten: number } {
    return { ret: wasi.ERRNO_BADF, nwritten: 0 };
  }
}

/** stdout/stderr: each write goes to the sink at once, as a copy (the guest reuses its buffer, and
 *  sinks such as Node streams keep what they are given). */
export class OutputFd extends StreamFd {
  constructor(private readonly sink: OutputSink) {
    super();
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    if (data.byteLength > 0) this.sink(data.slice());
    return { ret: wasi.ERRNO_SUCCESS, nwritten: data.byteLength };
  }
  override fd_read(): { ret: number; data: Uint8Array } {
    return { ret: wasi.ERRNO_BADF, data: EMPTY };
  }
}

/** An open regular file: a position over a FileNode; writes copy-on-write the box's bytes. */
export class FileFd extends BoxFd {
  readonly filetype = wasi.FILETYPE_REGULAR_FILE;
  position = 0;

  constructor(readonly node: FileNode, readonly readable: boolean, readonly writable: boolean, fdflags: number, rightsBase: bigint) {
    super(rightsBase, 0n);
    this.fdflags = fdflags;
  }

  override fd_read(size: number): { ret: number; data: Uint8Array } {
    const result = this.fd_pread(size, BigInt(this.position));
    this.position += result.data.byteLength;
    return result;
  }

  override fd_pread(size: number, offset: bigint): { ret: number; data: Uint8Array } {
    if (!this.readable) return { ret: wasi.ERRNO_BADF, data: EMPTY };
    if (offset > BigInt(MAX_FILE_SIZE)) return { ret: wasi.ERRNO_SUCCESS, data: EMPTY };
    return { ret: wasi.ERRNO_SUCCESS, data: this.node.read(Number(offset), size) };
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    if (this.fdflags & wasi.FDFLAGS_APPEND) this.position = this.node.size;
    const result = this.fd_pwrite(data, BigInt(this.position));
    this.position += result.nwritten;
    return result;
  }

  override fd_pwrite(data: Uint8Array, offset: bigint): { ret: number; nwritten: number } {
    if (!this.writable) return { ret: wasi.ERRNO_BADF, nwritten: 0 };
    if (this.node.readonly) return { ret: wasi.ERRNO_ROFS, nwritten: 0 };
    if (offset + BigInt(data.byteLength) > BigInt(MAX_FILE_SIZE)) return { ret: wasi.ERRNO_FBIG, nwritten: 0 };
    if (data.byteLength === 0) return { ret: wasi.ERRNO_SUCCESS, nwritten: 0 };
    return { ret: wasi.ERRNO_SUCCESS, nwritten: this.node.write(Number(offset), data) };
  }

  override fd_seek(offset: bigint, whence: number): { ret: number; offset: bigint } {
    const base = whence === wasi.WHENCE_SET ? 0n : whence === wasi.WHENCE_CUR ? BigInt(this.position) : whence === wasi.WHENCE_END ? BigInt(this.node.size) : -1n;
    if (base < 0n) return { ret: wasi.ERRNO_INVAL, offset: BigInt(this.position) };
    const next = base + offset;
    if (next < 0n) return { ret: wasi.ERRNO_INVAL, offset: BigInt(this.position) };
    if (next > BigInt(MAX_FILE_SIZE)) return { ret: wasi.ERRNO_OVERFLOW, offset: BigInt(this.position) };
    this.position = Number(next);
    return { ret: wasi.ERRNO_SUCCESS, offset: next };
  }

  override fd_tell(): { ret: number; offset: bigint } {
    return { ret: wasi.ERRNO_SUCCESS, offset: BigInt(this.position) };
  }

  override fd_fdstat_set_flags(flags: number): number {
    this.fdflags = flags;
    return wasi.ERRNO_SUCCESS;
  }

  override fd_filestat_set_size(size: bigint): number {
    if (!this.writable) return wasi.ERRNO_BADF;
    if (this.node.readonly) return wasi.ERRNO_ROFS;
    if (size > BigInt(MAX_FILE_SIZE)) return wasi.ERRNO_FBIG;
    return attempt(() => this.node.truncate(Number(size)));
  }

  /** posix_fallocate: make sure the file is at least offset+len bytes long. */
  override fd_allocate(offset: bigint, len: bigint): number {
    if (!this.writable) return wasi.ERRNO_BADF;
    const end = offset + len;
    if (end <= BigInt(this.node.size)) return wasi.ERRNO_SUCCESS;
    return this.fd_filestat_set_size(end);
  }

  override fd_filestat_set_times(atim: bigint, mtim: bigint, flags: number): number {
    return setTimes(this.node, atim, mtim, flags);
  }
}

/** Set a node's access and modification times as fd/path_filestat_set_times ask (ctime becomes now). */
export function setTimes(node: Inode, atim: bigint, mtim: bigint, flags: number): number {
  if ((flags & wasi.FSTFLAGS_ATIM && flags & wasi.FSTFLAGS_ATIM_NOW) || (flags & wasi.FSTFLAGS_MTIM && flags & wasi.FSTFLAGS_MTIM_NOW)) {
    return wasi.ERRNO_INVAL;
  }
  if (node.readonly) return wasi.ERRNO_ROFS;
  const now = BigInt(Date.now()) * 1_000_000n;
  if (flags & wasi.FSTFLAGS_ATIM) node.atime = atim;
  else if (flags & wasi.FSTFLAGS_ATIM_NOW) node.atime = now;
  if (flags & wasi.FSTFLAGS_MTIM) node.mtime = mtim;
  else if (flags & wasi.FSTFLAGS_MTIM_NOW) node.mtime = now;
  node.touch(false);
  return wasi.ERRNO_SUCCESS;
}
