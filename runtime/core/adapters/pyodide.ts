// `python3` in a box: CPython from Pyodide, the only file that imports `pyodide`. One interpreter is
// loaded per host thread (~2 s) and serves each Python process in turn; python-main.ts resets it between
// processes. For each run the box filesystem becomes the interpreter's root (emscripten-fs.ts), with
// Pyodide's stdlib (/lib), /dev and /proc grafted in, so scripts, open() and new files are box files.
// Runtime code: web-standard APIs only.
import type { PyodideInterface } from 'pyodide';
import { envValue, type ProcessSpec } from '../process.js';
import { VfsError } from '../vfs.js';
import { type EmscriptenFS, mountBoxRoot, sealMemfs } from './emscripten-fs.js';
import { adapterLocations } from './index.js';
import { PYTHON_HELP, type PythonInvocation, parsePythonArgs } from './python-args.js';
import { PYTHON_RUNNER } from './python-main.js';

/** Top-level names that stay Pyodide's own: its stdlib and site-packages live under /lib. */
const GRAFT = ['lib', 'dev', 'proc'] as const;

/** A loaded interpreter with the runner's entry points. */
export interface PythonInterpreter {
  py: PyodideInterface;
  run: (request: string) => number;
  version: string;
}

let loading: Promise<PythonInterpreter> | undefined;
let queue: Promise<unknown> = Promise.resolve();

/** Run `python3 ARGS...` as one box process; resolves to its exit code. */
export async function runPython(spec: ProcessSpec): Promise<number> {
  const out = (text: string, sink = spec.stdout) => sink(new TextEncoder().encode(text));
  const request = parsePythonArgs(spec.argv);
  if (request.kind === 'usage-error') return out(request.message, spec.stderr), 2;
  if (request.kind === 'help') return out(PYTHON_HELP), 0;
  // The interpreter is fetched inside the queue: a process before this one may have ended it (os._exit).
  return exclusive(async () => {
    const interpreter = await loadPython();
    if (request.kind === 'version') return out(`Python ${interpreter.version}\n`), 0;
    return runIn(interpreter, spec, request.invocation);
  });
}

/** The loaded interpreter (hosts may call this early to warm up); `pyodide` stays unloaded until then. */
export function loadPython(): Promise<PythonInterpreter> {
  loading ??= start().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

async function start(): Promise<PythonInterpreter> {
  const { loadPyodide } = await import('pyodide');
  const indexURL = adapterLocations().pyodideIndexURL;
  const py = await loadPyodide({ ...(indexURL && { indexURL }), env: { HOME: '/root' }, stdout: () => {}, stderr: () => {} });
  const site = py.runPython('import site; site.getsitepackages()[0]') as string;
  py.FS.writeFile(`${site}/_wasmbox.py`, PYTHON_RUNNER);
  const runner = py.pyimport('_wasmbox') as unknown as { snapshot(): void; run(request: string): number };
  runner.snapshot();
  const version = py.runPython('import sys; sys.version.split()[0]') as string;
  return { py, run: (request) => runner.run(request), version };
}

/** Runs never overlap: the interpreter, its root and its stdio belong to one process at a time. */
function exclusive<T>(work: () => T | Promise<T>): Promise<T> {
  const next = queue.then(work, work);
  queue = next.catch(() => undefined);
  return next;
}

function runIn(interpreter: PythonInterpreter, spec: ProcessSpec, invocation: PythonInvocation): number {
  const { py } = interpreter;
  const FS = py.FS as unknown as EmscriptenFS;
  const unmount = mountBoxRoot(FS, spec.vfs, GRAFT, { uid: spec.uid ?? 0, gid: spec.gid ?? 0 });
  const program = spec.argv[0] ?? 'python3';
  try {
    if (!enter(spec, FS, program)) return 1;
    bindStdio(py, spec);
    const unseal = sealMemfs(FS);
    try {
      return interpreter.run(JSON.stringify(request(spec, invocation)));
    } finally {
      unseal();
    }
  } catch (err) {
    return crashed(spec, program, err);
  } finally {
    unmount();
    if (loading) bindStdio(py, undefined);
  }
}

/** Make the process's working directory current, creating it as docker creates a missing WORKDIR. */
function enter(spec: ProcessSpec, FS: EmscriptenFS, program: string): boolean {
  try {
    spec.vfs.mkdir(spec.cwd || '/', { recursive: true });
    FS.chdir(spec.cwd || '/');
    return true;
  } catch (err) {
    const why = err instanceof VfsError ? err.message : String(err);
    spec.stderr(new TextEncoder().encode(`${program}: cannot use the working directory ${spec.cwd}: ${why}\n`));
    return false;
  }
}

/** Point Python's fds 0-2 at the process's stdio (raw bytes, no decoding), or at nothing between runs. */
function bindStdio(py: PyodideInterface, spec: ProcessSpec | undefined): void {
  const sink = (to: ((b: Uint8Array) => void) | undefined) => ({
    isatty: false,
    write: (buf: Uint8Array) => (to?.(buf.slice()), buf.byteLength),
  });
  py.setStdout(sink(spec?.stdout));
  py.setStderr(sink(spec?.stderr));
  py.setStdin({
    isatty: false,
    read: (buf: Uint8Array) => {
      const chunk = spec ? spec.stdin.read(buf.byteLength) : new Uint8Array(0);
      buf.set(chunk);
      return chunk.byteLength;
    },
  });
}

/** What python-main.ts's run() takes. */
function request(spec: ProcessSpec, inv: PythonInvocation) {
  const env: Record<string, string> = {};
  for (const kv of spec.env) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const main = inv.main;
  const target = main.kind === 'file' ? main.path : main.kind === 'code' ? main.code : main.kind === 'module' ? main.name : '';
  return {
    kind: main.kind, target, env, argv: inv.argv, origArgv: spec.argv, program: spec.argv[0] ?? 'python3',
    executable: executable(spec), safePath: inv.safePath, ignoreEnvironment: inv.ignoreEnvironment,
    skipFirstLine: inv.skipFirstLine, warnOptions: inv.warnOptions,
    unbuffered: inv.unbuffered || (!inv.ignoreEnvironment && !!env.PYTHONUNBUFFERED),
  };
}

/** sys.executable: argv[0] as a box path, found through PATH when it is a bare name. */
function executable(spec: ProcessSpec): string {
  const argv0 = spec.argv[0] ?? 'python3';
  if (argv0.startsWith('/')) return argv0;
  if (argv0.includes('/')) return `${spec.cwd.replace(/\/$/, '')}/${argv0}`;
  for (const dir of (envValue(spec.env, 'PATH') ?? '').split(':').filter(Boolean)) {
    const path = `${dir.replace(/\/$/, '')}/${argv0}`;
    try {
      if (spec.vfs.lookup(path).node) return path;
    } catch {
      // A PATH entry that is not a directory: keep looking.
    }
  }
  return `/usr/local/bin/${argv0}`;
}

/** The interpreter stopped outside Python's control: `os._exit(n)` gives n, anything else is reported as 1. */
function crashed(spec: ProcessSpec, program: string, err: unknown): number {
  // Either way this instance cannot run Python again; the next process loads a fresh one.
  loading = undefined;
  const status = (err as { status?: unknown } | null)?.status;
  if ((err as Error | null)?.name === 'Exit' && typeof status === 'number') return status & 0xff;
  const message = err instanceof Error ? err.message : String(err);
  spec.stderr(new TextEncoder().encode(`${program}: the Python interpreter stopped: ${message}\n`));
  return 1;
}
