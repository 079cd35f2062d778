// The browser host, and the module a web bundle ships as DIST/wasmbox.js: `runBox(options)` runs the
// bundle's box with the choices of `wasmbox run` (args, env, stdin, in-memory files, entrypoint, workdir);
// `openBox()` gives a WebBox for pages that run it repeatedly, stream output and type input (the bundle's
// own page is one). The guest runs in a module Worker so a run can be stopped; the box loads once per
// WebBox, with progress. Keyboard input needs a cross-origin-isolated page (shared memory) or, failing
// that, the bundle's service worker (browser-sw.ts), registered only once a guest that may read its
// stdin runs (browser-stdin-need.ts), so that a box which never reads starts without waiting for it.
import type { BoxConfig } from '../core/box.js';
import type { Boot } from './browser-boot.js';
import type { Failure, FromWorker, ToWorker } from './browser-channel.js';
import { loadBundle, type LoadedBundle, type ProgressListener, type WebManifest } from './browser-load.js';
import { ActiveRun, bytesOf, choices, files, sameRun, type RunResult, type WebRun, type WebRunOptions } from './browser-run.js';
import { controlledBy, isDeferred, keyboardFeed, serviceWorkerFeed, stdinServiceWorker } from './browser-stdin.js';

export type { Failure, ProgressListener, RunResult, WebManifest, WebRun, WebRunOptions };

/** How to open a bundle's box. */
export interface OpenOptions {
  /** The bundle directory's URL (default: the directory this module was loaded from). */
  base?: string | URL;
  onProgress?: ProgressListener;
  /** Accepted for compatibility: keyboard input is prepared per run (`WebRunOptions.interactive`). */
  interactive?: boolean;
  /** A Worker the page already started on `runtime/index.js`. */
  worker?: Worker;
  /** What the bundle page's boot script started (browser-boot.ts): its Worker, box and run are taken over. */
  boot?: Boot;
}

/** A run the boot script started, until the page's first run takes it over (or it is dropped). */
interface EarlyRun {
  id: number;
  options: WebRunOptions;
  messages: FromWorker[];
}

/** A bundle's box, loaded, with the Worker its runs use. */
export class WebBox {
  private worker: Worker | undefined;
  private active: ActiveRun | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private tars = new Map<number, { resolve(b: Uint8Array): void; reject(e: Error): void }>();
  private readonly session = Math.random().toString(36).slice(2);
  /** Whether the current Worker started while the bundle's service worker controlled the page. */
  private controlled = false;
  private sw: Promise<ServiceWorker | undefined> | undefined;
  private early: EarlyRun | undefined;

  private constructor(
    private readonly base: URL,
    private readonly bundle: LoadedBundle,
    /** The image config: Env, WorkingDir, Entrypoint, Cmd... */
    readonly config: BoxConfig,
  ) {}

