// The clocks a guest reads and the way it sleeps. Sleeping blocks the thread with Atomics.wait where the
// host allows it (Node, Deno, workers); elsewhere (a browser's main thread, workerd) it spins for at most
// MAX_SPIN_MS, and a host whose clock does not move while code runs (workerd) stops spinning at once.
// Either way the guest's clocks are advanced by whatever time it asked for and did not get, so a guest
// that loops "until the clock says N" always finishes. Runtime code: web-standard APIs only.

/** The longest a sleep spins the CPU where the thread cannot block. */
export const MAX_SPIN_MS = 20;

let waitCell: Int32Array | null | undefined;

/** Block the thread for `ms`; false when the host forbids blocking. */
function block(ms: number): boolean {
  if (waitCell === undefined) {
    waitCell = typeof SharedArrayBuffer === 'function' && typeof Atomics?.wait === 'function' ? new Int32Array(new SharedArrayBuffer(4)) : null;
  }
  if (!waitCell) return false;
  try {
    Atomics.wait(waitCell, 0, 0, ms);
    return true;
  } catch {
    // Browsers' main threads throw here; remember it so later sleeps go straight to the spin.
    waitCell = null;
    return false;
  }
}

/** Spin until `untilMs` (performance.now time) or MAX_SPIN_MS, or at once if the clock stands still. */
function spin(untilMs: number): void {
  const start = performance.now();
  const stop = Math.min(untilMs, start + MAX_SPIN_MS);
  for (let i = 0; performance.now() < stop; i++) {
    if (i === 1000 && performance.now() === start) return;
  }
}

/** One run's view of time: realtime, monotonic and CPU-time clocks in nanoseconds, and sleeping. */
export class GuestClock {
  /** Time the guest was told passed but the host could not wait for (added to its clocks). */
  private skewNs = 0n;
  /** Wall time spent blocked (sleeping, waiting for stdin), which is not CPU time. */
  private blockedMs = 0;
  private readonly startMs = performance.now();
  /** Date.now() and performance.now() read once, so realtime has performance.now()'s resolution. */
  private readonly epochMs = Date.now() - this.startMs;

  realtime(): bigint {
    return micros(this.epochMs + performance.now()) + this.skewNs;
  }

  monotonic(): bigint {
    return micros(performance.now()) + this.skewNs;
  }

  /** CPU time of the (single-threaded) guest: time since start minus time spent blocked. */
  cputime(): bigint {
    return micros(performance.now() - this.startMs - this.blockedMs);
  }

  /** Run `fn`, counting its duration as blocked (not CPU) time. */
  blocking<T>(fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.blockedMs += performance.now() - start;
    }
  }

  /** Sleep `ns` nanoseconds (see the notes at the top of this file). */
  sleep(ns: bigint): void {
    if (ns <= 0n) return;
    const start = performance.now();
    const until = start + Number(ns) / 1e6;
    if (!block(until - start)) spin(until);
    const end = performance.now();
    this.blockedMs += end - start;
    const slept = micros(end - start);
    if (slept < ns) this.skewNs += ns - slept;
  }
}

function micros(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}
