// Our versions of the shim's path_* entries that are wrong or missing there (each says why). The simple
// ones (create/remove directory, unlink, set_times) stay the shim's and reach DirFd's methods.
// Runtime code: web-standard APIs only.
import { wasi } from '@bjorn3/browser_wasi_shim';
import { DirFd } from './dir-fd.js';
import { attempt, WasiErrno } from './errno.js';
import type { Guest } from './fd-table.js';
import { writeFilestat } from './guest-memory.js';

type Imports = Record<string, (...args: any[]) => unknown>;

const encoder = new TextEncoder();

/** Install the path_* overrides into `imports` (the shim's wasiImport). */
export function overridePathCalls(imports: Imports, g: Guest): void {
  /** The directory fd `fd`, or the errno to return (EBADF when closed, ENOTDIR when not a directory). */
  const dir = (fd: number): DirFd | number => {
    const f = g.fds.get(fd);
    return f instanceof DirFd ? f : f ? wasi.ERRNO_NOTDIR : wasi.ERRNO_BADF;
  };
  const path = (ptr: number, len: number): string => g.mem.string(ptr, len);

  Object.assign(imports, {
    // The shim always appends to the fd table (slots are never reused) and has no symlink handling.
    path_open(fd: number, lookupFlags: number, ptr: number, len: number, oflags: number, base: bigint, inheriting: bigint, fdflags: number, openedPtr: number): number {
      const d = dir(fd);
      if (typeof d === 'number') return d;
      return attempt(() => {
        const opened = d.open(path(ptr, len), lookupFlags, oflags, base, inheriting, fdflags);
        const n = g.fds.add(opened);
        if (n < 0) throw new WasiErrno(wasi.ERRNO_MFILE);
        g.mem.view.setUint32(openedPtr, n, true);
      });
    },

    // The shim writes the timestamps at the wrong offsets (see fd_filestat_get).
    path_filestat_get(fd: number, lookupFlags: number, ptr: number, len: number, statPtr: number): number {
      const d = dir(fd);
      if (typeof d === 'number') return d;
      return attempt(() => writeFilestat(g.mem.view, statPtr, d.stat(path(ptr, len), lookupFlags)));
    },

    // The shim's version goes through its own Inode type, which our Vfs nodes are not.
    path_link(oldFd: number, oldFlags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number): number {
      const from = dir(oldFd);
      const to = dir(newFd);
      if (typeof from === 'number') return from;
      if (typeof to === 'number') return to;
      return attempt(() => to.link(from.stat(path(oldPtr, oldLen), oldFlags), path(newPtr, newLen)));
    },

    // The shim answers EBADF when the buffer is short; readlink(2) truncates and returns what fits.
    path_readlink(fd: number, ptr: number, len: number, buf: number, bufLen: number, nreadPtr: number): number {
      const d = dir(fd);
      if (typeof d === 'number') return d;
      return attempt(() => {
        const target = encoder.encode(d.readlink(path(ptr, len)));
        const n = Math.min(target.byteLength, bufLen);
        g.mem.bytes.set(target.subarray(0, n), buf);
        g.mem.view.setUint32(nreadPtr, n, true);
      });
    },

    // The shim unlinks then relinks (not atomic; throws a string when the relink fails) and cannot
    // replace an existing target; the Vfs does rename(2) in one step.
    path_rename(fd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number): number {
      const from = dir(fd);
      const to = dir(newFd);
      if (typeof from === 'number') return from;
      if (typeof to === 'number') return to;
      return attempt(() => from.rename(path(oldPtr, oldLen), to, path(newPtr, newLen)));
    },

    // The shim returns ENOTSUP. Targets are stored as written; the Vfs resolves them inside the box.
    path_symlink(oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number): number {
      const d = dir(fd);
      if (typeof d === 'number') return d;
      return attempt(() => d.symlink(path(oldPtr, oldLen), path(newPtr, newLen)));
    },
  });
}
