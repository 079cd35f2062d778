// `wasmbox run` on its own: the entry scripts/bundle-run.mjs bundles (with the guest's worker) into
// dist/run/, which bin/wasmbox.js loads for `run` so a run's start-up reads a few files instead of ~50.
// Everything here must also hold for `run` through main.ts (the unbundled path).
import { runCommand } from './run.js';

/** The command line when its first word is `run`; resolves to the exit code (as main.ts's main does). */
export async function main(argv: string[]): Promise<number> {
  // `wasmbox run BOX | head` closes the pipe early; that is not an error (as in main.ts).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  return runCommand(argv.slice(1));
}
