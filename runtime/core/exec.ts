// STUB (owned by the exec/shell helper): resolves argv[0] like a kernel and runs it.
import type { ProcessSpec } from './process.js';

/** Run a process in the box: argv[0] through PATH, then Wasm / #! / adapter / native / missing. */
export async function launch(spec: ProcessSpec): Promise<number> {
  void spec;
  throw new Error('not yet');
}
