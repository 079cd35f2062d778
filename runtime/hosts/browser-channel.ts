// What the browser host (browser.ts, the page's thread) and the guest's Worker (browser-worker.ts) say to
// each other. The guest is synchronous (WASI's fd_read blocks), so its stdin cannot come in messages:
// it comes from bytes given up front, from a SharedArrayBuffer ring the guest blocks on (cross-origin
// isolated pages), or from synchronous requests a service worker answers (pages that are not).
import type { Failure, RunChoices } from './node-channel.js';

export type { Failure, RunChoices };

/** Which optional parts a web bundle carries beside the runtime (the box needs them). */
export interface VendorParts {
  pyodide: boolean;
  ruby: boolean;
  wasmer: boolean;
}

/** Where the bundle's files are for the worker: DIST's URL and what it holds. */
export interface BundleInfo {
  /** The URL of the bundle directory, ending in `/`. */
  base: string;
  vendor: VendorParts;
}

/** Where the guest's stdin comes from in one run. */
export type StdinPlan =
  | { kind: 'none' }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'ring'; ring: SharedArrayBuffer }
  /** Synchronous GETs of `${url}/${seq}`, answered by the service worker with what the page sends it. */
  | { kind: 'service-worker'; url: string }
  /** Keyboard input is wanted but this Worker cannot reach the service worker (it started before that
   *  controlled the page): a guest that may read stdin is not started, the Worker answers `stdin-needed`. */
  | { kind: 'deferred' };

/** A file placed in the guest before the run (a dropped file, a mount given to runBox). */
export interface GuestFile {
  path: string;
  bytes: Uint8Array;
}

/** The host's messages to the worker. */
export type ToWorker =
  | { type: 'box'; config: Uint8Array; rootfs: Uint8Array; bundle: BundleInfo }
  | { type: 'run'; id: number; choices: RunChoices; files: GuestFile[]; stdin: StdinPlan }
  | { type: 'tar'; id: number };

/** The worker's messages to the host. */
export type FromWorker =
  | { type: 'out'; id: number; fd: 1 | 2; bytes: Uint8Array }
  /** The guest waits for input: piece `seq` of service-worker stdin, or -1 (ring stdin). */
  | { type: 'stdin-wait'; id: number; seq: number }
  | { type: 'end'; id: number; code: number; failure?: Failure }
  /** The run (plan `deferred`) did not start: its guest may read stdin; start it in a Worker that can. */
  | { type: 'stdin-needed'; id: number }
  | { type: 'tar'; id: number; bytes?: Uint8Array; error?: string };

/** The path (under the bundle directory) the service worker answers stdin requests on. */
export const STDIN_PATH = '__wasmbox/stdin/';

/** How the service worker answers a stdin request: data, end of input, or "ask again" (nothing yet). */
export const STDIN_STATUS = { data: 200, end: 204, again: 202 } as const;

/** A message from the page to the service worker: input number `key` (`SESSION/RUN/SEQ`) or its end. */
export interface StdinDelivery {
  wasmboxStdin: string;
  bytes?: Uint8Array;
  end?: boolean;
}
