// The Node host: runs a box's command in a worker thread and connects it to Node streams. The worker
// is what makes a run stoppable (a timeout or Ctrl-C terminates it, even in a tight loop or blocked on
// stdin) and what bounds its JavaScript heap; stdin goes in through a shared ring the guest blocks on,
// and output comes back through another as the guest writes it (node-rings.ts). Nothing of the host
// reaches the guest but the box, the caller's options and the mounts it names: the worker gets an
// empty process environment.
import { Worker } from 'node:worker_threads';
import type { Failure, MountSpec, RunChoices, TierChoice, WorkerEnd, WorkerInit } from './node-channel.js';
import { RingReader, RingWriter, createInputRing, createOutputRing } from './node-rings.js';
import { rememberHot } from './node-tier.js';

export type { Failure, MountSpec, TierChoice, TierMode } from './node-channel.js';

/** The two files of a box a host needs, as bytes. */
export interface BoxBytes {
  config: Uint8Array;
  rootfs: Uint8Array;
}

/** How to run a box in Node; the `docker run` choices plus where its stdio goes. */
export interface NodeRunOptions extends RunChoices {
  /** The box (or its promise: the worker starts while it loads). Its buffers are transferred, not copied. */
  box: BoxBytes | Promise<BoxBytes>;
  mounts?: MountSpec[];
  /** Forwarded to the guest's stdin (docker's `-i`); without it the guest reads end of input at once. */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** End the guest after this many milliseconds. */
  timeoutMs?: number;
  /** End the guest when aborted (e.g. on SIGINT); a numeric abort reason becomes the exit code. */
  signal?: AbortSignal;
  /** How modules are compiled (node-tier.ts); hot modules are remembered in `tier.dir` when it is set. */
  tier?: TierChoice;
}

/** How a run ended: the guest exited, was timed out or aborted, or could not run (`failure` says why). */
export interface NodeRunResult {
  outcome: 'exit' | 'timeout' | 'aborted' | 'failed';
  /** The guest's exit code; 124 on timeout, the abort reason (or 130) when aborted, 125/126/127/134/137 on failure. */
  exitCode: number;
  failure?: Failure;
  /** Problems writing read-write mounts back to the host. */
  warnings: string[];
}

const WORKER_URL = new URL('./node-worker.js', import.meta.url);

/** Run a box's command in a worker thread; resolves once the guest has ended and its output is written. */
export async function runNode(options: NodeRunOptions): Promise<NodeRunResult> {
  const worker = new Worker(WORKER_URL, { env: {}, resourceLimits: heapLimits(options.memoryLimit) });
  let box: BoxBytes;
  try {
    box = await options.box;
  } catch (err) {
    void worker.terminate();
    throw err;
  }
  return new Run(worker, options).start(box);
}

/** One run in progress: its worker, the output pump and the ways it can end. */
class Run {
  private readonly output = createOutputRing();
  private readonly reader = new RingReader(this.output);
  private readonly streams: Record<1 | 2, NodeJS.WritableStream>;
  private inflight = 0;
  private flushed: (() => void) | undefined;
  private settle!: (result: NodeRunResult) => void;
  private cleanups: (() => void)[] = [];
  private done = false;
  private closing = false;

  constructor(
    private readonly worker: Worker,
    private readonly options: NodeRunOptions,
  ) {
    this.streams = { 1: options.stdout ?? process.stdout, 2: options.stderr ?? process.stderr };
  }

  start(box: BoxBytes): Promise<NodeRunResult> {
    const result = new Promise<NodeRunResult>((resolve) => (this.settle = resolve));
    const o = this.options;
    const stdin = o.stdin ? createInputRing() : undefined;
    if (stdin && o.stdin) this.cleanups.push(feed(new RingWriter(stdin), o.stdin));
    const pumped = this.pump();
    this.watch(pumped);
    const [config, rootfs] = [own(box.config), own(box.rootfs)];
    const init: WorkerInit = {
      config, rootfs, stdin, output: this.output, mounts: o.mounts ?? [],
      args: o.args, entrypoint: o.entrypoint, env: o.env, workdir: o.workdir, engine: o.engine, memoryLimit: o.memoryLimit, tier: o.tier,
    };
    this.worker.postMessage(init, [config.buffer as ArrayBuffer, rootfs.buffer as ArrayBuffer]);
    return result;
  }

