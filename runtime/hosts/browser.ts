// The browser host, and the module a web bundle ships as DIST/wasmbox.js: `runBox(options)` runs the
// bundle's box with the choices of `wasmbox run` (args, env, stdin, in-memory files, entrypoint, workdir);
// `openBox()` gives a WebBox for pages that run it repeatedly, stream output and type input (the bundle's
// own page is one). The guest runs in a module Worker so a run can be stopped; the box loads once per
// WebBox, with progress. Keyboard input needs a cross-origin-isolated page (shared memory) or, failing
// that, the bundle's service worker (browser-sw.ts), registered when `interactive` is asked for.
import type { BoxConfig } from '../core/box.js';
import type { Failure, FromWorker, ToWorker } from './browser-channel.js';
import { loadBundle, type LoadedBundle, type ProgressListener, type WebManifest } from './browser-load.js';
import { ActiveRun, bytesOf, choices, files, type RunResult, type WebRun, type WebRunOptions } from './browser-run.js';
import { ringFeed, serviceWorkerFeed, stdinServiceWorker, type StdinFeed } from './browser-stdin.js';

export type { Failure, ProgressListener, RunResult, WebManifest, WebRun, WebRunOptions };

/** How to open a bundle's box. */
export interface OpenOptions {
  /** The bundle directory's URL (default: the directory this module was loaded from). */
  base?: string | URL;
  onProgress?: ProgressListener;
  /** Prepare for keyboard input (`WebRun.write`); on pages that are not cross-origin isolated this registers the service worker. */
  interactive?: boolean;
  /** A Worker the page already started on `runtime/index.js` (the bundle's page starts one as it loads, to save time). */
  worker?: Worker;
}

/** A bundle's box, loaded, with the Worker its runs use. */
export class WebBox {
  private worker: Worker | undefined;
  private active: ActiveRun | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private tars = new Map<number, { resolve(b: Uint8Array): void; reject(e: Error): void }>();
  private readonly session = Math.random().toString(36).slice(2);

  private constructor(
    private readonly base: URL,
    private readonly bundle: LoadedBundle,
    private readonly sw: ServiceWorker | undefined,
    /** The image config: Env, WorkingDir, Entrypoint, Cmd... */
    readonly config: BoxConfig,
  ) {}

  /** Load the box of the bundle at `options.base` (default: beside this module). */
  static async open(options: OpenOptions = {}): Promise<WebBox> {
    const base = bundleBase(options.base);
    const needsSw = options.interactive && !crossOriginIsolated;
    const sw = needsSw ? stdinServiceWorker(base) : Promise.resolve(undefined);
    // The Worker loads its code while the box downloads. Where keyboard input goes through the service
    // worker, the Worker must start once that controls the page (a Worker is controlled only if its page
    // was when it started): a Worker the page started before, on a first visit, is replaced.
    const given = options.worker && (!needsSw || navigator.serviceWorker?.controller) ? options.worker : undefined;
    if (options.worker && !given) options.worker.terminate();
    const early = given ? Promise.resolve(given) : sw.then(() => startWorker(base));
    let bundle: LoadedBundle;
    try {
      bundle = await loadBundle(base, options.onProgress);
    } catch (err) {
      void early.then((w) => w.terminate());
      throw err;
    }
    const config = JSON.parse(new TextDecoder().decode(bundle.config)) as BoxConfig;
    const box = new WebBox(base, bundle, await sw, config);
    box.spawn(await early);
    return box;
  }

  /** The bundle's manifest: title, sizes and which optional parts (interpreters, WASIX engine) it has. */
  get manifest(): WebManifest {
    return this.bundle.manifest;
  }

  /** Whether the WASIX engine can run here: the bundle has it and the page is cross-origin isolated. */
  get wasix(): boolean {
    return this.bundle.manifest.vendor.wasmer && crossOriginIsolated;
  }

  /** Start a run (after any run still in progress); see WebRun. */
  start(options: WebRunOptions = {}): WebRun {
    const id = this.nextId++;
    const feed = options.interactive ? this.feed(id) : undefined;
    const run = new ActiveRun(id, options, feed, () => this.stopRun(run));
    this.queue = this.queue.then(() => this.begin(run, options)).catch(() => undefined);
    return run.handle;
  }

