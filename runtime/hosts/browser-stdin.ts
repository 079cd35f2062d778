// The page's side of a guest's keyboard input (browser-input.ts is the guest's side): input written while
// the guest runs is queued and handed over as the guest can take it, through the shared ring on
// cross-origin-isolated pages, else through the service worker when the guest asks for the next piece;
// and the registration of that service worker (browser-sw.ts).
import { STDIN_PATH, type StdinDelivery, type StdinPlan } from './browser-channel.js';
import { RingWriter, createInputRing } from './node-rings.js';

/** Input a run receives while it runs: write pieces, then end it. */
export interface StdinFeed {
  readonly plan: StdinPlan;
  write(bytes: Uint8Array): void;
  end(): void;
  /** The guest asks for piece `seq` (service-worker input only). */
  wanted(seq: number): void;
  /** The run is over: stop waiting. */
  close(): void;
}

/** A feed through a shared ring (the page must be cross-origin isolated). */
export function ringFeed(): StdinFeed {
  const ring = createInputRing();
  const writer = new RingWriter(ring);
  const queue: Uint8Array[] = [];
  let [ended, pumping, closed] = [false, false, false];
  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    while (queue.length > 0 && !closed) {
      const n = writer.write(queue[0]);
      if (n === queue[0].byteLength) queue.shift();
      else (queue[0] = queue[0].subarray(n)), await writer.room();
    }
    pumping = false;
    if (ended && !closed) writer.end();
  };
  return {
    plan: { kind: 'ring', ring },
    write: (bytes) => void (queue.push(bytes.slice()), pump()),
    end: () => void ((ended = true), pump()),
    wanted: () => undefined,
    close: () => void ((closed = true), writer.release()),
  };
}

/** A feed through the bundle's service worker `sw`, for run `key` (unique on the page). */
export function serviceWorkerFeed(sw: ServiceWorker, base: URL, key: string): StdinFeed {
  const queue: Uint8Array[] = [];
  let [ended, closed] = [false, false];
  let asked: number | undefined;
  const deliver = (): void => {
    if (asked === undefined || closed || (queue.length === 0 && !ended)) return;
    const message: StdinDelivery = { wasmboxStdin: `${key}/${asked}` };
    if (queue.length > 0) message.bytes = join(queue.splice(0));
    else message.end = true;
    asked = undefined;
    sw.postMessage(message);
  };
  return {
    plan: { kind: 'service-worker', url: new URL(`${STDIN_PATH}${key}`, base).href },
    write: (bytes) => void (queue.push(bytes.slice()), deliver()),
    end: () => void ((ended = true), deliver()),
    wanted: (seq) => void ((asked = seq), deliver()),
    close: () => void (closed = true),
  };
}

/** A feed for a Worker that cannot reach the service worker yet: input is queued until `attach` gives the
 *  feed that can deliver it (or undefined: there is none, and `onLost` hears of input that had to go). */
export interface DeferredFeed extends StdinFeed {
  attach(feed: StdinFeed | undefined): void;
}

/** A DeferredFeed; its plan is `deferred` until attached, then the attached feed's. */
export function deferredFeed(onLost: () => void): DeferredFeed {
  const queue: Uint8Array[] = [];
  let [ended, closed] = [false, false];
  let target: StdinFeed | undefined;
  let attached = false;
  const forward = (): void => {
    if (!target) return void (queue.length > 0 && (queue.splice(0), onLost()));
    for (const bytes of queue.splice(0)) target.write(bytes);
    if (ended) target.end();
    if (closed) target.close();
  };
  return {
    get plan(): StdinPlan {
      return attached ? (target?.plan ?? { kind: 'none' }) : { kind: 'deferred' };
    },
    write: (bytes) => (attached ? (target ? target.write(bytes) : onLost()) : void queue.push(bytes.slice())),
    end: () => (attached ? target?.end() : void (ended = true)),
    wanted: (seq) => target?.wanted(seq),
    close: () => (attached ? target?.close() : void (closed = true)),
    attach: (feed) => {
      if (attached) return;
      [attached, target] = [true, feed];
      forward();
    },
  };
}

/** Keyboard input for a run: shared memory where the page is isolated, else through the service worker,
 *  deferred until the run's Worker can reach it; `onLost` hears of input typed where neither can be. */
export function keyboardFeed(onLost: () => void): StdinFeed | undefined {
  if (crossOriginIsolated) return ringFeed();
  return serviceWorkerPossible() ? deferredFeed(onLost) : undefined;
}

/** Whether a feed is a DeferredFeed. */
export function isDeferred(feed: StdinFeed | undefined): feed is DeferredFeed {
  return feed !== undefined && 'attach' in feed;
}

/** Whether this page is controlled by the service worker of the bundle at `base` (so Workers it starts are). */
export function controlledBy(base: URL): boolean {
  return navigator.serviceWorker?.controller?.scriptURL === new URL('wasmbox-sw.js', base).href;
}

/** Whether keyboard input on this page (not cross-origin isolated) can go through a service worker. */
export function serviceWorkerPossible(): boolean {
  return 'serviceWorker' in navigator && isSecureContext;
}

function join(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((at, c) => (out.set(c, at), at + c.byteLength), 0);
  return out;
}

/** The bundle's service worker, active and controlling this page, or undefined where it cannot be. */
export async function stdinServiceWorker(base: URL): Promise<ServiceWorker | undefined> {
  if (!serviceWorkerPossible()) return undefined;
  try {
    const registration = await navigator.serviceWorker.register(new URL('wasmbox-sw.js', base), { scope: base.pathname });
    const sw = registration.active ?? (await activated(registration));
    // The guest's Worker must be controlled by it, and a Worker follows the page that starts it.
    if (!navigator.serviceWorker.controller && location.pathname.startsWith(base.pathname)) {
      await Promise.race([new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true })), delay(3000)]);
    }
    return sw;
  } catch {
    return undefined;
  }
}

function activated(registration: ServiceWorkerRegistration): Promise<ServiceWorker | undefined> {
  const worker = registration.installing ?? registration.waiting;
  if (!worker) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const check = (): void => {
      if (worker.state === 'activated') resolve(worker);
      else if (worker.state === 'redundant') resolve(undefined);
    };
    worker.addEventListener('statechange', check);
    check();
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
