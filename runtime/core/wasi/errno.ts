// Turning filesystem failures into preview1 errno values, and the rights bits the engine reports.
// Runtime code: web-standard APIs only.
import { wasi } from '@bjorn3/browser_wasi_shim';
import { VfsError, type Errno } from '../vfs.js';

const ERRNO: Record<Errno, number> = {
  ENOENT: wasi.ERRNO_NOENT, ENOTDIR: wasi.ERRNO_NOTDIR, EISDIR: wasi.ERRNO_ISDIR, EEXIST: wasi.ERRNO_EXIST,
  ENOTEMPTY: wasi.ERRNO_NOTEMPTY, ELOOP: wasi.ERRNO_LOOP, EROFS: wasi.ERRNO_ROFS, EINVAL: wasi.ERRNO_INVAL,
  EXDEV: wasi.ERRNO_XDEV, EACCES: wasi.ERRNO_ACCES, EPERM: wasi.ERRNO_PERM, EBUSY: wasi.ERRNO_BUSY,
  EFBIG: wasi.ERRNO_FBIG, ENAMETOOLONG: wasi.ERRNO_NAMETOOLONG, EBADF: wasi.ERRNO_BADF,
};

/** A failure that only the engine raises (no Vfs name for it), carrying its preview1 errno. */
export class WasiErrno extends Error {
  constructor(readonly errno: number) {
    super(`WASI errno ${errno}`);
    this.name = 'WasiErrno';
  }
}

/** The preview1 errno for a filesystem error; anything else is a host bug and is rethrown. */
export function errnoOf(err: unknown): number {
  if (err instanceof VfsError) return ERRNO[err.code];
  if (err instanceof WasiErrno) return err.errno;
  throw err;
}

/** Run a filesystem operation, turning a VfsError into its errno (0 on success). */
export function attempt(op: () => void): number {
  try {
    op();
    return wasi.ERRNO_SUCCESS;
  } catch (err) {
    return errnoOf(err);
  }
}

/** All 29 preview1 rights: what preopens grant and hand down (the engine does not restrict by rights). */
export const ALL_RIGHTS = (1n << 29n) - 1n;

/** Rights that make an fd readable, as wasi-libc's openat derives them from O_RDONLY. */
export const READ_RIGHTS = BigInt(wasi.RIGHTS_FD_READ | wasi.RIGHTS_FD_READDIR);

/** Rights that make an fd writable, as wasi-libc's openat derives them from O_WRONLY. */
export const WRITE_RIGHTS = BigInt(wasi.RIGHTS_FD_WRITE | wasi.RIGHTS_FD_DATASYNC | wasi.RIGHTS_FD_ALLOCATE | wasi.RIGHTS_FD_FILESTAT_SET_SIZE);

/** Rights a stream (stdio) reports: no seek or tell, like a pipe. */
export const STREAM_RIGHTS = BigInt(wasi.RIGHTS_FD_READ | wasi.RIGHTS_FD_WRITE | wasi.RIGHTS_FD_FILESTAT_GET | wasi.RIGHTS_POLL_FD_READWRITE);

/** lookupflags bit 0: follow a final symlink (the shim does not define it). */
export const LOOKUP_SYMLINK_FOLLOW = 1;