  private watch(pumped: Promise<void>): void {
    const { worker, options } = this;
    const finish = (r: NodeRunResult): void => void this.finish(r, pumped);
    worker.once('message', (m: WorkerEnd) => {
      if (m.hot && options.tier?.dir !== undefined) rememberHot(options.tier.dir, m.hot);
      finish({ outcome: m.failure ? 'failed' : 'exit', exitCode: m.code, failure: m.failure, warnings: m.warnings });
    });
    worker.on('error', (err: Error & { code?: string }) => finish(crashed(err)));
    worker.on('exit', (code) => finish(crashed(new Error(`the guest's worker stopped unexpectedly (exit code ${code})`))));
    if (options.timeoutMs !== undefined) {
      const timer = setTimeout(() => finish({ outcome: 'timeout', exitCode: 124, warnings: [] }), options.timeoutMs);
      this.cleanups.push(() => clearTimeout(timer));
    }
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => finish({ outcome: 'aborted', exitCode: typeof signal.reason === 'number' ? signal.reason : 130, warnings: [] });
      if (signal.aborted) queueMicrotask(onAbort);
      signal.addEventListener('abort', onAbort, { once: true });
      this.cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
  }

  /** Copy the guest's output to the streams as it comes, until the run is over and the ring is empty. */
  private async pump(): Promise<void> {
    for (;;) {
      const closing = this.closing;
      let full: NodeJS.WritableStream | undefined;
      for (const { fd, bytes } of this.reader.take()) if (!this.write(this.streams[fd], bytes)) full = this.streams[fd];
      if (closing) return; // that take() came after the guest stopped: nothing more can come
      if (full) await drained(full);
      else await this.reader.more();
    }
  }

  private write(stream: NodeJS.WritableStream, bytes: Uint8Array): boolean {
    this.inflight++;
    return stream.write(bytes, () => {
      if (--this.inflight === 0) this.flushed?.();
    });
  }

  /** The first ending wins: stop the worker and stdin, take the last output, wait until it is written. */
  private async finish(result: NodeRunResult, pumped: Promise<void>): Promise<void> {
    if (this.done) return;
    this.done = true;
    for (const cleanup of this.cleanups) cleanup();
    const stopped = this.worker.terminate();
    // A guest that ended said so after its last write; one that is being stopped may still be writing.
    if (result.outcome === 'timeout' || result.outcome === 'aborted') await stopped;
    this.closing = true;
    this.reader.release();
    await pumped;
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.flushed = resolve));
    this.settle(result);
  }
}

/** Resolves when a stream wants more (or can take no more at all). */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done).off('error', done).off('close', done);
      resolve();
    };
    stream.once('drain', done).once('error', done).once('close', done);
  });
}

/** Feed a Node stream into the guest's input ring, holding the stream back while the ring is full. */
function feed(ring: RingWriter, stream: NodeJS.ReadableStream): () => void {
  const queue: Uint8Array[] = [];
  let [ended, waiting, stopped] = [false, false, false];
  const pump = (): void => {
    if (stopped) return;
    while (queue.length > 0) {
      const n = ring.write(queue[0]);
      if (n < queue[0].byteLength) {
        queue[0] = queue[0].subarray(n);
        if (!waiting) {
          waiting = true;
          void ring.room().then(() => ((waiting = false), pump()));
        }
        return;
      }
      queue.shift();
    }
    if (ended) ring.end();
    else stream.resume();
  };
  const onData = (chunk: Uint8Array | string): void => {
    queue.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
    stream.pause();
    pump();
  };
  const onEnd = (): void => ((ended = true), pump());
  stream.on('data', onData).on('end', onEnd).on('error', onEnd);
  return () => {
    stopped = true;
    stream.off('data', onData).off('end', onEnd).off('error', onEnd);
    stream.pause();
    ring.release();
  };
}

/** A view whose buffer is its own, so it can be transferred (Node pools small Buffers). */
function own(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes : bytes.slice();
}

/** The JavaScript heap a guest's worker gets without --memory: ample for interpreters, far from the host's. */
export const DEFAULT_HEAP_MB = 2048;

// Wasm memory is not on the JavaScript heap, so --memory sizes the heap for what runs in JavaScript
// (the built-in shell, interpreters' glue): a runaway there stops near the same bound, never below 256 MB.
function heapLimits(memoryLimit: number | undefined): { maxOldGenerationSizeMb: number } {
  if (memoryLimit === undefined) return { maxOldGenerationSizeMb: DEFAULT_HEAP_MB };
  return { maxOldGenerationSizeMb: Math.min(4096, Math.max(256, Math.ceil(memoryLimit / 2 ** 20))) };
}

function crashed(err: Error & { code?: string }): NodeRunResult {
  if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return { outcome: 'failed', exitCode: 137, failure: { kind: 'oom', message: err.message }, warnings: [] };
  }
  return { outcome: 'failed', exitCode: 125, failure: { kind: 'internal', message: err.message, detail: err.stack }, warnings: [] };
}
