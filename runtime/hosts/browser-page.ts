// The web bundle's page (DIST/index.html + page.js): loads the box with a progress bar, runs its command
// at once in a terminal, shows the exit code, and offers a re-run, a stop, the guest's files as a tar
// after a run, and files dropped onto the page placed in the guest for the next run. The URL can carry
// `wasmbox run` choices: ?arg=A&arg=B (replace Cmd), entrypoint=, env=K=V (repeatable), workdir=,
// engine=, stdin=none (no keyboard input, as `docker run` without -i), autorun=0. State for scripts
// and tests is on <body data-state data-exit-code data-waiting>; performance marks wasmbox:loaded,
// wasmbox:run and wasmbox:first-output time the start (the benchmark reads them).
import { openBox, type RunResult, type WebBox, type WebRun, type WebRunOptions } from './browser.js';
import { createTerminal, type PageTerminal } from './browser-terminal.js';

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  progress: element<HTMLProgressElement>('progress'),
  status: element('status'),
  rerun: element<HTMLButtonElement>('rerun'),
  stop: element<HTMLButtonElement>('stop'),
  download: element<HTMLButtonElement>('download'),
  files: element('files'),
  drop: element('drop'),
};
const dropped: Record<string, Uint8Array> = {};
let current: WebRun | undefined;

/** What the page's scripts (and tests) can reach: the box, the terminal, the last result. */
export interface PageState {
  box?: WebBox;
  terminal: PageTerminal;
  result?: RunResult;
  run(): Promise<RunResult>;
}

async function main(): Promise<void> {
  // The box starts loading (and its Worker starting) before the terminal takes its share of the thread.
  const worker = (globalThis as { wasmboxWorker?: Worker }).wasmboxWorker;
  const opening = openBox({ interactive: true, onProgress: showProgress, worker });
  const terminal = createTerminal(element('terminal'));
  const state: PageState = { terminal, run: () => run(state) };
  (globalThis as { wasmbox?: PageState }).wasmbox = state;
  setState('loading', 'loading the box…');
  try {
    state.box = await opening;
    performance.mark('wasmbox:loaded');
  } catch (err) {
    terminal.note(`wasmbox: ${(err as Error).message}`);
    return setState('failed', 'the box did not load');
  }
  ui.progress.hidden = true;
  document.title = `${state.box.manifest.title} · wasmbox`;
  ui.rerun.onclick = () => void run(state);
  ui.stop.onclick = () => current?.stop();
  ui.download.onclick = () => void download(state);
  acceptDrops(state);
  if (new URLSearchParams(location.search).get('autorun') !== '0') await run(state);
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
  performance.mark('wasmbox:run');
  let first = true;
  const busy = (): void => {
    if (first) (first = false), performance.mark('wasmbox:first-output');
    waiting(false);
  };
  const thisRun = box.start({
    ...options,
    onStdout: (_, b) => (busy(), terminal.stdout(b)),
    onStderr: (_, b) => (busy(), terminal.stderr(b)),
    onInputWanted: () => waiting(true),
  });
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

/** `wasmbox run` choices from the page's query string. */
function urlChoices(): WebRunOptions {
  const q = new URLSearchParams(location.search);
  const engine = q.get('engine');
  return {
    args: q.getAll('arg'),
    entrypoint: q.get('entrypoint') ?? undefined,
    env: q.getAll('env'),
    workdir: q.get('workdir') ?? undefined,
    engine: engine === 'wasi' || engine === 'wasmer' || engine === 'auto' ? engine : undefined,
    interactive: q.get('stdin') !== 'none',
  };
}

/** Say (in the status line and on <body data-waiting>) whether the guest waits for keyboard input. */
function waiting(on: boolean): void {
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

function showProgress(loaded: number, total: number): void {
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
