// The guest's thread in a browser: a module Worker the browser host (browser.ts) starts, so that a run
// can be stopped (terminate) even in a tight loop or blocked on input. It receives the box once, then
// runs one command at a time, each on a fresh copy-on-write view of the box with the caller's files placed
// in it; output goes back as messages as the guest writes it. The last run's filesystem is kept for the
// "download as tar" request. Interpreter files (Pyodide, ruby.wasm) are fetched from the bundle's vendor/.
import { configureAdapters } from '../core/adapters/index.js';
import { loadBox, type LoadedBox } from '../core/box.js';
import { type OutputSink } from '../core/process.js';
import { runBox } from '../core/run.js';
import { Vfs, VfsError } from '../core/vfs.js';
import { vfsToTar } from '../core/vfs-tar.js';
import type { BundleInfo, Failure, FromWorker, GuestFile, ToWorker } from './browser-channel.js';
import { guestInput } from './browser-input.js';
import { guestMayReadStdin } from './browser-stdin-need.js';
import { failureOf } from './run-failure.js';

/** The parts of a Worker's global scope this uses. */
interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
const encoder = new TextEncoder();
let box: LoadedBox | undefined;
/** Why the box did not load, reported by every run. */
let unloadable: { code: number; failure: Failure } | undefined;
let bundle: BundleInfo | undefined;
let lastVfs: Vfs | undefined;
/** Whether the guest wrote since it last asked for input (the page is told once per such gap). */
let wroteSinceWait = true;
// Runs arrive one at a time (the host queues them); a message may still come while one is in flight.
let work: Promise<void> = Promise.resolve();

scope.addEventListener('message', ({ data }) => {
  work = work.then(() => handle(data)).catch((err: unknown) => console.error('wasmbox worker:', err));
});

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'box') return receive(message);
  if (message.type === 'run') {
    const ended = await run(message);
    return scope.postMessage(ended === 'stdin-needed' ? { type: ended, id: message.id } : { type: 'end', id: message.id, ...ended });
  }
  try {
    if (!lastVfs) throw new Error('no run has finished yet');
    const bytes = vfsToTar(lastVfs);
    scope.postMessage({ type: 'tar', id: message.id, bytes }, [bytes.buffer]);
  } catch (err) {
    scope.postMessage({ type: 'tar', id: message.id, error: (err as Error).message });
  }
}

function receive(message: Extract<ToWorker, { type: 'box' }>): void {
  bundle = message.bundle;
  const vendor = (path: string): string => new URL(`vendor/${path}`, message.bundle.base).href;
  configureAdapters({ pyodideIndexURL: vendor('pyodide/'), rubyModule: () => compileWasm(vendor('ruby/ruby+stdlib.wasm')) });
  try {
    box = loadBox({ config: message.config, rootfs: message.rootfs });
  } catch (err) {
    unloadable = failureOf(err);
  }
}

async function run(message: Extract<ToWorker, { type: 'run' }>): Promise<{ code: number; failure?: Failure } | 'stdin-needed'> {
  const { id, choices } = message;
  const stderr = sink(id, 2);
  try {
    if (unloadable) return unloadable;
    if (!box || !bundle) throw new Error('a run came before the box');
    if (choices.engine === 'wasmer' && !bundle.vendor.wasmer) {
      return { code: 125, failure: { kind: 'run', message: 'this bundle has no WASIX engine; bundle the box again with `wasmbox bundle --wasix`' } };
    }
    const vfs = Vfs.fromImage(box.fs);
    const placed = place(vfs, message.files, choices.workdir || box.config.config?.WorkingDir || '/');
    if (placed) return placed;
    if (message.stdin.kind === 'deferred' && (await guestMayReadStdin(box, choices, vfs))) return 'stdin-needed';
    lastVfs = vfs;
    wroteSinceWait = true;
    const stdin = guestInput(message.stdin, {
      waiting: (seq) => {
        if (seq < 0 && !wroteSinceWait) return;
        wroteSinceWait = false;
        scope.postMessage({ type: 'stdin-wait', id, seq });
      },
      warn: (text) => stderr(encoder.encode(text + '\n')),
    });
    const code = await runBox(box, { ...choices, vfs, stdin, stdout: sink(id, 1), stderr, log: (text) => stderr(encoder.encode(text + '\n')) });
    return { code };
  } catch (err) {
    return failureOf(err, choices.memoryLimit);
  }
}

/** Put the caller's files into the guest (relative paths under the working directory). */
function place(vfs: Vfs, files: GuestFile[], cwd: string): { code: number; failure: Failure } | undefined {
  for (const file of files) {
    const path = file.path.startsWith('/') ? file.path : `${cwd.replace(/\/$/, '')}/${file.path}`;
    try {
      const slash = path.lastIndexOf('/');
      if (slash > 0) vfs.mkdir(path.slice(0, slash), { recursive: true });
      vfs.writeFile(path, file.bytes);
    } catch (err) {
      const why = err instanceof VfsError ? err.message : String(err);
      return { code: 125, failure: { kind: 'mount', message: `cannot place ${path} in the box (${why}); choose a path whose parents are directories` } };
    }
  }
  return undefined;
}

/** Output for fd 1 or 2, posted as the guest writes (each chunk copied: the guest reuses its buffers). */
function sink(id: number, fd: 1 | 2): OutputSink {
  return (bytes) => {
    wroteSinceWait = true;
    const copy = bytes.slice();
    scope.postMessage({ type: 'out', id, fd, bytes: copy }, [copy.buffer]);
  };
}

/** Compile a Wasm file, streaming when the server labels it application/wasm. */
async function compileWasm(url: string): Promise<WebAssembly.Module> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url} (HTTP ${response.status}); serve the whole bundle directory`);
  if (response.headers.get('content-type')?.startsWith('application/wasm')) return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
}
