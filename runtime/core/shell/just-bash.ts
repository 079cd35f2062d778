// The one file that imports just-bash (3.4.2, a bash interpreter in TypeScript with coreutils built in).
// Everything else talks to the shell through plain data: a filesystem (vfs-fs.ts), a policy that decides
// how box programs run (policy.ts), bytes in and out.
//
// How box programs get run from inside just-bash. Its command lookup (bundle function `Xu`) treats any
// executable file it finds on PATH or by path as a bash script — it reads the file with
// `fs.readFile(path)` and parses it (`kf`, called from the interpreter's `executeUserScript`) — and uses
// a registered command only for a file at /bin/NAME or /usr/bin/NAME. There is no hook for external
// programs. We weighed:
//  - a custom command per executable on PATH: never consulted for /usr/local/bin/x or ./app.wasm;
//  - an AST transform: sees only the top-level script, not scripts run by path, `source`, `eval`, or
//    command names that come from variables;
//  - recognising the script read by the fs calls before it: `[ -f x ] && v=$(< x)` makes exactly the
//    same calls (exists, stat, readFile), so `v` would silently get the wrong text;
//  - recognising it by who calls: the read comes synchronously from `executeUserScript`, a method name
//    the bundle keeps. Only that read sees a replacement text; `cat`, `grep`, `sed -i`, `cp`, `$(< x)`
//    and `source` always read the real bytes (they use readFileBytes/readFileBuffer, or readFile from a
//    command or an expansion). If the check ever stops matching (a new just-bash), the failure is
//    closed: the file is parsed as bash and fails loudly; no data changes.
// We use the last: for a Wasm module, an adapter marker, a native binary or a script for another
// interpreter the replacement is one line, `/usr/bin/__wasmbox_exec PATH "$@"`, a custom command that
// hands the program to `launch`. Shell scripts are still parsed here. Because just-bash reaches its own
// commands only through /bin/NAME or /usr/bin/NAME files, the filesystem answers for those paths where
// the box has nothing (vfs-fs.ts), and every built-in name gets a custom command that runs the box's
// program when it is Wasm, or the built-in (logged when it replaces a native binary).
import { Bash, bytesOutput, defineCommand, getCommandNames, latin1FromBytes, parse, unsafeBytesFromLatin1, type Command, type ExecResult, type IFileSystem, type ResolvedCommandContext, type WordNode } from 'just-bash';
import type { FileNode, Vfs } from '../vfs.js';
import { bytesOf, latin1 } from './encoding.js';
import { VfsFileSystem } from './vfs-fs.js';

const EXEC_NAME = '__wasmbox_exec';
const BUILTIN_NAME = '__wasmbox_builtin';
/** What a replacement script calls to run a box program: `EXEC_COMMAND PATH ARGS...` (a path, so PATH cannot hide it). */
export const EXEC_COMMAND = `/usr/bin/${EXEC_NAME}`;
/** What a replacement script calls to run a built-in in place of a native program: `BUILTIN_COMMAND NAME ARGS...`. */
export const BUILTIN_COMMAND = `/usr/bin/${BUILTIN_NAME}`;

/** A process's output as bytes. */
export interface ProcessOutput {
  stdout: Uint8Array;
  stderr: Uint8Array;
  exitCode: number;
}

/** What a command running inside the shell sees of its caller: exported environment, cwd, stdin, a nested shell. */
export interface ChildContext {
  env: string[];
  cwd: string;
  stdin: Uint8Array;
  /** Run `script` in a fresh shell (like `sh -c`) with exactly `env` exported and `positional` as $0, $1... */
  exec(script: string, env: string[], positional: Record<string, string>, stdin: Uint8Array): Promise<ProcessOutput>;
}

/** The decisions the shell leaves to wasmbox. */
export interface ShellPolicy {
  /** The text to run instead of the executable user script at `path`, or undefined to parse the file as bash. */
  scriptFor(path: string, file: FileNode): string | undefined;
  /** Run the box program argv[0] (a path) for `__wasmbox_exec`. */
  external(argv: string[], ctx: ChildContext): Promise<ProcessOutput>;
  /** wasmbox's own version of a built-in where just-bash's differs from POSIX (env listing shell variables). */
  ownBuiltin(name: string, args: string[], ctx: ChildContext): Promise<ProcessOutput | undefined>;
  /** A built-in command's name was run: the box's own program's output, or 'builtin' to use the built-in. */
  commandCalled(name: string, args: string[], ctx: ChildContext): Promise<ProcessOutput | 'builtin'>;
  /** Told when the built-in `name` stands in for a native program. */
  replaced(name: string, path: string): void;
  /** Whether the box lacks a program called `name`, so the shell's own command of that name may be found. */
  lacks(name: string): boolean;
  /** The names of the box's programs on PATH when the shell starts. */
  programNames(): string[];
}

/** How the shell is set up: the box, its identity, and the decisions above. */
export interface ShellSetup {
  vfs: Vfs;
  cwd: string;
  env: string[];
  uid: number;
  gid: number;
  policy: ShellPolicy;
}

