// The process a RUN starts and the history text it leaves, following BuildKit's dispatchRun and
// runCommandString (frontend/dockerfile/dockerfile2llb/convert.go). RUN words are never expanded by the
// build: the shell (or the program) sees them as written, and the stage's variables as its environment.
import type { InstructionOf } from '../dockerfile/instructions.js';
import { splitWords } from '../dockerfile/words.js';
import { type StageState, shellOf } from './stage.js';

/** The argv a RUN runs, and the script BuildKit would place in /dev/pipes for a `#!` heredoc. */
export interface RunCommand {
  argv: string[];
  script?: { name: string; data: string };
}

/** BuildKit's reHeredoc, matched against the whole command: the command is one heredoc and nothing else. */
const WHOLE_HEREDOC = /^(\d*)<<(-?)\s*([^<]*)$/;

/**
 * The command line of a RUN. Exec form runs as written. Shell form runs through the stage's SHELL; with
 * heredocs, a command that is only `<<EOF` runs the body as the script (or, when it starts with `#!`, as
 * an executable file in /dev/pipes), and any other command gets its heredocs appended for the shell to read.
 */
export function runCommand(state: StageState, ins: InstructionOf<'RUN'>): RunCommand {
  if (ins.command.form === 'exec') return { argv: ins.command.argv };
  let text = ins.command.text;
  let script: RunCommand['script'];
  if (ins.heredocs.length > 0) {
    const whole = WHOLE_HEREDOC.exec(text);
    if (whole && whole[3] !== '' && splitWords(whole[3], '\\').length === 1) {
      const doc = ins.heredocs[0];
      if (doc.content.startsWith('#!')) {
        script = { name: doc.name, data: doc.content };
        text = `/dev/pipes/${doc.name}`;
      } else {
        text = doc.content;
      }
    } else {
      text += ins.heredocs.map((doc) => `\n${doc.content}${doc.name}`).join('');
    }
  }
  return { argv: [...shellOf(state), text], script };
}

/** The environment a RUN sees: the stage's variables (ENV, and ARGs with a value) in order, and HOME if unset. */
export function runEnvironment(state: StageState, home: string): string[] {
  const env = [...state.vars].map(([k, v]) => `${k}=${v}`);
  // The runtime (runc under BuildKit) sets HOME from the user's passwd entry when the environment has none.
  if (!state.vars.has('HOME')) env.push(`HOME=${home}`);
  return env;
}

/**
 * The history text BuildKit records: `RUN`, then `|N NAME=value...` for the ARGs declared in the stage
 * (each once, with its current value), then the argv joined by spaces.
 */
export function runHistory(state: StageState, argv: string[]): string {
  const names = [...new Set(state.args)];
  const args = names.map((name) => `${name}=${state.vars.get(name) ?? ''}`);
  const prefix = args.length ? [`|${args.length}`, ...args] : [];
  return ['RUN', ...prefix, ...argv].join(' ');
}
