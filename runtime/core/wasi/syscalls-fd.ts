// Our versions of the shim's fd_* entries that are wrong or slow there (each says why). The rest of the
// fd calls (sync/datasync/advise/allocate/fdstat/set_flags/set_size/set_times/prestat_dir_name) stay the
// shim's: they only marshal arguments to our Fd objects. Runtime code: web-standard APIs only.
import { wasi } from '@bjorn3/browser_wasi_shim';
import { DirFd } from './dir-fd.js';
import type { Guest } from './fd-table.js';
import { writeFilestat } from './guest-memory.js';

type Imports = Record<string, (...args: any[]) => unknown>;

/** Install the fd_* overrides into `imports` (the shim's wasiImport). */
export function overrideFdCalls(imports: Imports, g: Guest): void {
  const shimPrestatGet = imports.fd_prestat_get as (fd: number, ptr: number) => number;

  Object.assign(imports, {
    // The shim leaves the slot's hint untouched; ours keeps slots reusable (see fd-table.ts).
    fd_close(fd: number): number {
      const ret = g.fds.close(fd);
      return ret < 0 ? wasi.ERRNO_BADF : ret;
    },

    // The shim writes atim/mtim/ctim at offsets 38/46/52 instead of 40/48/56 (0.4.2 bug).
    fd_filestat_get(fd: number, ptr: number): number {
      const f = g.fds.get(fd);
      if (!f) return wasi.ERRNO_BADF;
      writeFilestat(g.mem.view, ptr, f.node);
      return wasi.ERRNO_SUCCESS;
    },

    // Wrapped so the engine sees the end of wasi-libc's preopen scan (the guest chdir hook uses it).
    fd_prestat_get(fd: number, ptr: number): number {
      const ret = shimPrestatGet(fd, ptr);
      if (ret === wasi.ERRNO_BADF) g.onPreopensListed?.();
      return ret;
    },

    // The shim calls fd_read once per iovec: a second blocking read on stdin after a short first one
    // would wait for input the guest did not need. One read for the total length, then scatter.
    fd_read(fd: number, iovs: number, iovsLen: number, nreadPtr: number): number {
      const f = g.fds.get(fd);
      if (!f) return wasi.ERRNO_BADF;
      const { ret, data } = f.fd_read(totalLength(g, iovs, iovsLen));
      if (ret !== wasi.ERRNO_SUCCESS) return ret;
      g.mem.view.setUint32(nreadPtr, scatter(g, iovs, iovsLen, data), true);
      return wasi.ERRNO_SUCCESS;
    },

    // Like fd_read, and without the shim's DataView per call (databases pread and pwrite a lot).
    fd_pread(fd: number, iovs: number, iovsLen: number, offset: bigint, nreadPtr: number): number {
      const f = g.fds.get(fd);
      if (!f) return wasi.ERRNO_BADF;
      const { ret, data } = f.fd_pread(totalLength(g, iovs, iovsLen), offset);
      if (ret !== wasi.ERRNO_SUCCESS) return ret;
      g.mem.view.setUint32(nreadPtr, scatter(g, iovs, iovsLen, data), true);
      return wasi.ERRNO_SUCCESS;
    },

    // The shim copies every iovec and writes them one by one; we pass views, and gather several
    // iovecs into one chunk so stdout sees one write per fd_write (as writev gives a pipe).
    fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
      const f = g.fds.get(fd);
      if (!f) return wasi.ERRNO_BADF;
      const { ret, nwritten } = f.fd_write(gather(g, iovs, iovsLen));
      if (ret !== wasi.ERRNO_SUCCESS) return ret;
      g.mem.view.setUint32(nwrittenPtr, nwritten, true);
      return wasi.ERRNO_SUCCESS;
    },

    fd_pwrite(fd: number, iovs: number, iovsLen: number, offset: bigint, nwrittenPtr: number): number {
      const f = g.fds.get(fd);
      if (!f) return wasi.ERRNO_BADF;
      const { ret, nwritten } = f.fd_pwrite(gather(g, iovs, iovsLen), offset);
      if (ret !== wasi.ERRNO_SUCCESS) return ret;
      g.mem.view.setUint32(nwrittenPtr, nwritten, true);
      return wasi.ERRNO_SUCCESS;
    },

    // The shim writes the result even when the seek failed, and allocates a DataView per call.
    fd_seek(fd: number, offset: bigint, whence: number, resultPtr: number): number {
      const f = g.fds.get(fd);
      if (!f) return wasi.ERRNO_BADF;
      const result = f.fd_seek(offset, whence);
      if (result.ret === wasi.ERRNO_SUCCESS) g.mem.view.setBigUint64(resultPtr, result.offset, true);
      return result.ret;
    },

    fd_tell(fd: number, resultPtr: number): number {
      const f = g.fds.get(fd);
      if (!f) return wasi.ERRNO_BADF;
      const result = f.fd_tell();
      if (result.ret === wasi.ERRNO_SUCCESS) g.mem.view.setBigUint64(resultPtr, result.offset, true);
      return result.ret;
    },

    // The shim allocates a Dirent (and an ArrayBuffer) per entry; ours writes straight into guest memory.
    fd_readdir(fd: number, buf: number, bufLen: number, cookie: bigint, bufusedPtr: number): number {
      const f = g.fds.get(fd);
      if (!f) return wasi.ERRNO_BADF;
      if (!(f instanceof DirFd)) return wasi.ERRNO_NOTDIR;
      const used = f.readdir(g.mem, buf, bufLen, cookie);
      g.mem.view.setUint32(bufusedPtr, used, true);
      return wasi.ERRNO_SUCCESS;
    },

    // The shim closes `to` before checking `from`, and renumbering an fd onto itself loses it.
    fd_renumber(from: number, to: number): number {
      return g.fds.renumber(from, to) ? wasi.ERRNO_SUCCESS : wasi.ERRNO_BADF;
    },
  });
}

