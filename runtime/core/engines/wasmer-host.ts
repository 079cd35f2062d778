// What the WASIX engine (@wasmer/sdk) needs from its host, checked before the sdk is loaded: it runs
// guests in Workers over shared WebAssembly memory and compiles them at run time. Hosts that lack any of
// that either fail deep inside the sdk or, worse, "run" guests that never start; we refuse them up front
// with a message that says what is missing. Runtime code: web-standard APIs only.

/** Which build of the sdk a host loads: Node's (worker_threads, node:net) or the browser one (Deno too). */
export type SdkFlavour = 'node' | 'browser';

interface HostGlobals {
  Deno?: unknown;
  process?: { versions?: { node?: string }; permission?: { has?: (scope: string) => boolean } };
  navigator?: { userAgent?: string };
  crossOriginIsolated?: boolean;
  SharedArrayBuffer?: unknown;
  Worker?: unknown;
  WebAssembly?: typeof WebAssembly;
}

/** The sdk build for this host, or throws WasixHostError saying what the host lacks. */
export function sdkFlavour(host: HostGlobals = globalThis as HostGlobals): SdkFlavour {
  const problem = hostProblem(host);
  if (problem) throw new WasixHostError(`the WASIX engine needs ${problem}`);
  return host.Deno === undefined && host.process?.versions?.node ? 'node' : 'browser';
}

/** The host cannot run the WASIX engine at all; the message says why and what to do. */
export class WasixHostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasixHostError';
  }
}

const ISOLATION = 'a cross-origin-isolated page (serve it with `Cross-Origin-Opener-Policy: same-origin` and ' +
  '`Cross-Origin-Embedder-Policy: require-corp`)';

/** What is missing, phrased to follow "the WASIX engine needs ", or undefined when nothing is. */
export function hostProblem(host: HostGlobals): string | undefined {
  const node = host.Deno === undefined && !!host.process?.versions?.node;
  // Only browsers gate SharedArrayBuffer on isolation; Node and Deno always have it.
  const browser = !node && host.Deno === undefined;
  if (host.navigator?.userAgent === 'Cloudflare-Workers') {
    return 'to compile WebAssembly at run time, which Cloudflare workerd forbids; run this box with the WASI engine ' +
      '(modules that import wasix_* cannot run on workerd)';
  }
  if (typeof host.WebAssembly?.Memory !== 'function') return 'WebAssembly, which this host does not provide';
  if (browser && host.crossOriginIsolated === false) return `${ISOLATION}; this page is not cross-origin isolated`;
  if (typeof host.SharedArrayBuffer !== 'function') return `SharedArrayBuffer, which this host hides; in a browser, ${ISOLATION}`;
  if (!sharedMemoryWorks(host)) return 'WebAssembly threads (shared memory), which this host does not support';
  if (!node && typeof host.Worker !== 'function') return 'Web Workers, which this host does not provide';
  return undefined;
}

function sharedMemoryWorks(host: HostGlobals): boolean {
  try {
    const memory = new host.WebAssembly!.Memory({ initial: 1, maximum: 1, shared: true });
    return memory.buffer instanceof (host.SharedArrayBuffer as typeof SharedArrayBuffer);
  } catch {
    return false;
  }
}

/** Likely causes of an sdk that "runs" guests which never start, for the error that reports it. */
export function silentRunHint(host: HostGlobals = globalThis as HostGlobals): string {
  if (host.process?.permission?.has?.('worker') === false) {
    return 'This Node process may not start worker threads (Node\'s permission model): run it with --allow-worker.';
  }
  if (host.Deno === undefined && !host.process?.versions?.node) {
    return `The sdk runs guests in Web Workers over shared memory: it needs ${ISOLATION}.`;
  }
  return 'The sdk runs guests in worker threads over shared memory; its "Wasmer SDK worker" messages on the console say what failed.';
}
