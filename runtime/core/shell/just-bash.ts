// The just-bash adapter (3.4.2, a bash interpreter in TypeScript with coreutils built in): this file, its
// parser half (just-bash-ast.ts) and its stdin half (just-bash-stdin.ts) are the only ones that import it.
// Everything else talks to the shell through plain data: a filesystem (vfs-fs.ts), a policy that decides
// how box programs run (policy.ts), bytes in and out, and the shell's own stdin, read only on demand.
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
// program when it is Wasm, or the built-in (logged when it replaces a native binary). A shell script
// run by path whose own `read` may take the caller's live stdin runs as `sh PATH` instead (a separate
// shell, as it would be), so that input is read up front for it alone (see just-bash-stdin.ts).
import { Bash, bytesOutput, defineCommand, getCommandNames, unsafeBytesFromLatin1, type Command, type ExecResult, type IFileSystem, type ResolvedCommandContext } from 'just-bash';
import { FileNode, type Vfs } from '../vfs.js';
import { shellQuote, sourcedFile } from './args.js';
import { bytesOf, latin1 } from './encoding.js';
import type { ShellInput } from './input.js';
import { readsShellStdin, type SourceReader } from './just-bash-ast.js';
import { LazyStdin } from './just-bash-stdin.js';
import { VfsFileSystem } from './vfs-fs.js';

const EXEC_NAME = '__wasmbox_exec';
const BUILTIN_NAME = '__wasmbox_builtin';
const SCRIPT_NAME = '__wasmbox_script';
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
  stdin: ShellInput;
  /** Run `script` in a fresh shell (like `sh -c`) with exactly `env` exported and `positional` as $0, $1... */
  exec(script: string, env: string[], positional: Record<string, string>, stdin: ShellInput): Promise<ProcessOutput>;
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

/** One script run's input: the text, $0 and $1..., stdin (live input is read only when something reads it). */
export interface ScriptRun {
  script: string;
  positional: Record<string, string>;
  stdin: ShellInput;
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
  private readonly stdin = new LazyStdin();

  constructor(private readonly setup: ShellSetup) {
    // Built-in names get a command that picks the box's program or the built-in; the box's other
    // programs get one too, only so that `command -v NAME` (which just-bash answers from its command
    // table alone) finds them. Programs a script creates later run fine but stay unknown to `command -v`.
    const commands: Command[] = [this.execCommand(), this.builtinCommand(), this.scriptCommand()];
    for (const name of new Set([...BUILTIN_NAMES, ...OWN_NAMES, ...setup.policy.programNames()])) commands.push(this.named(name));
    const fs = new VfsFileSystem(setup.vfs, {
      owner: { uid: setup.uid, gid: setup.gid },
      onScriptRead: (path, file) => (isProgramRead() ? this.scriptFor(path, file) : undefined),
      onEmptyRead: () => this.stdin.readEmpty(),
      isCommand: (name) => [EXEC_NAME, BUILTIN_NAME, SCRIPT_NAME].includes(name) || OWN_NAMES.has(name) || (BUILTIN_NAMES.has(name) && setup.policy.lacks(name)),
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
      stdin: this.stdin.forScript(run.stdin, run.script, this.sourceReader(this.setup.cwd)),
      stdinKind: 'bytes',
      rawScript: true, // keep leading whitespace: just-bash otherwise strips it from every line
    });
    return toOutput(result);
  }

  /** A custom command NAME whose body gets the command's stdin, resolved as it starts (just-bash-stdin.ts). */
  private command(name: string, body: (args: string[], ctx: ResolvedCommandContext, stdin: ShellInput) => Promise<ExecResult>): Command {
    return defineCommand(name, async (args, ctx) => {
      const stdin = this.stdin.enter(ctx);
      try {
        return await body(args, ctx, stdin);
      } finally {
        this.stdin.leave();
      }
    });
  }

  private execCommand(): Command {
    return this.command(EXEC_NAME, async (args, ctx, stdin) => fromOutput(await this.setup.policy.external(args, this.child(ctx, stdin))));
  }

