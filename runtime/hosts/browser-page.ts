// The web bundle's page (DIST/index.html + page.js + xterm.css): loads the box with a progress bar, runs
// its command at once in a terminal, shows the exit code, and offers a re-run, a stop, the guest's files
// as a tar after a run, and files dropped onto the page placed in the guest for the next run. The URL can
// carry `wasmbox run` choices (browser-url.ts). The box's Worker, its download and its first run are started
// by index.html's boot script (browser-boot.ts) before this script arrives; it takes them over. State
// for scripts and tests is on <body data-state data-exit-code data-waiting>; performance marks
// wasmbox:loaded, wasmbox:run and wasmbox:first-output time the start (the benchmark reads them; the
// boot script makes those of the first run). The real terminal (xterm.js, DIST/terminal.js) loads once
// the box has started: its first output, its first wait for input, or a moment after the run began.
import type { Boot } from './browser-boot.js';
import { openBox, type RunResult, type WebBox, type WebRun, type WebRunOptions } from './browser.js';
import { createTerminal, type UpgradableTerminal } from './browser-terminal.js';
import { autorun, urlChoices } from './browser-url.js';

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const findUi = () => ({
  progress: element<HTMLProgressElement>('progress'),
  status: element('status'),
  rerun: element<HTMLButtonElement>('rerun'),
  stop: element<HTMLButtonElement>('stop'),
  download: element<HTMLButtonElement>('download'),
  files: element('files'),
  drop: element('drop'),
});
/** The page's controls, found once the document is parsed (the boot script adds page.js, which may
 *  run before the parser has reached them). */
let ui!: ReturnType<typeof findUi>;
const dropped: Record<string, Uint8Array> = {};
let current: WebRun | undefined;
let runs = 0;
/** Mark a moment of the page's start (the boot script marks those of the first run it started), or of a later run. */
const mark = (name: string): void => void ((runs > 1 || performance.getEntriesByName(name).length === 0) && performance.mark(name));
/** How long after a run starts the real terminal loads even if the guest has said nothing yet. */
const TERMINAL_AFTER_MS = 150;
/** xterm's own styles, beside index.html: loaded with the real terminal, which needs them before it opens. */
const XTERM_CSS = 'xterm.css';

/** What the page's scripts (and tests) can reach: the box, the terminal, the last result. */
export interface PageState {
  box?: WebBox;
  terminal: UpgradableTerminal;
  result?: RunResult;
  run(): Promise<RunResult>;
}

async function main(): Promise<void> {
  // The boot script in index.html started the Worker, the box's download and the run: take them over.
  // (A page without it may have started just the Worker, as wasmboxWorker.)
  const { wasmboxBoot: boot, wasmboxWorker: worker } = globalThis as { wasmboxBoot?: Boot; wasmboxWorker?: Worker };
  const opening = openBox({ onProgress: showProgress, boot, worker });
  if (document.readyState === 'loading') await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  ui = findUi();
  const terminal = createTerminal(element('terminal'), async () => (await Promise.all([import('./browser-xterm.js'), stylesheet(XTERM_CSS)]))[0].createXterm);
  const state: PageState = { terminal, run: () => run(state) };
  (globalThis as { wasmbox?: PageState }).wasmbox = state;
  // The boot script may have said already that its run is going (browser-boot.ts).
  if (document.body.dataset.state !== 'running') setState('loading', 'loading the box…');
  try {
    state.box = await opening;
    mark('wasmbox:loaded');
  } catch (err) {
    terminal.note(`wasmbox: ${(err as Error).message}`);
    await terminal.flushed();
    return setState('failed', 'the box did not load');
  }
  ui.progress.hidden = true;
  document.title = `${state.box.manifest.title} · wasmbox`;
  ui.rerun.onclick = () => void run(state);
  ui.stop.onclick = () => current?.stop();
  ui.download.onclick = () => void download(state);
  acceptDrops(state);
  if (autorun()) await run(state);
  else setState('idle', 'ready');
}

