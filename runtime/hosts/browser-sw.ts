// The web bundle's service worker (DIST/wasmbox-sw.js): it lets a guest read keyboard input on pages that
// are not cross-origin isolated, where a Worker has no way to block on shared memory. The guest's Worker
// asks for input piece by piece with synchronous requests under STDIN_PATH; this holds each request open
// until the page sends the piece (or the end of input), and answers "ask again" now and then so no request
// outlives the browser's limits. Every other request goes to the network untouched.
import { STDIN_PATH, STDIN_STATUS, type StdinDelivery } from './browser-channel.js';

/** The parts of the service worker scope this uses (TypeScript's DOM lib does not describe it). */
interface ServiceWorkerScope {
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', listener: (event: { waitUntil(p: Promise<unknown>): void }) => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'fetch', listener: (event: { request: Request; respondWith(r: Promise<Response>): void }) => void): void;
}

const scope = globalThis as unknown as ServiceWorkerScope;
/** How long a request for input is held before the guest is told to ask again. */
const HOLD_MS = 20_000;

const arrived = new Map<string, StdinDelivery>();
const waiting = new Map<string, (delivery: StdinDelivery | undefined) => void>();

scope.addEventListener('install', (event) => event.waitUntil(scope.skipWaiting()));
// Claiming the open pages at once lets the first visit's Worker be controlled, without a reload.
scope.addEventListener('activate', (event) => event.waitUntil(scope.clients.claim()));

scope.addEventListener('message', (event) => {
  const delivery = event.data as StdinDelivery | null;
  if (typeof delivery?.wasmboxStdin !== 'string') return;
  const waiter = waiting.get(delivery.wasmboxStdin);
  if (waiter) waiter(delivery);
  else arrived.set(delivery.wasmboxStdin, delivery);
});

scope.addEventListener('fetch', (event) => {
  const path = new URL(event.request.url).pathname;
  const at = path.indexOf(`/${STDIN_PATH}`);
  if (at < 0) return;
  event.respondWith(answer(path.slice(at + STDIN_PATH.length + 1)));
});

async function answer(key: string): Promise<Response> {
  let delivery = arrived.get(key);
  arrived.delete(key);
  if (!delivery) {
    delivery = await new Promise<StdinDelivery | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), HOLD_MS);
      waiting.set(key, (d) => (clearTimeout(timer), resolve(d)));
    });
    waiting.delete(key);
  }
  const headers = { 'cache-control': 'no-store' };
  if (!delivery) return new Response(null, { status: STDIN_STATUS.again, headers });
  if (delivery.end) return new Response(null, { status: STDIN_STATUS.end, headers });
  return new Response(delivery.bytes as Uint8Array<ArrayBuffer>, { status: STDIN_STATUS.data, headers: { ...headers, 'content-type': 'application/octet-stream' } });
}