  /** Load the box of the bundle at `options.base` (default: beside this module). */
  static async open(options: OpenOptions = {}): Promise<WebBox> {
    const base = bundleBase(options.base);
    // The Worker loads its code while the box downloads. The page's early Worker started before any of
    // our code ran, so the page's service worker then is the one it has now (ours registers only later).
    const controlled = controlledBy(base);
    const { boot } = options;
    const worker = boot?.worker ?? options.worker ?? startWorker(base);
    if (boot) (boot.onProgress = options.onProgress), boot.progress && options.onProgress?.(...boot.progress);
    let bundle: LoadedBundle;
    try {
      bundle = await (boot?.bundle ?? loadBundle(base, options.onProgress));
    } catch (err) {
      worker.terminate();
      throw err;
    }
    const config = JSON.parse(new TextDecoder().decode(bundle.config)) as BoxConfig;
    const box = new WebBox(base, bundle, config);
    box.spawn(worker, controlled, boot);
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
    const early = this.takeEarly(options);
    let run: ActiveRun | undefined;
    const feed = options.interactive ? keyboardFeed(() => run?.noInput()) : undefined;
    run = new ActiveRun(early?.id ?? this.nextId++, options, feed, () => this.stopRun(run!));
    if (early) this.adopt(run, early);
    else this.queue = this.queue.then(() => this.begin(run, options)).catch(() => undefined);
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

  /** The boot script's run when `options` are the ones it was started with; any other is dropped (its Worker ended). */
  private takeEarly(options: WebRunOptions): EarlyRun | undefined {
    const early = this.early;
    this.early = undefined;
    if (!early) return undefined;
    if (sameRun(early.options, options)) return early;
    this.close();
    return undefined;
  }

  /** Make the boot script's run this page's first: what it said so far, then the rest as it comes. */
  private adopt(run: ActiveRun, early: EarlyRun): void {
    this.active = run;
    for (const message of early.messages) this.receive(message);
    this.queue = run.handle.done.then(() => void (this.active === run && (this.active = undefined)));
  }

  private async begin(run: ActiveRun, options: WebRunOptions): Promise<void> {
    if (run.finished) return;
    this.spawn();
    this.active = run;
    this.post(run, options);
    await run.handle.done;
    if (this.active === run) this.active = undefined;
  }

  private post(run: ActiveRun, options: WebRunOptions): void {
    const feed = run.feed;
    const controller = navigator.serviceWorker?.controller;
    // A Worker the service worker controls reads its input from it straight away.
    if (isDeferred(feed) && this.controlled && controller) feed.attach(serviceWorkerFeed(controller, this.base, `${this.session}/${run.id}`));
    const stdin = feed?.plan ?? (options.stdin !== undefined ? { kind: 'bytes' as const, bytes: bytesOf(options.stdin) } : { kind: 'none' as const });
    post(this.worker!, { type: 'run', id: run.id, choices: choices(options), files: files(options.mounts), stdin });
  }

  /** The run's guest may read stdin and was not started (nothing of it has run). Where its input goes
   *  through the service worker and this Worker cannot reach it, register that and use a new Worker, which
   *  it controls; else (isolated pages, runs without keyboard input) start it again here, as it is. */
  private async stdinNeeded(run: ActiveRun): Promise<void> {
    if (isDeferred(run.feed) && !this.controlled) {
      this.sw ??= stdinServiceWorker(this.base);
      await this.sw;
      if (run.finished || this.active !== run) return;
      this.close();
      this.spawn();
      // Where the service worker could not take the page, the run goes ahead without keyboard input.
      if (!this.controlled) run.feed.attach(undefined);
    }
    if (!run.finished && this.active === run) this.post(run, run.options);
  }

  private stopRun(run: ActiveRun): void {
    if (this.active === run) {
      this.close();
      this.active = undefined;
    }
    run.finish({ code: 130, outcome: 'stopped' });
  }

  private spawn(worker = this.worker ?? startWorker(this.base), controlled = controlledBy(this.base), boot?: Boot): Worker {
    if (this.worker === worker) return worker;
    this.controlled = controlled;
    this.worker = worker;
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => this.receive(event.data));
    worker.addEventListener('error', (event) => this.crashed(worker, event.message || 'the Worker failed to start'));
    if (boot) {
      // The boot script gave the Worker the box already, and maybe a run: keep what it said for that run.
      if (boot.run) this.early = { ...boot.run, messages: [] };
      for (const message of boot.take()) this.receive(message);
      return worker;
    }
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
    if (this.early && message.id === this.early.id) return void this.early.messages.push(message);
    const run = this.active;
    if (!run || run.id !== message.id) return;
    if (message.type === 'out') run.output(message.fd, message.bytes);
    else if (message.type === 'stdin-wait') run.inputWanted(message.seq);
    else if (message.type === 'stdin-needed') void this.stdinNeeded(run);
    else run.finish({ code: message.code, outcome: message.failure ? 'failed' : 'exit', failure: message.failure });
  }

  private crashed(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.early?.messages.push({ type: 'end', id: this.early.id, code: 125, failure: { kind: 'internal', message: `the box's Worker stopped: ${why}` } });
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