async function run(state: PageState): Promise<RunResult> {
  const { box, terminal } = state;
  if (!box) throw new Error('the box is not loaded');
  current?.stop();
  terminal.clear();
  delete document.body.dataset.exitCode;
  setState('running', 'running…');
  const options: WebRunOptions = { ...urlChoices(), mounts: { ...dropped } };
  const started = performance.now();
  runs++;
  mark('wasmbox:run');
  let first = true;
  const busy = (): void => {
    if (first) (first = false), mark('wasmbox:first-output'), setTimeout(() => void terminal.upgrade());
    waiting(false);
  };
  const thisRun = box.start({
    ...options,
    onStdout: (_, b) => (busy(), terminal.stdout(b)),
    onStderr: (_, b) => (busy(), terminal.stderr(b)),
    onInputWanted: () => (void terminal.upgrade(), waiting(true)),
  });
  setTimeout(() => void terminal.upgrade(), TERMINAL_AFTER_MS);
  current = thisRun;
  const typed = { line: (text: string) => (waiting(false), thisRun.write(text)), end: () => (waiting(false), thisRun.end()), interrupt: () => thisRun.stop() };
  terminal.keyboard(options.interactive ? typed : { line: () => undefined, end: () => undefined, interrupt: typed.interrupt });
  terminal.focus();
  const result = await thisRun.done;
  await terminal.flushed();
  if (current !== thisRun) return result;
  current = undefined;
  waiting(false);
  terminal.keyboard(undefined);
  state.result = result;
  const ms = Math.round(performance.now() - started);
  const how = result.outcome === 'stopped' ? 'stopped' : `exit code ${result.exitCode}`;
  document.body.dataset.exitCode = String(result.exitCode);
  setState('done', `${how} · ${ms} ms`);
  return result;
}

/** Say (in the status line and on <body data-waiting>) whether the guest waits for keyboard input, once
 *  the real terminal (which takes the keystrokes) is up; updates keep their order. */
function waiting(on: boolean): void {
  terminal().whenUp(() => showWaiting(on));
}

function showWaiting(on: boolean): void {
  if (document.body.dataset.state !== 'running' || (document.body.dataset.waiting === '1') === on) return;
  if (on) document.body.dataset.waiting = '1';
  else delete document.body.dataset.waiting;
  ui.status.textContent = on ? 'waiting for input: Enter sends a line, Ctrl-D ends the input' : 'running…';
}

async function download(state: PageState): Promise<void> {
  try {
    const tar = await state.box!.tar();
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([tar as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }));
    link.download = `${state.box!.manifest.title.replace(/[^\w.-]+/g, '-')}-files.tar`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  } catch (err) {
    state.terminal.note(`wasmbox: cannot download the files: ${(err as Error).message}`);
  }
}

/** Files dropped on the page go into the guest's working directory for the next run. */
function acceptDrops(state: PageState): void {
  const show = (on: boolean) => (ui.drop.hidden = !on);
  document.addEventListener('dragover', (e) => (e.preventDefault(), show(true)));
  document.addEventListener('dragleave', (e) => e.relatedTarget === null && show(false));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    show(false);
    void place(state, Array.from(e.dataTransfer?.files ?? []));
  });
}

async function place(state: PageState, list: File[]): Promise<void> {
  const workdir = urlChoices().workdir || state.box?.config.config?.WorkingDir || '/';
  for (const file of list) {
    dropped[file.name] = new Uint8Array(await file.arrayBuffer());
    state.terminal.note(`wasmbox: ${file.name} (${file.size} bytes) will be at ${workdir.replace(/\/$/, '')}/${file.name} from the next run`);
  }
  ui.files.textContent = Object.keys(dropped).length > 0 ? `files for the next run: ${Object.keys(dropped).join(', ')}` : '';
}

/** Add a stylesheet to the page; settles once it has loaded. */
function stylesheet(href: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href });
    link.onload = () => resolve();
    link.onerror = () => reject(new Error(`cannot load ${href}; serve the whole bundle directory`));
    document.head.appendChild(link);
  });
}

function terminal(): UpgradableTerminal {
  return (globalThis as unknown as { wasmbox: PageState }).wasmbox.terminal;
}

function showProgress(loaded: number, total: number): void {
  if (!ui) return; // before the document is parsed: the next report shows it
  ui.progress.max = total;
  ui.progress.value = loaded;
  ui.status.textContent = `loading the box… ${Math.round(loaded / 1024)} of ${Math.round(total / 1024)} KiB`;
}

function setState(state: 'loading' | 'running' | 'done' | 'idle' | 'failed', text: string): void {
  document.body.dataset.state = state;
  ui.status.textContent = text;
  ui.rerun.disabled = state === 'loading' || state === 'failed';
  ui.stop.disabled = state !== 'running';
  ui.download.disabled = state !== 'done';
}

void main();
