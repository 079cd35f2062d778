// How a run that did not end by the guest's own exit is reported by hosts without node: imports (the
// browser Worker; workerd and Deno may share it): an exit code in docker's and the shell's conventions,
// and a Failure whose message the host shows the user.
import { BoxFormatError } from '../core/fs-image.js';
import { LaunchError } from '../core/process.js';
import { RunError } from '../core/run.js';
import { GuestError } from '../core/wasi/guest-error.js';
import type { Failure } from './node-channel.js';

/** The exit code and the message for an error a run threw. */
export function failureOf(err: unknown, memoryLimit?: number): { code: number; failure: Failure } {
  if (err instanceof LaunchError) return { code: err.exitCode, failure: { kind: 'launch', message: err.message } };
  if (err instanceof RunError) return { code: 125, failure: { kind: 'run', message: err.message } };
  if (err instanceof BoxFormatError) return { code: 125, failure: { kind: 'box', message: `the box is damaged: ${err.message}; rebuild it` } };
  if (err instanceof GuestError) return { code: err.exitCode, failure: { kind: err.kind === 'memory' ? 'oom' : 'trap', message: err.message } };
  const e = err as Error | undefined;
  // The WASIX engine's own errors say what the host lacks or what failed (wasmer.ts, wasmer-host.ts).
  if (e?.name === 'WasixHostError' || e?.name === 'WasixEngineError') return { code: 125, failure: { kind: 'run', message: e.message } };
  if (memoryLimit !== undefined && isOutOfMemory(err)) return { code: 137, failure: { kind: 'oom', message: e!.message } };
  if (err instanceof WebAssembly.RuntimeError) {
    // A trap is the guest crashing (abort(), an out-of-bounds access): like a native SIGABRT, 128 + 6.
    return { code: 134, failure: { kind: 'trap', message: `the guest crashed: ${err.message}` } };
  }
  return { code: 125, failure: { kind: 'internal', message: e?.message ?? String(err), detail: e?.stack } };
}

/** Whether a guest failure is its memory running out (a grow or allocation refused at the limit). */
function isOutOfMemory(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string } | undefined;
  if (e?.code === 'ENOMEM' || e?.name === 'MemoryLimitError') return true;
  return (e instanceof RangeError || e instanceof WebAssembly.RuntimeError) && /out of memory|memory limit|could not allocate memory|cannot allocate/i.test(e.message ?? '');
}