  /** Runs the bundled command NAME itself, bypassing PATH (for a native program found outside /bin and /usr/bin). */
  private builtinCommand(): Command {
    return this.command(BUILTIN_NAME, async ([name, ...args], ctx, stdin) => {
      const own = await this.setup.policy.ownBuiltin(name, args, this.child(ctx, stdin));
      if (own) return fromOutput(own);
      const bundled = this.bundled(name);
      if (!bundled) return { stdout: '', stderr: `wasmbox: ${name}: no built-in command of that name\n`, exitCode: 127 };
      return bundled.execute(args, this.stdin.context(ctx, stdin));
    });
  }

  /** Runs the shell script PATH as `sh PATH ARGS...` (see scriptFor). */
  private scriptCommand(): Command {
    return this.command(SCRIPT_NAME, async (args, ctx, stdin) => {
      const outcome = await this.setup.policy.commandCalled('sh', args, this.child(ctx, stdin));
      return outcome === 'builtin' ? { stdout: '', stderr: 'wasmbox: sh: no shell to run the script\n', exitCode: 127 } : fromOutput(outcome);
    });
  }

  /** The policy's replacement for a program just-bash is about to run; a shell script that may `read` the
   *  caller's stdin runs as a separate `sh` so its input can be read up front (or stay bytes) for it alone. */
  private scriptFor(path: string, file: FileNode): string | undefined {
    const replaced = this.setup.policy.scriptFor(path, file);
    if (replaced !== undefined) return replaced;
    const text = new TextDecoder().decode(file.bytes());
    return readsShellStdin(text, this.sourceReader(this.setup.cwd)) ? `/usr/bin/${SCRIPT_NAME} ${shellQuote(path)} "$@"\n` : undefined;
  }

  private sourceReader(cwd: string): SourceReader {
    return sourcedFile(this.setup.vfs, this.setup.env, cwd);
  }

  private named(name: string): Command {
    return this.command(name, async (args, ctx, stdin) => {
      const outcome = await this.setup.policy.commandCalled(name, args, this.child(ctx, stdin));
      if (outcome !== 'builtin') return fromOutput(outcome);
      // origCommand runs with just-bash's own context, whose stdin would be the marker.
      const bundled = this.stdin.isMarked(ctx) ? this.bundled(name) : undefined;
      if (bundled) return bundled.execute(args, this.stdin.context(ctx, stdin));
      if (!ctx.origCommand) return { stdout: '', stderr: `wasmbox: ${name}: there is no built-in command of that name\n`, exitCode: 127 };
      return ctx.origCommand(args);
    });
  }

  /** just-bash keeps the command a custom one shadows on its registry entry; there is no public getter. */
  private bundled(name: string): { execute(args: string[], ctx: ResolvedCommandContext): Promise<ExecResult> } | undefined {
    const registry = (this.bash as unknown as { commands?: Map<string, { internalOriginalCommand?: Command }> }).commands;
    return registry?.get(name)?.internalOriginalCommand;
  }

  private child(ctx: ResolvedCommandContext, stdin: ShellInput): ChildContext {
    // just-bash lists exported variables in its own order; keep the box's order, new ones after.
    const order = new Map(this.setup.env.map((kv, i) => [kv.slice(0, kv.indexOf('=')), i]));
    const rank = (name: string): number => order.get(name) ?? order.size;
    const env = Object.entries(ctx.exportedEnv ?? {}).sort(([a], [b]) => rank(a) - rank(b));
    return {
      env: env.map(([k, v]) => `${k}=${v}`),
      cwd: ctx.cwd,
      stdin,
      exec: async (script, env, positional, stdin) => {
        if (!ctx.exec) throw new Error('just-bash gave a command no exec function');
        // A nested run exports only the names its Bash was created with; export the rest explicitly.
        const names = env.map((kv) => kv.slice(0, kv.indexOf('='))).filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
        const exported = names.length > 0 ? `export ${names.join(' ')}; ${script}` : script;
        const text = this.stdin.forScript(stdin, script, this.sourceReader(ctx.cwd));
        const options = { cwd: ctx.cwd, env: { ...envRecord(env), ...positional }, replaceEnv: true, stdin: text, stdinKind: 'bytes' as const, rawScript: true, signal: ctx.signal };
        return toOutput(await ctx.exec(exported, options));
      },
    };
  }
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
