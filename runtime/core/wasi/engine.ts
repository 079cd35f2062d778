// The default engine: runs a WASI preview1 command in this thread over the box filesystem. It is built
// on @bjorn3/browser_wasi_shim's WASI class (its wasiImport marshals arguments to Fd objects) with our
// own Fd classes over Vfs nodes and our own versions of the entries the shim gets wrong (syscalls.ts
// says which and why). Runtime code: web-standard APIs only.
import { WASI, WASIProcExit } from '@bjorn3/browser_wasi_shim';
import { cwdNode, LaunchError, type ProcessSpec } from '../process.js';
import { VfsError, type DirNode } from '../vfs.js';
import { cappedLimits, MemoryLimitError, moduleInfo, moduleKind, noteRun, WASM_PAGE, withMemoryCap, type ModuleInfo } from '../wasm-module.js';
import { GuestClock } from './clock.js';
import { DirFd } from './dir-fd.js';
import { ALL_RIGHTS } from './errno.js';
import { FdTable, type Guest } from './fd-table.js';
import { InputFd, OutputFd } from './fds.js';
import { GuestCwd, preopenDirs } from './guest-cwd.js';
import { GuestError, MEMORY_EXIT_CODE, mib } from './guest-error.js';
import { GuestMemory } from './guest-memory.js';
import { installSyscalls } from './syscalls.js';
import { describeTrap } from './traps.js';

export { GuestError, MEMORY_EXIT_CODE, TRAP_EXIT_CODE, type GuestErrorKind } from './guest-error.js';

/** Options for one WASI run. */
export interface WasiOptions {
  /** Upper bound for the guest's linear memory, in bytes (`--memory`). */
  memoryLimit?: number;
}

/**
 * Instantiate `module` as a WASI preview1 command, run `_start`, resolve to its exit code (0-255).
 * Rejects with LaunchError (126) when the module cannot start (not a command, imports we lack, initial
 * memory above the limit) and with GuestError when it traps (exitCode 134) or runs out of memory under
 * `memoryLimit` (exitCode 137); hosts print the message and exit with the code.
 */
export async function runWasi(module: WebAssembly.Module, spec: ProcessSpec, options: WasiOptions = {}): Promise<number> {
  const program = spec.argv[0] ?? 'the program';
  checkCommand(module, program);
  const limit = options.memoryLimit;
  const runnable = limit === undefined ? module : await launchable(() => withMemoryCap(module, Math.floor(limit / WASM_PAGE)));
  const run = new WasiRun(runnable, spec, program, limit);
  return run.start(await run.instantiate());
}

function checkCommand(module: WebAssembly.Module, program: string): void {
  const kind = moduleKind(module);
  if (kind === 'wasix') throw new LaunchError(`${program} is a WASIX program (it imports wasix_32v1/wasix_64v1); it needs the wasmer engine, not the WASI engine`, 126);
  const hasStart = moduleInfo(module).exports.some((e) => e.name === '_start' && e.kind === 'function');
  if (!hasStart) {
    const what = kind === 'reactor' ? 'a WASI reactor (a library: it exports _initialize, not _start)' : 'not a WASI command (it exports no _start function)';
    throw new LaunchError(`${program} is ${what}, so it cannot be run as a program`, 126);
  }
}

/** Run `make`, turning a memory limit the module cannot meet into a LaunchError. */
async function launchable<T>(make: () => T | Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (err) {
    if (err instanceof MemoryLimitError) throw new LaunchError(err.message, 126);
    throw err;
  }
}

/** One run of one module: the shim's WASI object with our fds and syscalls, and how it ends. */
class WasiRun {
  private readonly info: ModuleInfo;
  private readonly shim: WASI;
  private readonly guest: Guest;
  private readonly cwd: GuestCwd;
  private readonly imports: Record<string, Record<string, unknown>>;
  private imported: WebAssembly.Memory | undefined;

  constructor(private readonly module: WebAssembly.Module, spec: ProcessSpec, private readonly program: string, private readonly limit: number | undefined) {
    this.info = moduleInfo(module);
    // The shim turns debug logging on when the option is absent: say false.
    this.shim = new WASI(spec.argv, spec.env, [], { debug: false });
    const clock = new GuestClock();
    const fds = new FdTable(this.shim.fds);
    this.guest = { mem: undefined as unknown as GuestMemory, fds, clock };
    fds.add(new InputFd(spec.stdin, clock));
    fds.add(new OutputFd(spec.stdout));
    fds.add(new OutputFd(spec.stderr));
    const owner = { uid: spec.uid ?? 0, gid: spec.gid ?? 0 };
    for (const [name, dir] of preopenDirs(spec.vfs, workdir(spec, program), this.info.cwd)) {
      fds.add(new DirFd(spec.vfs, dir, owner, ALL_RIGHTS, ALL_RIGHTS, name));
    }
    this.cwd = new GuestCwd(normalize(spec.cwd), this.info.cwd, this.guest);
    this.guest.onPreopensListed = () => this.cwd.preopensListed();
    installSyscalls(this.shim, this.guest, spec.argv, spec.env);
    this.imports = { wasi_snapshot_preview1: this.shim.wasiImport };
  }

