// STUB (owned by the language-adapter helper): interpreters that are not Wasm commands (Pyodide, ruby.wasm).
import type { ProcessSpec } from '../process.js';

/** A box file starting with these bytes stands for a built-in interpreter; the rest of the line names it. */
export const ADAPTER_MAGIC = '\0wasmbox-adapter:';

/** Run the built-in interpreter `name` (e.g. "python", "ruby") with `spec.argv` (argv[0] is the interpreter). */
export async function runAdapter(name: string, spec: ProcessSpec): Promise<number> {
  void name; void spec;
  throw new Error('not yet');
}
