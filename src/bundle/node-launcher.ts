// The program inside a `node` bundle: `node DIST/run.js [OPTIONS] [ARGS...]` runs the bundled box as
// `wasmbox run [OPTIONS] BOX [ARGS...]` does (same flags, same exit codes, the guest in a worker thread).
import { fileURLToPath } from 'node:url';
import { parseRunArgs } from '../cli/run-args.js';
import { runCommand } from '../cli/run.js';

/** Run the box in the directory `box` with the launcher's command line; resolves to the exit code. */
export function main(box: URL, argv: string[]): Promise<number> {
  return runCommand(withBox(fileURLToPath(box), argv));
}

/** The `wasmbox run` words for the launcher's words: its leading options, then `-- BOX`, then the rest,
 *  which are the guest's (from the first word that is not a `wasmbox run` option; a `--` there is dropped). */
export function withBox(box: string, argv: string[]): string[] {
  let optionWords = 0;
  for (let n = 1; n <= argv.length; n++) if (onlyOptions(argv.slice(0, n), box)) optionWords = n;
  const guest = argv.slice(optionWords);
  return [...argv.slice(0, optionWords), '--', box, ...(guest[0] === '--' ? guest.slice(1) : guest)];
}

/** Whether `wasmbox run` reads `words` as options alone: BOX after them, with or without `--`, is the box
 *  and nothing is left for the guest (a trailing `-e` would take the box as its value). */
function onlyOptions(words: string[], box: string): boolean {
  try {
    return [[...words, box], [...words, '--', box]].every((w) => {
      const flags = parseRunArgs(w);
      return flags.box === box && flags.args.length === 0;
    });
  } catch {
    return false;
  }
}
