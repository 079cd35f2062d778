// How the built-in shell treats the box's programs: which executables it parses itself (shell scripts),
// which go to `launch` (Wasm modules, adapter markers, scripts for other interpreters), which built-in
// command stands in for a native binary, and how a nested `sh`/`bash` runs. Runtime code: web-standard
// APIs only.
import { launch } from '../exec.js';
import { SNIFF_BYTES, sniffFormat } from '../exec/format.js';
import { baseName, isShellName, planLaunch } from '../exec/plan.js';
import { resolveCommand, type FoundCommand } from '../exec/resolve.js';
import { collectOutput, type ProcessSpec } from '../process.js';
import { searchPath } from '../run.js';
import { DirNode, FileNode, type Vfs } from '../vfs.js';
import { positionalEnv, prepareScript, shellQuote } from './args.js';
import { parseEnv, printenv, text } from './environment.js';
import { inputSource } from './input.js';
import { trap } from './trap.js';
import { BUILTIN_COMMAND, BUILTIN_NAMES, EXEC_COMMAND, type ChildContext, type ProcessOutput, type ShellPolicy } from './just-bash.js';

/** Commands bash itself implements: a bare `echo` never runs a file, whatever the box holds. */
const SHELL_BUILTINS = new Set(['echo', 'printf', 'pwd', 'true', 'false', 'alias', 'unalias', 'history', 'help', 'time']);

/** The shell policy for one process tree: `base` gives the box, the identity, the engines and the log. */
export class BoxPolicy implements ShellPolicy {
  private readonly logged = new Set<string>();

  /**
   * `stream`: the script is one command (see soleCommandName), so the first program launched gets the
   * process's own stdin, stdout and stderr and its output appears as it is written.
   */
  constructor(
    private readonly base: ProcessSpec,
    private stream = false,
  ) {}

  scriptFor(path: string, file: FileNode): string | undefined {
    const format = sniffFormat(file.read(0, SNIFF_BYTES));
    // Text without #! is a shell script to a shell; a #!/bin/sh (or bash, env sh...) script runs right
    // here unless the box has a Wasm build of that shell or the #! line gives the shell options (-e).
    if (format.kind === 'text') return undefined;
    if (format.kind === 'script') {
      const plan = planLaunch({ argv: [path], env: this.base.env, cwd: '/', vfs: this.base.vfs });
      if (plan.run === 'shell' && plan.argv.length === 2) return undefined;
    }
    const name = baseName(path);
    if (format.kind === 'native' && BUILTIN_NAMES.has(name) && !isShellName(name)) {
      this.replaced(name, path);
      return `${BUILTIN_COMMAND} ${shellQuote(name)} "$@"\n`;
    }
    return `${EXEC_COMMAND} ${shellQuote(path)} "$@"\n`;
  }

  external(argv: string[], ctx: ChildContext): Promise<ProcessOutput> {
    return this.launch(argv, ctx);
  }

  /** A command by name: a shell, a shell builtin, env listing, the box's program, or the built-in. */
  async commandCalled(name: string, args: string[], ctx: ChildContext): Promise<ProcessOutput | 'builtin'> {
    if (isShellName(name)) return this.shell(name, args, ctx);
    if (SHELL_BUILTINS.has(name)) return 'builtin';
    const own = await this.ownBuiltin(name, args, ctx);
    if (own) return own;
    const found = this.boxFile(name, ctx);
    if (!BUILTIN_NAMES.has(name)) return this.launch([found?.path ?? name, ...args], ctx);
    if (!found) return 'builtin';
    const kind = found.format.kind;
    if (kind === 'native') this.replaced(name, found.path);
    if (kind === 'wasm' || kind === 'adapter') return this.launch([found.path, ...args], ctx);
    if (kind === 'script') {
      const plan = planLaunch({ argv: [found.path, ...args], env: ctx.env, cwd: ctx.cwd, vfs: this.base.vfs });
      if (plan.run === 'wasm' || plan.run === 'adapter') return this.launch([found.path, ...args], ctx);
    }
    // Native binaries, and box shell scripts shadowing a built-in (Debian's /usr/bin/which): the built-in.
    return 'builtin';
  }

