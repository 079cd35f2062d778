// What every way of running something in a box shares: the process a caller asks for, and the stdio it
// gets. Engines (WASI, wasmer), the built-in shell and the language adapters all take a ProcessSpec and
// resolve to an exit code. Runtime code: web-standard APIs only.
import { concatBytes } from './bytes.js';
import type { DirNode, Vfs } from './vfs.js';

/** Where a process reads stdin from. Reads are synchronous because WASI's fd_read is. */
export interface InputSource {
  /** Up to `max` bytes; an empty array means end of input. May block (Node workers wait on Atomics). */
  read(max: number): Uint8Array;
  /**
   * Present on live input (a terminal, a pipe the caller may keep open), whose reads can wait for input
   * still to come: resolves, without blocking the thread, once a read would not wait (input arrived or
   * ended), or when `signal` aborts. Buffered sources never wait and leave it out.
   */
  ready?(signal?: AbortSignal): Promise<void>;
}

/** Where a process's stdout or stderr goes, chunk by chunk, as soon as it writes. */
export type OutputSink = (bytes: Uint8Array) => void;

/** One process to run in a box. */
export interface ProcessSpec {
  /** argv[0] is the program as the caller wrote it (a name looked up through PATH, or a path). */
  argv: string[];
  /** The environment as `KEY=value` strings, exactly what the guest sees (nothing from the host). */
  env: string[];
  /** The working directory, absolute, inside the box. */
  cwd: string;
  vfs: Vfs;
  stdin: InputSource;
  stdout: OutputSink;
  stderr: OutputSink;
  /** The uid/gid the process runs as (from USER); only reported to the guest, never enforced. */
  uid?: number;
  gid?: number;
  /** Which engine runs Wasm modules: by their imports (`auto`, the default), or forced. */
  engine?: 'auto' | 'wasi' | 'wasmer';
  /** Upper bound for a guest's linear memory in bytes (`--memory`); unbounded when absent. */
  memoryLimit?: number;
  /** Where wasmbox reports substitutions it made (a native /bin/ls replaced by the built-in ls); not the guest's stderr. */
  log?: (message: string) => void;
}

/** Runs a process to completion and resolves to its exit code. */
export type Launcher = (spec: ProcessSpec) => Promise<number>;

/** An input source with nothing in it. */
export const NO_INPUT: InputSource = { read: () => new Uint8Array(0) };

/** An input source over bytes the caller already has (a pipeline's output, a request body). */
export function bufferInput(bytes: Uint8Array): InputSource {
  let at = 0;
  return {
    read(max: number): Uint8Array {
      const chunk = bytes.subarray(at, Math.min(bytes.byteLength, at + max));
      at += chunk.byteLength;
      return chunk;
    },
  };
}

/** An output sink that keeps everything, and the way to get it back as one array. */
export function collectOutput(): { sink: OutputSink; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    sink: (b) => chunks.push(b.slice()),
    bytes: () => concatBytes(chunks),
  };
}

/** The value of `name` in a `KEY=value` environment list (the last one wins), or undefined. */
export function envValue(env: string[], name: string): string | undefined {
  let value: string | undefined;
  for (const kv of env) if (kv.startsWith(name + '=')) value = kv.slice(name.length + 1);
  return value;
}

/** The working directory node of a spec; a missing or non-directory WORKDIR is created, as docker does. */
export function cwdNode(spec: Pick<ProcessSpec, 'vfs' | 'cwd'>): DirNode {
  return spec.vfs.mkdir(spec.cwd || '/', { recursive: true });
}

/** Thrown by a launcher when a process cannot start at all; `exitCode` follows the shell's convention. */
export class LaunchError extends Error {
  constructor(message: string, readonly exitCode: 126 | 127) {
    super(message);
    this.name = 'LaunchError';
  }
}
