// One run of the browser host (browser.ts): the choices a caller gives, as `wasmbox run` takes them, and
// the run's state on the page: its output so far (decoded as it streams), its input, how it ended.
import type { Failure, GuestFile, RunChoices } from './browser-channel.js';
import type { StdinFeed } from './browser-stdin.js';

/** One run's choices, as `wasmbox run` takes them, and where its output goes as it comes. */
export interface WebRunOptions {
  /** Replace the image's Cmd. */
  args?: string[];
  /** Replace the Entrypoint (and clear Cmd), as `--entrypoint`. */
  entrypoint?: string;
  /** `KEY=value` entries (or a record) laid over the image's Env. */
  env?: string[] | Record<string, string>;
  /** Replace WorkingDir, as `-w`. */
  workdir?: string;
  engine?: 'auto' | 'wasi' | 'wasmer';
  /** Upper bound for the guest's linear memory, in bytes. */
  memoryLimit?: number;
  /** All of stdin up front; without it (and without `interactive`) the guest reads end of input. */
  stdin?: string | Uint8Array;
  /** Take stdin from `WebRun.write`/`end` while the guest runs. */
  interactive?: boolean;
  /** Files placed in the guest before it starts: absolute paths, or relative to the working directory. */
  mounts?: Record<string, Uint8Array | string>;
  onStdout?: (text: string, bytes: Uint8Array) => void;
  onStderr?: (text: string, bytes: Uint8Array) => void;
  /** The guest is waiting for keyboard input (interactive runs; again after each output it writes). */
  onInputWanted?: () => void;
}

/** How a run ended, with all it printed (decoded as UTF-8). */
export interface RunResult {
  /** exit: the guest exited; stopped: `stop()` ended it; failed: it could not run (`failure` says why). */
  outcome: 'exit' | 'stopped' | 'failed';
  /** The guest's exit code; 130 when stopped; 125/126/127/134/137 as `wasmbox run` gives them on failures. */
  exitCode: number;
  stdout: string;
  stderr: string;
  failure?: Failure;
}

/** A run in progress. */
export interface WebRun {
  readonly done: Promise<RunResult>;
  /** Send keyboard input (runs started with `interactive`). */
  write(input: string | Uint8Array): void;
  /** End the input (Ctrl-D). */
  end(): void;
  /** Stop the guest now. */
  stop(): void;
}

/** One run's state on the page: its output so far and how it ends. */
export class ActiveRun {
  readonly handle: WebRun;
  finished = false;
  private settle!: (result: RunResult) => void;
  private readonly text = { 1: '', 2: '' };
  private readonly decoders = { 1: new TextDecoder(), 2: new TextDecoder() };
  private warned = false;

  constructor(
    readonly id: number,
    readonly options: WebRunOptions,
    readonly feed: StdinFeed | undefined,
    stop: () => void,
  ) {
    const done = new Promise<RunResult>((resolve) => (this.settle = resolve));
    this.handle = {
      done,
      write: (input) => (feed ? feed.write(bytesOf(input)) : this.noInput()),
      end: () => feed?.end(),
      stop,
    };
  }

  /** Say once (on stderr) that typed input cannot reach the guest, and why. */
  noInput(): void {
    if (this.warned) return;
    this.warned = true;
    const why = this.options.interactive
      ? 'this page is not cross-origin isolated and cannot run the bundle\'s service worker (serve it over https or from localhost, or with COOP/COEP headers)'
      : 'the run was not started with `interactive`';
    this.output(2, new TextEncoder().encode(`wasmbox: keyboard input cannot reach the box: ${why}\n`));
  }

  output(fd: 1 | 2, bytes: Uint8Array): void {
    const text = this.decoders[fd].decode(bytes, { stream: true });
    this.text[fd] += text;
    (fd === 1 ? this.options.onStdout : this.options.onStderr)?.(text, bytes);
  }

  inputWanted(seq: number): void {
    if (seq >= 0) this.feed?.wanted(seq);
    this.options.onInputWanted?.();
  }

  finish(end: { code: number; outcome: RunResult['outcome']; failure?: Failure }): void {
    if (this.finished) return;
    this.finished = true;
    this.feed?.close();
    // A run that could not start says why on stderr, as `wasmbox run` does.
    if (end.failure) this.output(2, new TextEncoder().encode(`wasmbox: ${end.failure.message}\n`));
    this.settle({ outcome: end.outcome, exitCode: end.code, stdout: this.text[1], stderr: this.text[2], failure: end.failure });
  }
}

/** The run options the Worker passes to runBox. */
export function choices(options: WebRunOptions): RunChoices {
  const env = Array.isArray(options.env) ? options.env : Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const { args, entrypoint, workdir, engine, memoryLimit } = options;
  return { args, entrypoint, env, workdir, engine, memoryLimit };
}

/** Whether two runs' options ask for the same run (their callbacks aside). */
export function sameRun(a: WebRunOptions, b: WebRunOptions): boolean {
  const key = (o: WebRunOptions): string => JSON.stringify([choices(o), !!o.interactive, o.stdin, Object.keys(o.mounts ?? {})]);
  return key(a) === key(b);
}

/** The in-memory files to place in the guest. */
export function files(mounts: WebRunOptions['mounts']): GuestFile[] {
  return Object.entries(mounts ?? {}).map(([path, content]) => ({ path, bytes: bytesOf(content) }));
}

/** Text as UTF-8 bytes; bytes as they are. */
export function bytesOf(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? new TextEncoder().encode(input) : input;
}
