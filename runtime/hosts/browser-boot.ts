// The web bundle page's boot script, inlined into DIST/index.html ahead of everything else: it starts
// the box's Worker, loads the box (its manifest and config are inline in index.html, so only the image is
// fetched), sends both to the Worker and, unless the URL says autorun=0, the command's run, so a box can
// start and print before page.js (the page's controls and terminal) has even been asked for. Output that
// comes first is shown as plain text in the terminal's place.
// page.js takes it all over through openBox({ boot }) (browser.ts), which adopts the run. This script
// loads it once the run has said something (output, its end, a wait for input), the box failed to load,
// or PAGE_AFTER_MS have passed: on two cores, page.js and the layout it causes take the CPU the
// Worker needs to start (measured: first output ~15 ms sooner).
// The run goes with stdin `deferred`: a guest that may read stdin is not started here (the Worker says
// `stdin-needed`) and page.js starts it with the keyboard input the page can give.
import type { FromWorker, ToWorker } from './browser-channel.js';
import { inlineBox, loadBundle, type LoadedBundle, type ProgressListener } from './browser-load.js';
import { choices, type WebRunOptions } from './browser-run.js';
import { autorun, urlChoices } from './browser-url.js';

/** What the boot script leaves for page.js on `globalThis.wasmboxBoot`. */
export interface Boot {
  worker: Worker;
  /** The box, loaded; the Worker has it once this resolves. */
  bundle: Promise<LoadedBundle>;
  /** The run started at once (absent with ?autorun=0), with the options it was started with. */
  run?: { id: number; options: WebRunOptions };
  /** The Worker's messages so far, handed over once: from then on the taker listens itself. */
  take(): FromWorker[];
  /** Where progress goes from now on; `progress` is the last report. */
  onProgress?: ProgressListener;
  progress?: [loaded: number, total: number];
}

/** The id of the boot script's run (WebBox numbers its own from 1). Not exported: this entry is
 *  inlined as a classic script, which cannot export. */
const BOOT_RUN_ID = 0;
/** The page's script, beside index.html. */
const PAGE_SCRIPT = 'page.js';
/** How long page.js waits at most for the first run to say something. */
const PAGE_AFTER_MS = 200;

function boot(): Boot {
  const base = new URL('./', location.href);
  const worker = new Worker(new URL('runtime/index.js', base), { type: 'module', name: 'wasmbox' });
  const kept: FromWorker[] = [];
  const keep = ({ data }: MessageEvent<FromWorker>): void => {
    kept.push(data);
    show(data);
    if (data.type !== 'tar' && data.id === BOOT_RUN_ID) loadPage();
  };
  worker.addEventListener('message', keep);
  worker.addEventListener('error', loadPage);
  const options = autorun() ? urlChoices() : undefined;
  const state: Boot = {
    worker,
    bundle: loadBundle(base, (loaded, total) => ((state.progress = [loaded, total]), (state.onProgress ?? showProgress)(loaded, total)), inlineBox(document)),
    run: options && { id: BOOT_RUN_ID, options },
    take: () => (worker.removeEventListener('message', keep), kept.splice(0)),
  };
  state.bundle.then(
    ({ config, rootfs, manifest }) => {
      performance.mark('wasmbox:loaded');
      post(worker, { type: 'box', config, rootfs, bundle: { base: base.href, vendor: manifest.vendor } });
      if (!options) return;
      performance.mark('wasmbox:run');
      post(worker, { type: 'run', id: BOOT_RUN_ID, choices: choices(options), files: [], stdin: { kind: 'deferred' } });
      showRunning();
    },
    loadPage, // page.js reports it
  );
  if (options) setTimeout(loadPage, PAGE_AFTER_MS);
  else loadPage();
  return state;
}

let pageAsked = false;

/** Add page.js to the document (once). */
function loadPage(): void {
  if (pageAsked) return;
  pageAsked = true;
  const script = document.createElement('script');
  script.type = 'module';
  script.src = PAGE_SCRIPT;
  document.head.appendChild(script);
}

/** Move the page's progress bar until page.js, which does the same, takes over. */
function showProgress(loaded: number, total: number): void {
  const bar = document.getElementById('progress') as HTMLProgressElement | null;
  if (bar) (bar.max = total), (bar.value = loaded);
}

/** Say on the page that the box is running, as page.js does once it takes over (<body data-state>, the status line). */
function showRunning(): void {
  const status = document.getElementById('status');
  const bar = document.getElementById('progress');
  if (!status || !bar || document.body.dataset.state !== 'loading') return; // not parsed yet, or page.js is there
  document.body.dataset.state = 'running';
  status.textContent = 'running…';
  bar.hidden = true;
}

const decoders = { 1: new TextDecoder(), 2: new TextDecoder() };

/** Show the boot run's output as plain text where the terminal goes (browser-terminal.ts takes it over). */
function show(message: FromWorker): void {
  const terminal = document.getElementById('terminal');
  if (message.type !== 'out' || message.id !== BOOT_RUN_ID || !terminal) return;
  let pre = terminal.querySelector('pre.plain-terminal');
  if (!pre) (pre = terminal.appendChild(document.createElement('pre'))), (pre.className = 'plain-terminal');
  if (performance.getEntriesByName('wasmbox:first-output').length === 0) performance.mark('wasmbox:first-output');
  const span = pre.appendChild(document.createElement('span'));
  span.className = message.fd === 2 ? 'stderr' : 'stdout';
  span.textContent = decoders[message.fd].decode(message.bytes, { stream: true });
}

function post(worker: Worker, message: ToWorker): void {
  worker.postMessage(message);
}

try {
  (globalThis as { wasmboxBoot?: Boot }).wasmboxBoot = boot();
} catch {
  // No module Workers here: page.js reports what fails when it opens the box itself.
  loadPage();
}
