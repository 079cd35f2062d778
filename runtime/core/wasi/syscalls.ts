// Our syscall layer over the shim's WASI object: its wasiImport keeps the entries that only marshal
// arguments to our Fd objects; the ones below (and in syscalls-fd.ts, syscalls-path.ts, poll.ts) replace
// entries that are wrong or missing there. Every entry then runs inside a guard so a hostile guest gets
// an errno, never a host exception. Runtime code: web-standard APIs only.
import { WASIProcExit, wasi, type WASI } from '@bjorn3/browser_wasi_shim';
import { VfsError } from '../vfs.js';
import { errnoOf, WasiErrno } from './errno.js';
import type { Guest } from './fd-table.js';
import { pollOneoff } from './poll.js';
import { overrideFdCalls } from './syscalls-fd.js';
import { overridePathCalls } from './syscalls-path.js';

const encoder = new TextEncoder();
/** Signals whose default action is to ignore (or stop, which a guest cannot be): raising them is a no-op. */
const HARMLESS_SIGNALS = new Set([wasi.SIGNAL_CHLD, wasi.SIGNAL_CONT, wasi.SIGNAL_STOP, wasi.SIGNAL_TSTP, wasi.SIGNAL_TTIN, wasi.SIGNAL_TTOU, wasi.SIGNAL_URG, wasi.SIGNAL_WINCH]);

/** Replace the shim's broken or missing entries with ours and guard them all. */
export function installSyscalls(shim: WASI, g: Guest, argv: string[], env: string[]): void {
  const imports = shim.wasiImport;
  overrideFdCalls(imports, g);
  overridePathCalls(imports, g);
  const args = stringList(g, argv);
  const environ = stringList(g, env);
  Object.assign(imports, {
    // The shim sizes argv by UTF-16 length but writes UTF-8, overrunning the guest's buffer on non-ASCII.
    args_sizes_get: args.sizes,
    args_get: args.write,
    environ_sizes_get: environ.sizes,
    environ_get: environ.write,
    // The shim knows no CPU-time clocks (it returns 0 for them and ENOSYS for their resolution).
    clock_res_get(id: number, ptr: number): number {
      if (id < wasi.CLOCKID_REALTIME || id > wasi.CLOCKID_THREAD_CPUTIME_ID) return wasi.ERRNO_INVAL;
      g.mem.view.setBigUint64(ptr, 1000n, true);
      return wasi.ERRNO_SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, ptr: number): number {
      const c = g.clock;
      const t = id === wasi.CLOCKID_REALTIME ? c.realtime() : id === wasi.CLOCKID_MONOTONIC ? c.monotonic() : id <= wasi.CLOCKID_THREAD_CPUTIME_ID ? c.cputime() : -1n;
      if (t < 0n) return wasi.ERRNO_INVAL;
      g.mem.view.setBigUint64(ptr, t, true);
      return wasi.ERRNO_SUCCESS;
    },
    poll_oneoff: (inPtr: number, outPtr: number, n: number, neventsPtr: number) => pollOneoff(g, inPtr, outPtr, n, neventsPtr),
    // The shim throws a string. A terminating signal ends the guest as the kernel would: 128 + the
    // Linux signal number (preview1 numbers signals as Linux does up to 15, then one lower).
    proc_raise(sig: number): number {
      if (sig === wasi.SIGNAL_NONE || HARMLESS_SIGNALS.has(sig)) return wasi.ERRNO_SUCCESS;
      if (sig > wasi.SIGNAL_SYS) return wasi.ERRNO_INVAL;
      throw new WASIProcExit(128 + (sig >= wasi.SIGNAL_CHLD ? sig + 1 : sig));
    },
    sched_yield: () => wasi.ERRNO_SUCCESS,
    // The shim throws strings; a box has no network, so guests get ENOTSUP.
    sock_accept: () => wasi.ERRNO_NOTSUP,
    sock_recv: () => wasi.ERRNO_NOTSUP,
    sock_send: () => wasi.ERRNO_NOTSUP,
    sock_shutdown: () => wasi.ERRNO_NOTSUP,
  });
  for (const name of Object.keys(imports)) imports[name] = guarded(imports[name]);
}

/** args_* / environ_*: the strings encoded once, sized and written in UTF-8 bytes. */
function stringList(g: Guest, list: string[]): { sizes: (countPtr: number, sizePtr: number) => number; write: (ptrs: number, buf: number) => number } {
  const encoded = list.map((s) => encoder.encode(s));
  const size = encoded.reduce((n, e) => n + e.byteLength + 1, 0);
  return {
    sizes(countPtr, sizePtr) {
      g.mem.view.setUint32(countPtr, encoded.length, true);
      g.mem.view.setUint32(sizePtr, size, true);
      return wasi.ERRNO_SUCCESS;
    },
    write(ptrs, buf) {
      const view = g.mem.view;
      const bytes = g.mem.bytes;
      encoded.forEach((e, i) => {
        view.setUint32(ptrs + 4 * i, buf, true);
        bytes.set(e, buf);
        bytes[buf + e.byteLength] = 0;
        buf += e.byteLength + 1;
      });
      return wasi.ERRNO_SUCCESS;
    },
  };
}

/**
 * An entry that turns what a guest can cause into errnos: pointers outside its memory (RangeError from
 * a view) become EFAULT, filesystem errors their errno. Exits and host bugs pass through. Every i32 in
 * preview1 is unsigned, but JS receives them signed: a pointer such as 0xfffffff0 would arrive as -16,
 * which typed arrays read as "16 bytes before the end", so numbers are made unsigned first. Fixed arity
 * (preview1's longest call takes 9 arguments) so no arguments array is allocated per call.
 */
function guarded(fn: (...args: any[]) => unknown): (...args: unknown[]) => unknown {
  return (a, b, c, d, e, f, g, h, i) => {
    try {
      return fn(u(a), u(b), u(c), u(d), u(e), u(f), u(g), u(h), u(i));
    } catch (err) {
      if (err instanceof RangeError && !/call stack/i.test(err.message)) return wasi.ERRNO_FAULT;
      if (err instanceof VfsError || err instanceof WasiErrno) return errnoOf(err);
      throw err;
    }
  };
}

function u(x: unknown): unknown {
  return typeof x === 'number' ? x >>> 0 : x;
}
