// The guest's thread. The Node host starts this module as a worker_threads Worker (so a timeout or
// Ctrl-C can end a guest stuck in a loop) and sends one WorkerInit; the guest's stdio goes through the
// rings of node-rings.ts and one WorkerEnd message says how it ended. Host mounts are read and written
// back here because the guest's filesystem lives here.
import { parentPort } from 'node:worker_threads';
import { loadBox } from '../core/box.js';
import { BoxFormatError } from '../core/fs-image.js';
import { NO_INPUT } from '../core/process.js';
import { runBox } from '../core/run.js';
import { Vfs, VfsError } from '../core/vfs.js';
import type { Failure, WorkerEnd, WorkerInit } from './node-channel.js';
import { ringInput, ringOutput } from './node-rings.js';
import type { HostMount } from './node-mount.js';
import { configureNodeAdapters } from './node-adapters.js';
import { failureOf } from './run-failure.js';
import { setTierHost } from '../core/wasm-module.js';
import { nodeTierHost } from './node-tier.js';

// The built-in interpreters' files (ruby.wasm) come from node_modules: see node-adapters.ts.
configureNodeAdapters();

const port = parentPort;
if (port) port.once('message', (init: WorkerInit) => void serve(init).then((end) => port.postMessage(end)));

/** Run the box described by `init` (output into its ring); resolves once mounts are written back. */
export async function serve(init: WorkerInit): Promise<WorkerEnd> {
  const mounts: HostMount[] = [];
  const hot: string[] = [];
  setTierHost(nodeTierHost(init.tier ?? { mode: 'auto' }, hot));
  let end: { code: number; failure?: Failure };
  try {
    const box = load(init);
    const vfs = Vfs.fromImage(box.fs);
    if (init.mounts.length > 0) await mountAll(vfs, init, mounts);
    const stderr = ringOutput(init.output, 2);
    const code = await runBox(box, {
      args: init.args,
      entrypoint: init.entrypoint,
      env: init.env,
      workdir: init.workdir,
      engine: init.engine,
      memoryLimit: init.memoryLimit,
      vfs,
      stdin: init.stdin ? ringInput(init.stdin) : NO_INPUT,
      stdout: ringOutput(init.output, 1),
      stderr,
      // Notes such as "a built-in stands in for a native binary" go to stderr, in order with the guest's.
      log: (message) => stderr(new TextEncoder().encode(message + '\n')),
    });
    end = { code };
  } catch (err) {
    end = failed(err, init);
  }
  // After a trap or a failure too: what the guest wrote before it stopped is kept, as on a real disk.
  const warnings = mounts.length > 0 ? (await import('./node-mount-sync.js')).writeBack(mounts) : [];
  return hot.length > 0 ? { ...end, warnings, hot } : { ...end, warnings };
}

function load(init: WorkerInit): ReturnType<typeof loadBox> {
  try {
    return loadBox({ config: init.config, rootfs: init.rootfs });
  } catch (err) {
    if (err instanceof BoxFormatError) throw fail('box', `the box is damaged: ${err.message}; rebuild it`);
    throw err;
  }
}

/** Mount the host directories, parents before children (so `-v a:/d -v b:/d/sub` nests as expected). */
async function mountAll(vfs: Vfs, init: WorkerInit, mounts: HostMount[]): Promise<void> {
  const { mountHost } = await import('./node-mount.js'); // only runs with -v pay for loading it
  const specs = [...init.mounts].sort((a, b) => a.guest.split('/').length - b.guest.split('/').length);
  for (const spec of specs) {
    try {
      mounts.push(mountHost(vfs, spec));
    } catch (err) {
      const why = err instanceof VfsError ? err.message : String(err);
      throw fail('mount', `-v ${spec.host}:${spec.guest}${spec.readonly ? ':ro' : ''}: cannot mount it (${why}); mount at a directory path of the box, or make the directory exist in any read-only mount above it`);
    }
  }
}

class FailureError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

function fail(kind: Failure['kind'], message: string): FailureError {
  return new FailureError({ kind, message });
}

/** The exit code and the message for a run that did not end by the guest's own exit (the hosts share failureOf). */
function failed(err: unknown, init: WorkerInit): { code: number; failure: Failure } {
  if (err instanceof FailureError) return { code: err.failure.kind === 'oom' ? 137 : 125, failure: err.failure };
  return failureOf(err, init.memoryLimit);
}
