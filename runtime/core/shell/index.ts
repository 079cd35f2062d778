// The built-in shell: what runs `/bin/sh -c ...` when the box has no Wasm shell, and the built-in
// commands that stand in for native ones. Loaded by exec.ts on first use. Runtime code: web-standard APIs
// only.
//
// Output: just-bash hands back a script's output when the script ends. A script that is a single
// command starting one program (`python app.py`, `exec ./server --port 80`: the shape of shell-form CMD
// and many RUN lines) is the exception: that program gets the process's own stdin, stdout and stderr,
// so it streams and can read input as it arrives. Any other script prints when it ends.
// Input: stdin is read only when something reads it (just-bash-stdin.ts): the programs a script starts
// read it as they run, a built-in command (cat, grep...) reads all of it when it asks for it, and a script
// whose interpreter itself may read it (`read`, `mapfile`) reads all of it before it starts, since
// just-bash takes that input as one string. `set -x` also traces the internal
// `/usr/bin/__wasmbox_exec PATH` line for box programs that run through it.
import { planLaunch } from '../exec/plan.js';
import type { ProcessSpec } from '../process.js';
import { parseShellArgs, positionalEnv, prepareScript, type PreparedScript } from './args.js';
import { BUILTIN_COMMAND, BUILTIN_NAMES, JustBashShell } from './just-bash.js';
import { soleCommandName } from './just-bash-ast.js';
import { BoxPolicy } from './policy.js';

/** Run the built-in shell as `spec.argv` asks: argv[0] is the shell's name, then sh's options and operands. */
export async function runShell(spec: ProcessSpec): Promise<number> {
  const streamed = streamable(spec);
  if (streamed) return runScript(spec, streamed, true);
  const prepared = prepareScript(spec.argv, spec.vfs, spec.cwd, spec.stdin);
  if ('message' in prepared) {
    spec.stderr(new TextEncoder().encode(prepared.message + '\n'));
    return prepared.exitCode;
  }
  return runScript(spec, prepared, false);
}

/** Whether the shell has a command called `name` (to stand in for a native binary). */
export function hasBuiltin(name: string): boolean {
  return BUILTIN_NAMES.has(name);
}

/** Run the built-in command `name` with `spec.argv[1...]` as its arguments, bypassing PATH. */
export async function runBuiltin(name: string, spec: ProcessSpec): Promise<number> {
  const script = { script: `${BUILTIN_COMMAND} "$@"`, positional: positionalEnv(name, [name, ...spec.argv.slice(1)]), stdin: spec.stdin };
  return runScript(spec, script, false);
}

/** The script, when it is one command whose program is a Wasm module or an interpreter (so its output can stream). */
function streamable(spec: ProcessSpec): PreparedScript | undefined {
  const inv = parseShellArgs(spec.argv);
  if (typeof inv === 'string' || inv.source.kind === 'stdin') return undefined;
  const prepared = prepareScript(spec.argv, spec.vfs, spec.cwd, new Uint8Array(0));
  if ('message' in prepared) return undefined;
  const name = soleCommandName(prepared.script);
  if (name === undefined) return undefined;
  const run = planLaunch({ argv: [name], env: spec.env, cwd: spec.cwd, vfs: spec.vfs }).run;
  return run === 'wasm' || run === 'adapter' ? prepared : undefined;
}

async function runScript(spec: ProcessSpec, prepared: PreparedScript, stream: boolean): Promise<number> {
  const policy = new BoxPolicy(spec, stream);
  const shell = new JustBashShell({ vfs: spec.vfs, cwd: spec.cwd, env: spec.env, uid: spec.uid ?? 0, gid: spec.gid ?? 0, policy });
  const out = await shell.run(prepared);
  if (out.stdout.byteLength > 0) spec.stdout(out.stdout);
  if (out.stderr.byteLength > 0) spec.stderr(out.stderr);
  return out.exitCode;
}