  /** Run to the end and collect the output. */
  run(options: WebRunOptions = {}): Promise<RunResult> {
    return this.start(options).done;
  }

  /** The guest filesystem after the last finished run, as a tar archive. */
  tar(): Promise<Uint8Array> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error('no run has finished yet (or the last one was stopped)'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.tars.set(id, { resolve, reject });
      post(worker, { type: 'tar', id });
    });
  }

  /** End the Worker; the next run starts a new one. */
  close(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }

  private feed(id: number): StdinFeed | undefined {
    if (crossOriginIsolated) return ringFeed();
    return this.sw ? serviceWorkerFeed(this.sw, this.base, `${this.session}/${id}`) : undefined;
  }

  private async begin(run: ActiveRun, options: WebRunOptions): Promise<void> {
    if (run.finished) return;
    const worker = this.spawn();
    this.active = run;
    const stdin = run.feed?.plan ?? (options.stdin !== undefined ? { kind: 'bytes' as const, bytes: bytesOf(options.stdin) } : { kind: 'none' as const });
    post(worker, { type: 'run', id: run.id, choices: choices(options), files: files(options.mounts), stdin });
    await run.handle.done;
    if (this.active === run) this.active = undefined;
  }

  private stopRun(run: ActiveRun): void {
    if (this.active === run) {
      this.close();
      this.active = undefined;
    }
    run.finish({ code: 130, outcome: 'stopped' });
  }

  private spawn(worker = this.worker ?? startWorker(this.base)): Worker {
    if (this.worker === worker) return worker;
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => this.receive(event.data));
    worker.addEventListener('error', (event) => this.crashed(worker, event.message || 'the Worker failed to start'));
    const { config, rootfs, manifest } = this.bundle;
    // Copies (not transfers): a stopped run's Worker is replaced and the new one needs the box again.
    post(worker, { type: 'box', config, rootfs, bundle: { base: this.base.href, vendor: manifest.vendor } });
    return (this.worker = worker);
  }

  private receive(message: FromWorker): void {
    if (message.type === 'tar') {
      const waiter = this.tars.get(message.id);
      this.tars.delete(message.id);
      if (message.bytes) waiter?.resolve(message.bytes);
      else waiter?.reject(new Error(message.error ?? 'no filesystem'));
      return;
    }
    const run = this.active;
    if (!run || run.id !== message.id) return;
    if (message.type === 'out') run.output(message.fd, message.bytes);
    else if (message.type === 'stdin-wait') run.inputWanted(message.seq);
    else run.finish({ code: message.code, outcome: message.failure ? 'failed' : 'exit', failure: message.failure });
  }

  private crashed(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.close();
    this.active?.finish({ code: 125, outcome: 'failed', failure: { kind: 'internal', message: `the box's Worker stopped: ${why}` } });
    for (const waiter of this.tars.values()) waiter.reject(new Error(why));
    this.tars.clear();
  }
}

const opened = new Map<string, Promise<WebBox>>();

/** Open `options.base` (once per page and bundle) and run its box: the embeddable form of `wasmbox run`. */
export async function runBox(options: WebRunOptions & Omit<OpenOptions, 'interactive'> = {}): Promise<RunResult> {
  const key = bundleBase(options.base).href;
  let box = opened.get(key);
  if (!box) opened.set(key, (box = WebBox.open(options)));
  box.catch(() => opened.delete(key));
  return (await box).run({ ...options, interactive: false });
}

/** Open the box of a web bundle (see WebBox). */
export function openBox(options: OpenOptions = {}): Promise<WebBox> {
  return WebBox.open(options);
}

function startWorker(base: URL): Worker {
  return new Worker(new URL('runtime/index.js', base), { type: 'module', name: 'wasmbox' });
}

function bundleBase(base: string | URL | undefined): URL {
  const url = new URL(base ?? './', base === undefined ? import.meta.url : location.href);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function post(worker: Worker, message: ToWorker): void {
  worker.postMessage(message);
}
