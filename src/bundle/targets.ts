// The hosts a box can be bundled for, as data: each target's writer is loaded only when it is asked for
// (a web bundle never loads the workerd code, and the CLI starts without esbuild).

/** The name of a bundle target (`wasmbox bundle --target`). */
export type TargetName = 'web' | 'worker' | 'deno' | 'node';

/** What every target writer may be told. */
export interface TargetOptions {
  /** Progress notes for the user (one line each). */
  log?: (message: string) => void;
  /** Include the WASIX engine (@wasmer/sdk) even when no module in the box imports wasix_* (web target). */
  wasix?: boolean;
}

/** Writes the bundle of the box at `boxDir` into the (empty, existing) directory `dist`. */
export interface TargetWriter {
  (boxDir: string, dist: string, opts: TargetOptions): Promise<TargetReport>;
}

/** What a writer made, for the CLI's summary. */
export interface TargetReport {
  target: TargetName;
  /** How many files it wrote. */
  files: number;
  /** Gzipped bytes of the runtime code a host loads to start any box (not the box, not optional parts). */
  runtimeGzipBytes: number;
  /** Bytes of the box's own files in the bundle. */
  boxBytes: number;
  /** Facts worth telling the user (what was included and why, limits, how to serve it). */
  notes: string[];
}

/** The targets, each a lazy import of src/bundle/<target>.ts. */
export const TARGETS: Record<TargetName, () => Promise<TargetWriter>> = {
  web: async () => (await import('./web.js')).writeWeb,
  worker: async () => (await import('./worker.js')).writeWorker,
  deno: async () => (await import('./deno.js')).writeDeno,
  node: async () => (await import('./node.js')).writeNode,
};

/** The target names, in the order help texts list them. */
export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];