  /** Instantiate, giving an imported memory its (capped) limits; LaunchError when imports are missing. */
  async instantiate(): Promise<WebAssembly.Instance> {
    await launchable(() => this.provideMemory());
    const missing = this.info.imports.filter((i) => !(i.name in (this.imports[i.module] ?? {})));
    if (missing.length > 0) throw new LaunchError(missingImports(this.program, missing), 126);
    try {
      return await WebAssembly.instantiate(this.module, this.imports as WebAssembly.Imports);
    } catch (err) {
      if (err instanceof WebAssembly.LinkError) throw new LaunchError(`${this.program} cannot start: ${err.message.replace(/^WebAssembly\.instantiate\(\): /, '')}`, 126);
      throw err;
    }
  }

  private provideMemory(): void {
    const wanted = this.info.imports.find((i) => i.kind === 'memory');
    if (!wanted) return;
    const decl = this.info.memories?.find((m) => m.imported?.module === wanted.module && m.imported.name === wanted.name);
    if (!decl) throw new LaunchError(`${this.program} imports its memory (${wanted.module}.${wanted.name}) and was not compiled by compileModule, so its size is unknown`, 126);
    const limits = this.limit === undefined ? decl.limits : cappedLimits(decl.limits, Math.floor(this.limit / WASM_PAGE));
    const shared = (limits.flags & 2) !== 0;
    this.imported = new WebAssembly.Memory({ initial: limits.min, maximum: limits.max, shared } as WebAssembly.MemoryDescriptor);
    (this.imports[wanted.module] ??= {})[wanted.name] = this.imported;
  }

  /** Run _start; resolve to the exit code, reject with GuestError on a trap. */
  start(instance: WebAssembly.Instance): number {
    const memory = this.imported ?? instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new LaunchError(`${this.program} neither exports nor imports a memory, which WASI needs`, 126);
    this.guest.mem = new GuestMemory(memory, this.limit === undefined ? undefined : (size) => this.checkSoftLimit(size));
    this.shim.inst = { exports: { memory } };
    try {
      this.cwd.beforeStart(instance.exports);
      (instance.exports._start as () => void)();
      return 0;
    } catch (err) {
      if (err instanceof WASIProcExit) return err.code & 0xff;
      throw describeTrap(err, this.program, memory, this.limit);
    } finally {
      // The guest's CPU time (not time blocked on stdin or asleep) decides whether it is hot.
      noteRun(this.module, Number(this.guest.clock.cputime()) / 1e6);
    }
  }

  /** Modules compiled elsewhere cannot be capped by rewriting; stop them when a syscall sees them past the limit. */
  private checkSoftLimit(size: number): void {
    if (size <= this.limit!) return;
    throw new GuestError(`${this.program} was stopped: its memory grew to ${mib(size)}, past the memory limit of ${mib(this.limit!)}; raise the limit (--memory)`, 'memory', MEMORY_EXIT_CODE);
  }
}

/** The working directory node (created if missing, as docker does); LaunchError when that is impossible. */
function workdir(spec: ProcessSpec, program: string): DirNode {
  try {
    return cwdNode(spec);
  } catch (err) {
    if (err instanceof VfsError) throw new LaunchError(`${program} cannot start in working directory ${spec.cwd}: ${err.code === 'ENOTDIR' ? 'a path component is not a directory' : err.message}`, 126);
    throw err;
  }
}

function missingImports(program: string, missing: WebAssembly.ModuleImportDescriptor[]): string {
  const names = missing.slice(0, 5).map((i) => `${i.module}.${i.name}`).join(', ') + (missing.length > 5 ? `, and ${missing.length - 5} more` : '');
  const hint = missing.some((i) => i.module === 'wasi_unstable')
    ? ': it was built for the old WASI snapshot 0; rebuild it with a current WASI toolchain'
    : missing.some((i) => i.module === 'wasi')
      ? ': it uses wasi-threads, which the WASI engine does not support'
      : ': it was built for another host (Emscripten or a custom embedding?), not plain WASI preview1';
  return `${program} cannot start: it imports ${names}, which the WASI engine does not provide${hint}`;
}

/** An absolute path without empty, "." or ".." components (what getcwd should report). */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '..') parts.pop();
    else if (p !== '' && p !== '.') parts.push(p);
  }
  return '/' + parts.join('/');
}
