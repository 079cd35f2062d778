// poll_oneoff, replacing the shim's (one clock subscription only, flags read from the wrong offset, and a
// busy wait). Any number of clock subscriptions; fd subscriptions are always ready: box files never
// block, and stdin can only be read blocking (the input source has no "is data there?" call), so a guest
// that polls stdin is told to read and its read waits. Runtime code: web-standard APIs only.
import { wasi } from '@bjorn3/browser_wasi_shim';
import type { Guest } from './fd-table.js';
import { FileFd } from './fds.js';

const SUBSCRIPTION_SIZE = 48;
const EVENT_SIZE = 32;

/** One subscription, read from guest memory. */
interface Subscription {
  userdata: bigint;
  type: number;
  /** For clocks: nanoseconds from now until it fires, or an errno when the clock is unusable. */
  remaining: bigint;
  error: number;
  fd: number;
}

/** The preview1 poll_oneoff call. */
export function pollOneoff(g: Guest, inPtr: number, outPtr: number, nsubscriptions: number, neventsPtr: number): number {
  if (nsubscriptions === 0) return wasi.ERRNO_INVAL;
  const subs: Subscription[] = [];
  for (let i = 0; i < nsubscriptions; i++) subs.push(readSubscription(g, inPtr + i * SUBSCRIPTION_SIZE));
  const ready = subs.filter((s) => s.type !== wasi.EVENTTYPE_CLOCK || s.error !== wasi.ERRNO_SUCCESS || s.remaining === 0n);
  if (ready.length === 0) {
    let soonest = subs[0].remaining;
    for (const s of subs) if (s.remaining < soonest) soonest = s.remaining;
    g.clock.sleep(soonest);
    for (const s of subs) if (s.remaining <= soonest) ready.push(s);
  }
  const view = g.mem.view;
  const bytes = g.mem.bytes;
  ready.forEach((s, i) => {
    const at = outPtr + i * EVENT_SIZE;
    bytes.fill(0, at, at + EVENT_SIZE);
    view.setBigUint64(at, s.userdata, true);
    view.setUint16(at + 8, s.error, true);
    view.setUint8(at + 10, s.type);
    if (s.type !== wasi.EVENTTYPE_CLOCK) view.setBigUint64(at + 16, bytesReady(g, s.fd), true);
  });
  view.setUint32(neventsPtr, ready.length, true);
  return wasi.ERRNO_SUCCESS;
}

function readSubscription(g: Guest, at: number): Subscription {
  const view = g.mem.view;
  const userdata = view.getBigUint64(at, true);
  const type = view.getUint8(at + 8);
  if (type === wasi.EVENTTYPE_CLOCK) {
    const { remaining, error } = clockRemaining(g, view.getUint32(at + 16, true), view.getBigUint64(at + 24, true), view.getUint16(at + 40, true));
    return { userdata, type, remaining, error, fd: -1 };
  }
  const fd = view.getUint32(at + 16, true);
  const known = type === wasi.EVENTTYPE_FD_READ || type === wasi.EVENTTYPE_FD_WRITE;
  const error = !known ? wasi.ERRNO_INVAL : g.fds.get(fd) ? wasi.ERRNO_SUCCESS : wasi.ERRNO_BADF;
  return { userdata, type, remaining: 0n, error, fd };
}

/** How long until a clock subscription fires: relative timeouts as given, absolute ones against the clock. */
function clockRemaining(g: Guest, clockId: number, timeout: bigint, flags: number): { remaining: bigint; error: number } {
  const absolute = (flags & wasi.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) !== 0;
  let now: bigint;
  if (clockId === wasi.CLOCKID_MONOTONIC) now = g.clock.monotonic();
  else if (clockId === wasi.CLOCKID_REALTIME) now = g.clock.realtime();
  else return { remaining: 0n, error: wasi.ERRNO_NOTSUP };
  const remaining = absolute ? timeout - now : timeout;
  return { remaining: remaining > 0n ? remaining : 0n, error: wasi.ERRNO_SUCCESS };
}

/** nbytes for an fd event: what is left to read in a file, else 0 (unknown). */
function bytesReady(g: Guest, fd: number): bigint {
  const f = g.fds.get(fd);
  return f instanceof FileFd ? BigInt(Math.max(0, f.node.size - f.position)) : 0n;
}