/** One script run's input: the text, $0 and $1..., stdin. */
export interface ScriptRun {
  script: string;
  positional: Record<string, string>;
  stdin: Uint8Array;
}

/** The names of just-bash's built-in commands (python, js-exec and curl are never enabled). */
export const BUILTIN_NAMES: ReadonlySet<string> = new Set(getCommandNames());
/** Shell builtins just-bash lacks, which wasmbox provides (policy.ownBuiltin). */
const OWN_NAMES: ReadonlySet<string> = new Set(['trap']);

// Real shells have no such limits; just-bash's defaults (100k commands or loop turns) stop ordinary build
// scripts, so we lift them far out of the way while keeping a runaway loop from running forever.
const LIMITS = { maxCommandCount: 50_000_000, maxLoopIterations: 50_000_000, maxAwkIterations: 50_000_000, maxSedIterations: 50_000_000, maxCallDepth: 1000 };

/** A just-bash interpreter bound to the box: box programs run through the policy, output comes back as bytes. */
export class JustBashShell {
  private readonly bash: Bash;

  constructor(private readonly setup: ShellSetup) {
    // Built-in names get a command that picks the box's program or the built-in; the box's other
    // programs get one too, only so that `command -v NAME` (which just-bash answers from its command
    // table alone) finds them. Programs a script creates later run fine but stay unknown to `command -v`.
    const commands: Command[] = [this.execCommand(), this.builtinCommand()];
    for (const name of new Set([...BUILTIN_NAMES, ...OWN_NAMES, ...setup.policy.programNames()])) commands.push(this.named(name));
    const fs = new VfsFileSystem(setup.vfs, {
      owner: { uid: setup.uid, gid: setup.gid },
      onScriptRead: (path, file) => (isProgramRead() ? setup.policy.scriptFor(path, file) : undefined),
      isCommand: (name) => name === EXEC_NAME || name === BUILTIN_NAME || OWN_NAMES.has(name) || (BUILTIN_NAMES.has(name) && setup.policy.lacks(name)),
    });
    // Checked against just-bash's interface except readFileBytes, whose result type is opaque there.
    const checked: Omit<IFileSystem, 'readFileBytes'> = fs;
    this.bash = new Bash({
      fs: checked as IFileSystem,
      cwd: setup.cwd,
      env: envRecord(setup.env),
      customCommands: commands,
      // Defense-in-depth patches process-wide globals (WebAssembly, Proxy, Reflect...) while a script runs:
      // it would break the Wasm engines our commands start and any other code sharing the host.
      defenseInDepth: false,
      processInfo: { pid: 1, ppid: 0, uid: setup.uid, gid: setup.gid },
      executionLimits: LIMITS,
    });
  }

  /** Run a script to completion; everything it printed comes back when it ends (just-bash buffers output). */
  async run(run: ScriptRun): Promise<ProcessOutput> {
    const result = await this.bash.exec(run.script, {
      cwd: this.setup.cwd,
      env: { ...envRecord(this.setup.env), ...run.positional },
      replaceEnv: true, // only the box's environment: none of just-bash's defaults (HOME=/, HOSTNAME...)
      stdin: latin1(run.stdin),
      stdinKind: 'bytes',
      rawScript: true, // keep leading whitespace: just-bash otherwise strips it from every line
    });
    return toOutput(result);
  }

  private execCommand(): Command {
    return defineCommand(EXEC_NAME, async (args, ctx) => fromOutput(await this.setup.policy.external(args, this.child(ctx))));
  }

  /** Runs the bundled command NAME itself, bypassing PATH (for a native program found outside /bin and /usr/bin). */
  private builtinCommand(): Command {
    return defineCommand(BUILTIN_NAME, async ([name, ...args], ctx) => {
      const own = await this.setup.policy.ownBuiltin(name, args, this.child(ctx));
      if (own) return fromOutput(own);
      const bundled = this.bundled(name);
      if (!bundled) return { stdout: '', stderr: `wasmbox: ${name}: no built-in command of that name\n`, exitCode: 127 };
      return bundled.execute(args, ctx);
    });
  }

  private named(name: string): Command {
    return defineCommand(name, async (args, ctx) => {
      const outcome = await this.setup.policy.commandCalled(name, args, this.child(ctx));
      if (outcome !== 'builtin') return fromOutput(outcome);
      if (!ctx.origCommand) return { stdout: '', stderr: `wasmbox: ${name}: there is no built-in command of that name\n`, exitCode: 127 };
      return ctx.origCommand(args);
    });
  }

  /** just-bash keeps the command a custom one shadows on its registry entry; there is no public getter. */
  private bundled(name: string): { execute(args: string[], ctx: ResolvedCommandContext): Promise<ExecResult> } | undefined {
    const registry = (this.bash as unknown as { commands?: Map<string, { internalOriginalCommand?: Command }> }).commands;
    return registry?.get(name)?.internalOriginalCommand;
  }

