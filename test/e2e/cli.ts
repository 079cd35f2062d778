/**
 * Runs the real command line: bin/wasmbox.js over a fresh compile of the sources, made once per test
 * file (test/runtime/hosts/compiled.ts does the compiling and the running; this is its plain face).
 */
import { type Run, type RunOpts, REPO, compileWasmbox } from '../runtime/hosts/compiled.js';

export { REPO, type Run };

/** A compiled copy of the CLI: `run` it, then `remove` it. */
export interface Cli {
  run(args: string[], opts?: RunOpts): Promise<Run>;
  remove(): Promise<void>;
}

/** Compile the sources into node_modules/.cache and give a way to run the CLI from there. */
export async function compileCli(): Promise<Cli> {
  const compiled = await compileWasmbox();
  return { run: compiled.run, remove: compiled.remove };
}
