// What the Node host's main thread and the guest's worker say to each other: one WorkerInit in, one
// `end` out. The guest's stdio does not travel in messages but through the shared rings of
// node-rings.ts, because the guest is synchronous (WASI's fd_read blocks) and because a message per
// write costs microseconds that a guest writing small chunks would pay millions of times.
// No node: imports, so the worker side stays plain JavaScript.
import type { RunOptions } from '../core/run.js';

/** A directory of the host mounted into the guest (`-v HOST:GUEST[:ro]`). */
export interface MountSpec {
  /** Absolute host path of an existing directory. */
  host: string;
  /** Absolute guest path. */
  guest: string;
  readonly: boolean;
}

/** Why a run ended other than by the guest's own exit. */
export interface Failure {
  /** run: the box cannot start as asked; launch: argv[0] cannot run (126/127); box: damaged box;
   *  mount: a -v cannot be mounted; oom: the guest hit its memory limit; trap: the guest crashed;
   *  internal: a bug. */
  kind: 'run' | 'launch' | 'box' | 'mount' | 'oom' | 'trap' | 'internal';
  message: string;
  /** The stack of an internal error, shown with WASMBOX_DEBUG. */
  detail?: string;
}

/** The `docker run` choices a host passes through to runBox unchanged. */
export type RunChoices = Pick<RunOptions, 'args' | 'entrypoint' | 'env' | 'workdir' | 'engine' | 'memoryLimit'>;

/** The first message the worker receives: the box bytes (transferred) and how to run it. */
export interface WorkerInit extends RunChoices {
  config: Uint8Array;
  rootfs: Uint8Array;
  mounts: MountSpec[];
  /** The input ring (node-rings.ts createInputRing); absent means stdin is empty. */
  stdin?: SharedArrayBuffer;
  /** The output ring (node-rings.ts createOutputRing) both stdout and stderr go through, in order. */
  output: SharedArrayBuffer;
  /** How modules are compiled (node-tier.ts); absent: auto, with nothing remembered across processes. */
  tier?: TierChoice;
}

/** How modules are compiled: optimised once proved hot (auto, the default), always baseline, or always optimised. */
export type TierMode = 'auto' | 'baseline' | 'optimized';

/** How a run chooses tiers: the mode, and the folder of hot-module records (none: nothing remembered). */
export interface TierChoice {
  mode: TierMode;
  dir?: string;
}

/** What the worker posts when the run is over (all output is in the output ring by then). */
export interface WorkerEnd {
  code: number;
  failure?: Failure;
  /** Problems writing read-write mounts back to the host. */
  warnings: string[];
  /** Keys (sha256) of modules that proved hot in this run, for the main thread to remember. */
  hot?: string[];
}
