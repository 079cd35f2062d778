// Deciding how a process runs before anything runs: argv[0] is resolved, `#!` lines are followed the way
// the kernel follows them (interpreter resolved in the box, argv rewritten, a bounded number of levels),
// and the chain ends in a Wasm module, a built-in interpreter, the built-in shell, a native binary or a
// failure with its message. Pure and synchronous, so the shell can ask "would launch run this itself?"
// without running anything. Runtime code: web-standard APIs only.
import type { FileNode } from '../vfs.js';
import type { NativeFormat } from './format.js';
import { resolveCommand, type FoundCommand, type ResolveContext } from './resolve.js';

/** What launch will do with a process. */
export type LaunchPlan =
  | { run: 'wasm'; argv: string[]; env: string[]; path: string; file: FileNode }
  | { run: 'adapter'; argv: string[]; env: string[]; adapter: string }
  /** The built-in shell; `native` names the box's own shell binary it stands in for, when there is one. */
  | { run: 'shell'; argv: string[]; env: string[]; native?: string }
  /** A native binary: launch replaces it with a built-in command of the same name, or fails. */
  | { run: 'native'; argv: string[]; env: string[]; name: string; path: string; format: NativeFormat }
  | { run: 'fail'; exitCode: 126 | 127; message: string };

/** How many `#!` interpreters may chain before the kernel gives up (Linux's BINPRM_MAX_RECURSION). */
export const MAX_INTERPRETER_DEPTH = 4;

/** Names the built-in shell answers to when the box has no Wasm build of them. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash']);
const BIN_DIRS = new Set(['/bin', '/usr/bin', '/usr/local/bin', '/sbin', '/usr/sbin']);

/** Whether `name` (a bare name or a path in a standard bin directory) is a POSIX shell the built-in one can stand in for. */
export function isShellName(name: string): boolean {
  const slash = name.lastIndexOf('/');
  return SHELLS.has(name.slice(slash + 1)) && (slash < 0 || BIN_DIRS.has(name.slice(0, slash) || '/'));
}

/** Resolve `spec.argv[0]` and follow `#!` interpreters to the thing that will actually run. */
export function planLaunch(spec: ResolveContext & { argv: string[] }): LaunchPlan {
  let argv = spec.argv;
  let env = spec.env;
  // The kernel opens a relative interpreter path against the cwd, never through PATH: `lookup` is what
  // gets resolved, argv[0] stays as written.
  let lookup = argv[0] ?? '';
  let script: { path: string; line: string } | undefined;
  for (let depth = 0; ; depth++) {
    const where = { vfs: spec.vfs, env, cwd: spec.cwd };
    const res = resolveCommand(lookup, where);
    if (isShellName(argv[0] ?? '') && !(res.found && (res.format.kind === 'wasm' || res.format.kind === 'adapter'))) {
      return { run: 'shell', argv, env, native: res.found && res.format.kind === 'native' ? res.path : undefined };
    }
    if (!res.found) {
      if (!script) return { run: 'fail', exitCode: res.exitCode, message: res.message };
      // A missing interpreter is 126 ("bad interpreter"); a program env cannot find is env's 127.
      return badInterpreter(script, argv[0], res.message, res.reason === 'missing' && !lookup.includes('/') ? 127 : 126);
    }
    const format = res.format;
    switch (format.kind) {
      case 'wasm':
        return { run: 'wasm', argv, env, path: res.path, file: res.file };
      case 'adapter':
        return { run: 'adapter', argv, env, adapter: format.adapter };
      case 'native':
        return { run: 'native', argv, env, name: baseName(res.path), path: res.path, format: format.format };
      case 'text':
        return fail(`wasmbox: ${res.path}: exec format error: a text file without a #! line; add one (e.g. #!/bin/sh) or run it as "sh ${res.path}"`);
      case 'binary':
        return fail(`wasmbox: ${res.path}: exec format error: not WebAssembly, a #! script or a binary format wasmbox knows`);
      case 'script': {
        if (depth >= MAX_INTERPRETER_DEPTH) return fail(`wasmbox: ${res.path}: too many levels of #! interpreters (more than ${MAX_INTERPRETER_DEPTH})`);
        const next = interpreterArgv(res, format, argv, env);
        if ('run' in next) return next;
        ({ argv, env, lookup } = next);
        script = { path: res.path, line: `#!${format.interpreter}${format.arg === undefined ? '' : ` ${format.arg}`}` };
      }
    }
  }
}

type NextStep = { argv: string[]; env: string[]; lookup: string };

/** The argv the kernel builds for a script: interpreter, its optional argument, the script path, the rest. */
function interpreterArgv(res: FoundCommand, format: { interpreter: string; arg?: string }, argv: string[], env: string[]): NextStep | LaunchPlan {
  const rest = [res.path, ...argv.slice(1)];
  if (baseName(format.interpreter) !== 'env') {
    const interp = format.interpreter;
    const lookup = interp.includes('/') ? interp : `./${interp}`;
    return { argv: [interp, ...(format.arg === undefined ? [] : [format.arg]), ...rest], env, lookup };
  }
  // `#!/usr/bin/env NAME` runs NAME through PATH; `env -S` splits the rest into words, and leading
  // NAME=value words set variables, as coreutils env does.
  const words = format.arg === undefined ? [] : format.arg.startsWith('-S') ? format.arg.slice(2).trim().split(/[ \t]+/).filter(Boolean) : [format.arg];
  const extra: string[] = [];
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) extra.push(words.shift()!);
  const program = words.shift();
  if (program === undefined) return fail(`wasmbox: ${res.path}: "#!${format.interpreter}" names no program for env to run; write e.g. #!/usr/bin/env python3`);
  return { argv: [program, ...words, ...rest], env: [...env, ...extra], lookup: program };
}

function badInterpreter(script: { path: string; line: string }, interpreter: string, reason: string, exitCode: 126 | 127): LaunchPlan {
  const crlf = interpreter.endsWith('\r') ? ' (the script has Windows line endings; convert it with dos2unix or sed -i "s/\\r$//")' : '';
  const why = reason.replace(/^wasmbox: /, '');
  return { run: 'fail', exitCode, message: `wasmbox: ${script.path}: bad interpreter in "${script.line.trimEnd()}": ${why}${crlf}` };
}

function fail(message: string): LaunchPlan {
  return { run: 'fail', exitCode: 126, message };
}

/** The last path component. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
