// The guest's stdin inside the browser host's Worker. A guest reads synchronously, so input it waits
// for must arrive while the Worker is blocked: through a SharedArrayBuffer ring (Atomics.wait) on
// cross-origin-isolated pages, else through synchronous requests that the bundle's service worker holds
// open until the page has sent it the next piece of input (browser-sw.ts).
import { NO_INPUT, bufferInput, type InputSource } from '../core/process.js';
import { STDIN_STATUS, type StdinPlan } from './browser-channel.js';
import { ringInput } from './node-rings.js';

/** How the input source reaches its host: say the guest waits for input (for service-worker input,
 *  piece `seq`; else -1), and report a problem once. */
export interface InputHooks {
  waiting(seq: number): void;
  warn(message: string): void;
}

/** The guest's stdin for a run's plan. */
export function guestInput(plan: StdinPlan, hooks: InputHooks): InputSource {
  switch (plan.kind) {
    case 'none':
    case 'deferred': // the guest was found never to read stdin (browser-stdin-need.ts)
      return NO_INPUT;
    case 'bytes':
      return bufferInput(plan.bytes);
    case 'ring': {
      // The page learns the guest wants input (to say so) from the first read since it last wrote.
      // `ready` (the WASIX engine's feeder) says nothing: it waits alongside a guest that may never read.
      const ring = ringInput(plan.ring);
      return { read: (max) => (hooks.waiting(-1), ring.read(max)), ready: ring.ready };
    }
    case 'service-worker':
      return new ServiceWorkerInput(plan.url, hooks);
  }
}

/** Input fetched piece by piece with synchronous requests the service worker answers. */
class ServiceWorkerInput implements InputSource {
  private pending = new Uint8Array(0);
  private seq = 0;
  private ended = false;

  constructor(
    private readonly url: string,
    private readonly hooks: InputHooks,
  ) {}

  read(max: number): Uint8Array {
    while (this.pending.byteLength === 0 && !this.ended && max > 0) this.next();
    const chunk = this.pending.subarray(0, max);
    this.pending = this.pending.subarray(chunk.byteLength);
    return chunk;
  }

  /** Wait for the next piece: the service worker answers "again" every so often while the user thinks. */
  private next(): void {
    this.hooks.waiting(this.seq);
    for (;;) {
      const request = new XMLHttpRequest();
      request.open('GET', `${this.url}/${this.seq}`, false);
      request.responseType = 'arraybuffer';
      try {
        request.send();
      } catch {
        return this.fail('the request for it failed');
      }
      if (request.status === STDIN_STATUS.again) continue;
      this.seq++;
      if (request.status === STDIN_STATUS.end) return void (this.ended = true);
      if (request.status !== STDIN_STATUS.data) return this.fail(`the service worker did not answer (HTTP ${request.status})`);
      this.pending = new Uint8Array(request.response as ArrayBuffer);
      return;
    }
  }

  private fail(why: string): void {
    this.ended = true;
    this.hooks.warn(`wasmbox: keyboard input cannot reach the box on this page (${why}); the box reads end of input. ` +
      'Serve the bundle over https or from localhost so its service worker can run, or cross-origin isolated (wasmbox serve --coop).');
  }
}
