// `trap`, which just-bash lacks (a script using it would stop with "trap: command not found", and under
// `set -e` fail). A box never delivers signals, so handlers for signals can be accepted and will
// rightly never run. Handlers for EXIT and ERR would run in bash; the built-in shell cannot run them, so
// they are accepted and reported through the wasmbox log rather than silently dropped. Runtime code:
// web-standard APIs only.
import type { ProcessOutput } from './just-bash.js';

/** Pseudo-signals whose handlers bash runs itself (on exit, on error, before commands, on return). */
const SHELL_EVENTS = new Set(['EXIT', '0', 'ERR', 'DEBUG', 'RETURN']);

/** Run `trap ARGS`: accept it, and say which handlers will not run. */
export function trap(args: string[], log: ((message: string) => void) | undefined): ProcessOutput {
  const operands = args[0] === '--' ? args.slice(1) : args;
  const empty = { stdout: new Uint8Array(0), stderr: new Uint8Array(0), exitCode: 0 };
  // `trap`, `trap -p`, `trap -l`: nothing is registered, so there is nothing to list.
  if (operands.length < 2 || operands[0].startsWith('-')) return empty;
  const [action, ...conditions] = operands;
  const events = conditions.map((c) => c.toUpperCase().replace(/^SIG/, '')).filter((c) => SHELL_EVENTS.has(c));
  if (events.length > 0 && action !== '' && action !== '-') {
    log?.(`wasmbox: the built-in shell does not run trap handlers for ${events.join(', ')}; ignoring: trap ${JSON.stringify(action)} ${conditions.join(' ')}`);
  }
  return empty;
}