  async ownBuiltin(name: string, args: string[], ctx: ChildContext): Promise<ProcessOutput | undefined> {
    if (name === 'trap') return trap(args, this.base.log);
    if (name === 'printenv') return printenv(args, ctx.env);
    if (name !== 'env') return undefined;
    const inv = parseEnv(args, ctx.env);
    if (!inv) return undefined; // an option only just-bash's env knows, or a usage error it reports
    if (inv.command.length === 0) return text(inv.env.map((kv) => `${kv}\n`).join(''), 0);
    // `command` runs a program, never a shell function, as env's execvp does.
    return ctx.exec('command "$@"', inv.env, positionalEnv('env', inv.command), ctx.stdin);
  }

  programNames(): string[] {
    const names: string[] = [];
    for (const dir of searchPath(this.base.env)) {
      let node;
      try {
        node = this.base.vfs.lookup(dir).node;
      } catch {
        continue;
      }
      if (!(node instanceof DirNode)) continue;
      for (const name of node.entries().keys()) if (isProgram(this.base.vfs, `${dir}/${name}`)) names.push(name);
    }
    return names;
  }

  lacks(name: string): boolean {
    return !resolveCommand(name, this.base).found;
  }

  replaced(name: string, path: string): void {
    if (this.logged.has(path)) return;
    this.logged.add(path);
    this.base.log?.(`wasmbox: ${path} is a native binary; using the built-in ${name}`);
  }

  /** `sh ...` inside a script: the box's Wasm shell if it has one, else a nested built-in shell. */
  private async shell(name: string, args: string[], ctx: ChildContext): Promise<ProcessOutput> {
    const plan = planLaunch({ argv: [name, ...args], env: ctx.env, cwd: ctx.cwd, vfs: this.base.vfs });
    if (plan.run !== 'shell') return this.launch([name, ...args], ctx);
    if (plan.native) this.replaced('shell', plan.native);
    const prepared = prepareScript([name, ...args], this.base.vfs, ctx.cwd, ctx.stdin);
    if ('message' in prepared) return failed(prepared.message, prepared.exitCode);
    return ctx.exec(prepared.script, ctx.env, prepared.positional, prepared.stdin);
  }

  /**
   * The box file a built-in's name stands for. just-bash calls a built-in for /bin/NAME or /usr/bin/NAME,
   * reached through PATH (the usual case: the box's own NAME is what PATH finds), by that path, or
   * remembered from an earlier lookup.
   */
  private boxFile(name: string, ctx: ChildContext): FoundCommand | undefined {
    const where = { vfs: this.base.vfs, env: ctx.env, cwd: ctx.cwd };
    const onPath = resolveCommand(name, where);
    if (onPath.found) return onPath;
    for (const path of [`/usr/bin/${name}`, `/bin/${name}`]) {
      const res = resolveCommand(path, where);
      if (res.found) return res;
    }
    return undefined;
  }

  private async launch(argv: string[], ctx: ChildContext): Promise<ProcessOutput> {
    const out = collectOutput();
    const err = collectOutput();
    const own = this.stream;
    this.stream = false;
    const stdio = own ? { stdin: this.base.stdin, stdout: this.base.stdout, stderr: this.base.stderr } : { stdin: inputSource(ctx.stdin), stdout: out.sink, stderr: err.sink };
    const spec: ProcessSpec = { ...this.base, argv, env: ctx.env, cwd: ctx.cwd, ...stdio };
    let exitCode: number;
    try {
      exitCode = await launch(spec);
    } catch (error) {
      // Engine messages usually name the program already.
      const message = (error as Error).message;
      err.sink(new TextEncoder().encode(`wasmbox: ${message.includes(argv[0]) ? '' : `${argv[0]}: `}${message}\n`));
      // LaunchError (cannot start) and the engine's GuestError (trap, out of memory) carry the code.
      const code = (error as { exitCode?: unknown }).exitCode;
      exitCode = typeof code === 'number' ? code : 126;
    }
    return { stdout: out.bytes(), stderr: err.bytes(), exitCode };
  }
}

/** An executable regular file (after symlinks), without reading it. */
function isProgram(vfs: Vfs, path: string): boolean {
  try {
    const node = vfs.lookup(path).node;
    return node instanceof FileNode && (node.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function failed(message: string, exitCode: number): ProcessOutput {
  return { stdout: new Uint8Array(0), stderr: new TextEncoder().encode(message + '\n'), exitCode };
}
