// The guest's stdio between the Node host's main thread and the guest's worker, as SharedArrayBuffer
// rings. Input: the host copies stdin in as it arrives, the guest blocks on Atomics.wait until there is
// some. Output: the guest copies each write in (a memcpy, no message) and wakes the host only when the
// host sleeps; the host takes everything there in one go, so small writes coalesce while it is busy and
// a slow stdout reader fills the ring and makes the guest wait, instead of filling the host's memory.
// Counters are wrapping Int32 byte counts over power-of-two regions (the mask picks the slot).
// No node: imports, so the worker side stays plain JavaScript.
import type { InputSource, OutputSink } from '../core/process.js';

const HEAD = 0; // bytes written
const TAIL = 1; // bytes taken
const FLAG = 2; // input: end of input; output: the host is asleep waiting for HEAD to move
const SEQ = 3; // input: changes on every write and at the end, for the guest to sleep on
const CONTROL_BYTES = 16;

// Atomics.waitAsync is in every host we target (Node 16+, Chromium, Deno) but only in TypeScript's ES2024 lib.
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { value: Promise<string> | string };
}).waitAsync;

function ring(capacity: number): SharedArrayBuffer {
  if (capacity < 64 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring capacity ${capacity} is not a power of two of at least 64`);
  return new SharedArrayBuffer(CONTROL_BYTES + capacity);
}

/** Copy `src` into the ring region `data` at counter `at`, wrapping at the end. */
function put(data: Uint8Array, at: number, src: Uint8Array): void {
  const i = at & (data.byteLength - 1);
  const first = Math.min(src.byteLength, data.byteLength - i);
  data.set(src.subarray(0, first), i);
  data.set(src.subarray(first), 0);
}

/** Copy `n` bytes out of the ring region `data` from counter `at` into `out` at `to`, wrapping at the end. */
function copyOut(data: Uint8Array, at: number, n: number, out = new Uint8Array(n), to = 0): Uint8Array {
  const i = at & (data.byteLength - 1);
  const first = Math.min(n, data.byteLength - i);
  out.set(data.subarray(i, i + first), to);
  out.set(data.subarray(0, n - first), to + first);
  return out;
}

/** A fresh input ring holding up to `capacity` bytes (a power of two). */
export function createInputRing(capacity = 64 * 1024): SharedArrayBuffer {
  return ring(capacity);
}

/** The guest's side of an input ring: blocking reads, an empty array at end of input, and `ready` for callers that must not block. */
export function ringInput(sab: SharedArrayBuffer): InputSource {
  const ctrl = new Int32Array(sab, 0, 4);
  const data = new Uint8Array(sab, CONTROL_BYTES);
  return {
    read(max: number): Uint8Array {
      for (;;) {
        const seq = Atomics.load(ctrl, SEQ);
        const tail = Atomics.load(ctrl, TAIL);
        const used = (Atomics.load(ctrl, HEAD) - tail) | 0;
        if (used > 0 && max > 0) {
          const out = copyOut(data, tail, Math.min(max, used));
          Atomics.store(ctrl, TAIL, (tail + out.byteLength) | 0);
          Atomics.notify(ctrl, TAIL);
          return out;
        }
        if (Atomics.load(ctrl, FLAG) || max <= 0) return new Uint8Array(0);
        Atomics.wait(ctrl, SEQ, seq);
      }
    },
    async ready(signal?: AbortSignal): Promise<void> {
      // Aborting wakes our own wait: nothing else waits on SEQ in this thread while this one awaits.
      const wake = (): void => void Atomics.notify(ctrl, SEQ);
      signal?.addEventListener('abort', wake, { once: true });
      try {
        for (;;) {
          const seq = Atomics.load(ctrl, SEQ);
          if (signal?.aborted || Atomics.load(ctrl, HEAD) !== Atomics.load(ctrl, TAIL) || Atomics.load(ctrl, FLAG)) return;
          await waitAsync(ctrl, SEQ, seq).value;
        }
      } finally {
        signal?.removeEventListener('abort', wake);
      }
    },
  };
}

/** The host's side of an input ring: copies what fits, marks the end, waits (asynchronously) for room. */
export class RingWriter {
  private readonly ctrl: Int32Array;
  private readonly data: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.ctrl = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, CONTROL_BYTES);
  }

  /** Copy as much of `chunk` as there is room for; returns how many bytes were taken. */
  write(chunk: Uint8Array): number {
    const head = Atomics.load(this.ctrl, HEAD);
    const free = this.data.byteLength - ((head - Atomics.load(this.ctrl, TAIL)) | 0);
    const n = Math.min(free, chunk.byteLength);
    if (n === 0) return 0;
    put(this.data, head, chunk.subarray(0, n));
    Atomics.store(this.ctrl, HEAD, (head + n) | 0);
    this.wake();
    return n;
  }

  /** Mark the end of input: reads return what is left, then empty arrays. */
  end(): void {
    Atomics.store(this.ctrl, FLAG, 1);
    this.wake();
  }

  /** Resolves once the guest has taken something (at once if the ring is not full). */
  async room(): Promise<void> {
    const tail = Atomics.load(this.ctrl, TAIL);
    if (((Atomics.load(this.ctrl, HEAD) - tail) | 0) < this.data.byteLength) return;
    await waitAsync(this.ctrl, TAIL, tail).value;
  }

  /** Release a pending {@link room} wait (the run is over). */
  release(): void {
    Atomics.notify(this.ctrl, TAIL);
  }

  private wake(): void {
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
  }
}

// Output records: an Int32 header (fd << 30 | length) at a 4-aligned counter, then the bytes, padded
// to 4, so headers never wrap and stdout and stderr keep their relative order.
const MAX_RECORD = (1 << 30) - 1;
const pad4 = (n: number): number => (n + 3) & ~3;

/** A fresh output ring of `capacity` bytes (a power of two): the most output that waits for the host. */
export function createOutputRing(capacity = 1 << 20): SharedArrayBuffer {
  return ring(capacity);
}

/** The guest's side of the output ring, for fd 1 or 2; blocks while the ring is full. */
export function ringOutput(sab: SharedArrayBuffer, fd: 1 | 2): OutputSink {
  const ctrl = new Int32Array(sab, 0, 4);
  const data = new Uint8Array(sab, CONTROL_BYTES);
  const headers = new Int32Array(sab, CONTROL_BYTES);
  return (bytes) => {
    for (let at = 0; at < bytes.byteLength; ) {
      const head = Atomics.load(ctrl, HEAD);
      const tail = Atomics.load(ctrl, TAIL);
      const free = data.byteLength - ((head - tail) | 0);
      if (free < 8) {
        Atomics.wait(ctrl, TAIL, tail);
        continue;
      }
      const n = Math.min(bytes.byteLength - at, free - 4, MAX_RECORD);
      headers[(head & (data.byteLength - 1)) >> 2] = (fd << 30) | n;
      put(data, head + 4, bytes.subarray(at, at + n));
      Atomics.store(ctrl, HEAD, (head + 4 + pad4(n)) | 0);
      if (Atomics.load(ctrl, FLAG)) Atomics.notify(ctrl, HEAD);
      at += n;
    }
  };
}

/** A run of output for one fd, as the host takes it from the ring. */
export interface OutputChunk {
  fd: 1 | 2;
  bytes: Uint8Array;
}

/** The host's side of the output ring: take what is there, sleep until there is more. */
export class RingReader {
  private readonly ctrl: Int32Array;
  private readonly data: Uint8Array;
  private readonly headers: Int32Array;

  constructor(sab: SharedArrayBuffer) {
    this.ctrl = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, CONTROL_BYTES);
    this.headers = new Int32Array(sab, CONTROL_BYTES);
  }

  /** Everything written since the last call, consecutive records of one fd joined; frees the ring. */
  take(): OutputChunk[] {
    const head = Atomics.load(this.ctrl, HEAD);
    let tail = Atomics.load(this.ctrl, TAIL);
    const runs: { fd: 1 | 2; spans: [number, number][]; size: number }[] = [];
    while (tail !== head) {
      const header = this.headers[(tail & (this.data.byteLength - 1)) >> 2];
      const fd = (header >>> 30) as 1 | 2;
      const n = header & MAX_RECORD;
      let run = runs[runs.length - 1];
      if (run?.fd !== fd) runs.push((run = { fd, spans: [], size: 0 }));
      run.spans.push([tail + 4, n]);
      run.size += n;
      tail = (tail + 4 + pad4(n)) | 0;
    }
    const chunks = runs.map(({ fd, spans, size }) => {
      const bytes = new Uint8Array(size);
      spans.reduce((to, [from, n]) => (copyOut(this.data, from, n, bytes, to), to + n), 0);
      return { fd, bytes };
    });
    Atomics.store(this.ctrl, TAIL, tail);
    Atomics.notify(this.ctrl, TAIL);
    return chunks;
  }

  /** Resolves when the guest has written more (or {@link release} is called). */
  async more(): Promise<void> {
    Atomics.store(this.ctrl, FLAG, 1);
    // Checked after raising the flag: a write between our take() and here is seen now, or it wakes us.
    const head = Atomics.load(this.ctrl, HEAD);
    if (head === Atomics.load(this.ctrl, TAIL)) await waitAsync(this.ctrl, HEAD, head).value;
    Atomics.store(this.ctrl, FLAG, 0);
  }

  /** Wake a pending {@link more} (the run is over). */
  release(): void {
    Atomics.notify(this.ctrl, HEAD);
  }
}
