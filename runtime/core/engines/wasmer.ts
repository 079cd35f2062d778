// STUB (owned by the wasmer helper): the WASIX engine, the only file that imports @wasmer/sdk.
import type { ProcessSpec } from '../process.js';

/** Run a WASIX (or plain WASI) module with @wasmer/sdk over the box filesystem; resolves to the exit code. */
export async function runWasmer(bytes: Uint8Array, spec: ProcessSpec): Promise<number> {
  void bytes; void spec;
  throw new Error('not yet');
}
