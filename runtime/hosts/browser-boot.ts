// The web bundle page's boot script, inlined into DIST/index.html ahead of everything else: it starts
// the box's Worker, loads the box (the page's preloads), sends both to the Worker and, unless the URL
// says autorun=0, the command's run, so a box can start and print before page.js (the page's controls
// and terminal) has even arrived. Output that comes first is shown as plain text in the terminal's place.
// page.js takes it all over through openBox({ boot }) (browser.ts), which adopts the run.
// The run goes with stdin `deferred`: a guest that may read stdin is not started here (the Worker says
// `stdin-needed`) and page.js starts it with the keyboard input the page can give.
import type { FromWorker, ToWorker } from './browser-channel.js';
import { loadBundle, type LoadedBundle, type ProgressListener } from './browser-load.js';
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

function boot(): Boot {
  const base = new URL('./', location.href);
  const worker = new Worker(new URL('runtime/index.js', base), { type: 'module', name: 'wasmbox' });
  const kept: FromWorker[] = [];
  const keep = ({ data }: MessageEvent<FromWorker>): void => void (kept.push(data), show(data));
  worker.addEventListener('message', keep);
  const options = autorun() ? urlChoices() : undefined;
  const state: Boot = {
    worker,
    bundle: loadBundle(base, (loaded, total) => ((state.progress = [loaded, total]), (state.onProgress ?? showProgress)(loaded, total))),
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
    },
    () => undefined, // page.js reports it
  );
  return state;
}

/** Move the page's progress bar until page.js, which does the same, takes over. */
function showProgress(loaded: number, total: number): void {
  const bar = document.getElementById('progress') as HTMLProgressElement | null;
  if (bar) (bar.max = total), (bar.value = loaded);
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
}