/** The sum of an iovec list's lengths. */
function totalLength(g: Guest, iovs: number, iovsLen: number): number {
  const view = g.mem.view;
  let total = 0;
  for (let i = 0; i < iovsLen; i++) total += view.getUint32(iovs + 8 * i + 4, true);
  return total;
}

/** Copy `data` into an iovec list in order; returns the bytes copied. */
function scatter(g: Guest, iovs: number, iovsLen: number, data: Uint8Array): number {
  const view = g.mem.view;
  const bytes = g.mem.bytes;
  let at = 0;
  for (let i = 0; i < iovsLen && at < data.byteLength; i++) {
    const len = Math.min(view.getUint32(iovs + 8 * i + 4, true), data.byteLength - at);
    bytes.set(data.subarray(at, at + len), view.getUint32(iovs + 8 * i, true));
    at += len;
  }
  return at;
}

/** The bytes of an iovec list: a view when there is one non-empty iovec, else one gathered copy. */
function gather(g: Guest, iovs: number, iovsLen: number): Uint8Array {
  const view = g.mem.view;
  const bytes = g.mem.bytes;
  let only: Uint8Array | undefined;
  let total = 0;
  let parts = 0;
  for (let i = 0; i < iovsLen; i++) {
    const len = view.getUint32(iovs + 8 * i + 4, true);
    if (len === 0) continue;
    const buf = view.getUint32(iovs + 8 * i, true);
    if (buf + len > bytes.byteLength) throw new RangeError('iovec outside guest memory');
    only = bytes.subarray(buf, buf + len);
    total += len;
    parts++;
  }
  if (parts <= 1) return only ?? bytes.subarray(0, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < iovsLen; i++) {
    const buf = view.getUint32(iovs + 8 * i, true);
    const len = view.getUint32(iovs + 8 * i + 4, true);
    out.set(bytes.subarray(buf, buf + len), at);
    at += len;
  }
  return out;
}