  private child(ctx: ResolvedCommandContext): ChildContext {
    // just-bash lists exported variables in its own order; keep the box's order, new ones after.
    const order = new Map(this.setup.env.map((kv, i) => [kv.slice(0, kv.indexOf('=')), i]));
    const rank = (name: string): number => order.get(name) ?? order.size;
    const env = Object.entries(ctx.exportedEnv ?? {}).sort(([a], [b]) => rank(a) - rank(b));
    return {
      env: env.map(([k, v]) => `${k}=${v}`),
      cwd: ctx.cwd,
      stdin: bytesOf(latin1FromBytes(ctx.stdin)),
      exec: async (script, env, positional, stdin) => {
        if (!ctx.exec) throw new Error('just-bash gave a command no exec function');
        // A nested run exports only the names its Bash was created with; export the rest explicitly.
        const names = env.map((kv) => kv.slice(0, kv.indexOf('='))).filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
        const exported = names.length > 0 ? `export ${names.join(' ')}; ${script}` : script;
        const options = { cwd: ctx.cwd, env: { ...envRecord(env), ...positional }, replaceEnv: true, stdin: latin1(stdin), stdinKind: 'bytes' as const, rawScript: true, signal: ctx.signal };
        return toOutput(await ctx.exec(exported, options));
      },
    };
  }
}

/**
 * The program name of a script that is a single simple command (after an optional `exec`) with a
 * literal name, no redirections, no pipe and nothing in its words that runs a command (`$(...)`): the
 * one program it starts writes straight to the shell's own stdout and stderr. Undefined otherwise.
 */
export function soleCommandName(script: string): string | undefined {
  let ast;
  try {
    ast = parse(script);
  } catch {
    return undefined;
  }
  const statement = ast.statements.length === 1 ? ast.statements[0] : undefined;
  const pipeline = statement && !statement.background && statement.pipelines.length === 1 ? statement.pipelines[0] : undefined;
  const command = pipeline && !pipeline.negated && !pipeline.timed && pipeline.commands.length === 1 ? pipeline.commands[0] : undefined;
  if (command?.type !== 'SimpleCommand' || !command.name || command.redirections.length > 0) return undefined;
  if (/"(CommandSubstitution|ProcessSubstitution)"/.test(JSON.stringify(command))) return undefined;
  const words = [command.name, ...command.args].map(literal);
  const name = words[0] === 'exec' ? words[1] : words[0];
  return name === undefined || name === 'exec' ? undefined : name;
}

/** A word's text when it is plain text (however quoted), else undefined. */
function literal(word: WordNode): string | undefined {
  let text = '';
  for (const part of word.parts) {
    if (part.type === 'Literal' || part.type === 'SingleQuoted' || part.type === 'Escaped') text += part.value;
    else if (part.type === 'DoubleQuoted' && part.parts.every((p) => p.type === 'Literal' || p.type === 'Escaped')) text += part.parts.map((p) => (p as { value: string }).value).join('');
    else return undefined;
  }
  return text;
}

/** Whether the current fs read comes from just-bash running that file as a program (see the top of this file). */
function isProgramRead(): boolean {
  const limit = (Error as { stackTraceLimit?: number }).stackTraceLimit;
  if (typeof limit === 'number' && limit < 20) (Error as { stackTraceLimit?: number }).stackTraceLimit = 20;
  const stack = new Error().stack ?? '';
  if (typeof limit === 'number') (Error as { stackTraceLimit?: number }).stackTraceLimit = limit;
  // Only synchronous frames count (V8 marks the rest "at async", SpiderMonkey "async*"): an awaited
  // executeUserScript further down belongs to a script whose own commands are reading files.
  for (const line of stack.split('\n').slice(1)) {
    if (/at async |async\*/.test(line)) break;
    if (/\bexecuteUserScript\b/.test(line)) return true;
  }
  return false;
}

/** Environment entries as a record (the last of a repeated name wins, as in the kernel's view). */
function envRecord(env: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const kv of env) {
    const eq = kv.indexOf('=');
    if (eq > 0) record[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return record;
}

function fromOutput(out: ProcessOutput): ExecResult {
  return { ...bytesOutput(unsafeBytesFromLatin1(latin1(out.stdout))), stderr: new TextDecoder().decode(out.stderr), exitCode: out.exitCode };
}

function toOutput(result: ExecResult): ProcessOutput {
  return { stdout: shellBytes(result.stdout), stderr: shellBytes(result.stderr), exitCode: result.exitCode };
}

/**
 * The bytes of a finished run's output. just-bash joins the output of a whole script into one string,
 * decoding each command's bytes as UTF-8 when they are valid and keeping them one byte per char when
 * they are not, so a char in U+0080..U+00FF is either text (é) or a raw byte. Text never has the C1
 * controls U+0080..U+009F while binary data almost always does: with them (and nothing beyond U+00FF)
 * the string is bytes, otherwise it is text to encode as UTF-8.
 */
export function shellBytes(s: string): Uint8Array {
  if (!/[^\x00-\xff]/.test(s) && /[\x80-\x9f]/.test(s)) return bytesOf(s);
  return new TextEncoder().encode(s);
}
