// `env` and `printenv`, done here rather than by just-bash: its versions list every shell variable (`?`,
// `#`, positional parameters, unexported ones) and `env NAME=value CMD` does not export NAME to CMD. A
// program's environment is what was exported, so both work from that list. Runtime code: web-standard
// APIs only.
import type { ProcessOutput } from './just-bash.js';

/** `env`'s operands: the environment it builds and the command to run in it (empty: just list). */
export interface EnvInvocation {
  env: string[];
  command: string[];
}

/** Parse `env [-i] [-u NAME] [NAME=value]... [COMMAND [ARG]...]` over the caller's exported `env`; undefined for options it does not know. */
export function parseEnv(args: string[], env: string[]): EnvInvocation | undefined {
  const vars = new Map(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-i' || arg === '--ignore-environment' || arg === '-') vars.clear();
    else if (arg === '-u' || arg === '--unset') vars.delete(args[++i] ?? '');
    else if (arg.startsWith('--unset=')) vars.delete(arg.slice(8));
    else if (/^-u./.test(arg)) vars.delete(arg.slice(2));
    else if (arg === '--') {
      i++;
      break;
    } else if (arg.startsWith('-')) return undefined;
    else if (/^[^=]+=/.test(arg)) vars.set(arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1));
    else break;
  }
  return { env: [...vars].map(([k, v]) => `${k}=${v}`), command: args.slice(i) };
}

/** `printenv [NAME]...`: all exported variables, or the values of those named (exit 1 if one is unset). */
export function printenv(args: string[], env: string[]): ProcessOutput {
  const names = args.filter((a) => !a.startsWith('-'));
  if (names.length === 0) return text(env.map((kv) => `${kv}\n`).join(''), 0);
  const vars = new Map(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  const found = names.filter((n) => vars.has(n));
  return text(found.map((n) => `${vars.get(n)}\n`).join(''), found.length === names.length ? 0 : 1);
}

/** Text output with an exit code. */
export function text(s: string, exitCode: number): ProcessOutput {
  return { stdout: new TextEncoder().encode(s), stderr: new Uint8Array(0), exitCode };
}
