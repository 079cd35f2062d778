// STUB (owned by the WASI engine helper): runs a WASI preview1 command module over the box filesystem.
import type { ProcessSpec } from '../process.js';

/** Options for one WASI run. */
export interface WasiOptions {
  /** Upper bound for the guest's linear memory, in bytes (`--memory`). */
  memoryLimit?: number;
}

/** Instantiate `module` as a WASI preview1 command, run `_start`, resolve to its exit code. */
export async function runWasi(module: WebAssembly.Module, spec: ProcessSpec, options: WasiOptions = {}): Promise<number> {
  void module; void spec; void options;
  throw new Error('not yet');
}
