// Guest modules: compiled once per process (so the second run of a box skips compilation), classified
// by what they import and export, and capped in memory by rewriting their limits.
// Runtime code: web-standard APIs only.
//
// No host gives us a supported on-disk cache of compiled code. Node 20's v8.serialize() writes a 2-byte
// placeholder for a WebAssembly.Module and v8.deserialize() then fails ("Unable to deserialize cloned
// data"); its --wasm-native-module-cache-enabled flag only shares modules inside one process. Within a
// process, a compiled module can be posted to workers (structured clone shares the code). Browsers cache
// compiled code themselves for WebAssembly.compileStreaming() over cacheable responses; workerd compiles
// modules at deploy time.
//
// Tiers: V8 first runs a module in its baseline compiler (Liftoff) and moves a hot *function* to its
// optimising one (TurboFan) for its next call, but it cannot move a loop that is already running
// (no on-stack replacement for Wasm in V8 11.3 / Node 20): a program whose work is one long loop in
// main() stays in baseline code, ~1.8× native on scripts/bench-src/cpu.c against ~1.05× optimised.
// Compiling everything optimised up front costs ~0.5–1.3 ms per KB of code here (and lazily optimising
// an interpreter such as ruby.wasm triples its start-up), so a host that can (TierHost: Node) compiles a
// module optimised only once it proved hot: a run of at least HOT_RUN_MS of guest CPU time, with at
// most OPTIMIZE_MAX_CODE bytes of code. Bigger modules stay baseline; their hot functions are called
// again and again and get optimised by V8's own tier-up.
import { addExports, CWD_NAMES, findCwdHooks, hooksFromNames, type CwdHooks } from './wasi/guest-cwd.js';
import { scanModule, type MemoryDecl } from './wasi/module-scan.js';
import { mib } from './wasi/guest-error.js';
import { encodeLimits, encodeSection, rebuild, SECTION, WasmFormatError, type Limits } from './wasi/wasm-binary.js';

/** What a module is: a WASI command, a WASIX program, a WASI reactor (library), or something else. */
export type ModuleKind = 'wasi' | 'wasix' | 'reactor' | 'unknown';

/** What the engine knows about a compiled module. */
export interface ModuleInfo {
  /** The bytes it was compiled from; undefined when it was compiled elsewhere (workerd declares modules). */
  source: Uint8Array | undefined;
  /** Its memories, declared or imported, with their limits; undefined without bytes to read. */
  memories: MemoryDecl[] | undefined;
  /** What it offers for setting its working directory (see wasi/guest-cwd.ts). */
  cwd: CwdHooks;
  /** WebAssembly.Module.imports/exports, read once (each call builds new arrays). */
  imports: WebAssembly.ModuleImportDescriptor[];
  exports: WebAssembly.ModuleExportDescriptor[];
  /** The key it was compiled under (its file's sha256), if any: what a hot module is remembered by. */
  key?: string;
  /** Bytes of its code section (what optimising costs grow with); undefined without bytes to read. */
  codeBytes?: number;
  /** The tier compileModule compiled it with; 'baseline' for modules compiled elsewhere. */
  tier: Tier;
}

/** Which of the engine's compilers a module was compiled with: baseline (quick to compile) or optimising. */
export type Tier = 'baseline' | 'optimized';

/** What a host lends the module cache so hot modules run optimised code (see the notes at the top). */
export interface TierHost {
  /** Compile with the optimising tier, every function up front. */
  compileOptimized(bytes: Uint8Array): Promise<WebAssembly.Module>;
  /** Whether the module with this key (its file's sha256) is to be compiled optimised (e.g. it was hot before). */
  isHot(key: string): boolean;
  /** A module just proved hot in this process; the host may remember it for later processes. */
  remember?(key: string): void;
}

/** Guest CPU time (ms) of one run from which a module counts as hot. */
export const HOT_RUN_MS = 1000;
/** Code bytes above which a module is never compiled optimised for being hot (~0.25 s of optimising here). */
export const OPTIMIZE_MAX_CODE = 256 * 1024;

/** The error for a module whose initial memory is larger than the memory limit. */
export class MemoryLimitError extends Error {
  constructor(readonly neededBytes: number, readonly limitBytes: number) {
    super(`the module needs ${mib(neededBytes)} of memory to start, more than the memory limit of ${mib(limitBytes)}; raise the limit (--memory)`);
    this.name = 'MemoryLimitError';
  }
}

/** Bytes in one page of linear memory. */
export const WASM_PAGE = 65536;
/** How many modules the key cache keeps (least recently used go first). */
const MAX_CACHED = 32;

const byKey = new Map<string, Promise<WebAssembly.Module>>();
const byBytes = new WeakMap<Uint8Array, Promise<WebAssembly.Module>>();
const infos = new WeakMap<WebAssembly.Module, ModuleInfo>();
const capped = new WeakMap<WebAssembly.Module, Map<number, Promise<WebAssembly.Module>>>();
/** Keys of modules that proved hot in this process. */
const hotKeys = new Set<string>();
let tierHost: TierHost | undefined;

// Modules a host compiled before the box ran (workerd compiles declared modules at deploy time and
// refuses WebAssembly.compile at run time): never evicted, looked up before compiling.
const provided = new Map<string, Promise<WebAssembly.Module>>();

/** Compile `bytes`, once per process per `key` (e.g. the file's sha256), else per array object. */
export function compileModule(bytes: Uint8Array, key?: string): Promise<WebAssembly.Module> {
  const given = key === undefined ? undefined : provided.get(key);
  if (given) return given;
  const hit = key === undefined ? byBytes.get(bytes) : byKey.get(key);
  if (hit) {
    if (key !== undefined) byKey.delete(key), byKey.set(key, hit);
    return hit;
  }
  const pending = compile(bytes, bytes, key, tierOf(key));
  if (key === undefined) byBytes.set(bytes, pending);
  else {
    byKey.set(key, pending);
    if (byKey.size > MAX_CACHED) byKey.delete(byKey.keys().next().value!);
  }
  pending.catch(() => (key === undefined ? byBytes.delete(bytes) : byKey.get(key) === pending && byKey.delete(key)));
  return pending;
}

/** Forget every module compiled by key, and which were hot (tests, or hosts that swap boxes). */
export function clearModuleCache(): void {
  byKey.clear();
  hotKeys.clear();
}

/** Lend the cache the host's optimising tier (undefined: every module baseline, nothing remembered). */
export function setTierHost(host: TierHost | undefined): void {
  tierHost = host;
}

function tierOf(key: string | undefined): Tier {
  if (!tierHost || key === undefined) return 'baseline';
  if (hotKeys.has(key)) return 'optimized';
  try {
    return tierHost.isHot(key) ? 'optimized' : 'baseline';
  } catch {
    return 'baseline'; // a host that cannot tell (its memory unreadable) costs speed, never the run
  }
}

/** Note that `module` ran for `cpuMs` of guest CPU time: a small one that ran long (see HOT_RUN_MS) is
 *  compiled optimised from now on in this process, and the host is told so it can remember it. */
export function noteRun(module: WebAssembly.Module, cpuMs: number): void {
  const info = infos.get(module);
  if (!tierHost || !info?.key || info.tier === 'optimized' || hotKeys.has(info.key)) return;
  if (cpuMs < HOT_RUN_MS || info.codeBytes === undefined || info.codeBytes > OPTIMIZE_MAX_CODE) return;
  hotKeys.add(info.key);
  byKey.delete(info.key);
  try {
    tierHost.remember?.(info.key);
  } catch {
    // remembering is an optimisation: it never fails a run
  }
}

/** The bytes compileModule really compiles for a module's `bytes` (with the exports guest-cwd.ts needs):
 *  what a bundler declares for hosts that cannot compile at run time (then provideModule). */
export function prepareModule(bytes: Uint8Array): Uint8Array {
  const { scan, exports } = analyse(bytes);
  return exports.length > 0 ? addExports(bytes, scan, exports) : bytes;
}

/** Use `module`, compiled elsewhere from prepareModule(`source`), whenever a file with this `key` (its
 *  sha256) runs; `source` is only read for what the engine must know (memories, working-directory hooks). */
export function provideModule(key: string, module: WebAssembly.Module, source: Uint8Array): void {
  const { scan, hooks } = analyse(source);
  // No `source` in the info: a memory cap would mean compiling again, which such hosts refuse.
  infos.set(module, { source: undefined, memories: scan.memories, cwd: hooks, tier: 'baseline', ...descriptors(module) });
  provided.set(key, Promise.resolve(module));
}

function analyse(bytes: Uint8Array): ReturnType<typeof findCwdHooks> & { scan: ReturnType<typeof scanModule> } {
  const scan = scanModule(bytes, CWD_NAMES);
  return { scan, ...findCwdHooks(bytes, scan) };
}

async function compile(bytes: Uint8Array, source: Uint8Array, key: string | undefined, tier: Tier): Promise<WebAssembly.Module> {
  const { scan, hooks, exports } = analyse(bytes);
  const final = (exports.length > 0 ? addExports(bytes, scan, exports) : bytes) as Uint8Array<ArrayBuffer>;
  let module: WebAssembly.Module;
  try {
    module = tier === 'optimized' && tierHost ? await tierHost.compileOptimized(final) : await WebAssembly.compile(final);
  } catch (err) {
    throw err instanceof WebAssembly.CompileError ? new WasmFormatError(err.message.replace(/^WebAssembly\.compile\(\): /, '')) : err;
  }
  const codeBytes = scan.sections.filter((s) => s.id === SECTION.code).reduce((n, s) => n + s.end - s.contentStart, 0);
  infos.set(module, { source, memories: scan.memories, cwd: hooks, key, codeBytes, tier: tier === 'optimized' && tierHost ? tier : 'baseline', ...descriptors(module) });
  return module;
}

/** What the engine knows about `module` (little, for modules not compiled by compileModule). */
export function moduleInfo(module: WebAssembly.Module): ModuleInfo {
  let info = infos.get(module);
  if (!info) infos.set(module, (info = { source: undefined, memories: undefined, cwd: hooksFromNames(module), tier: 'baseline', ...descriptors(module) }));
  return info;
}

function descriptors(module: WebAssembly.Module): Pick<ModuleInfo, 'imports' | 'exports'> {
  return { imports: WebAssembly.Module.imports(module), exports: WebAssembly.Module.exports(module) };
}

/** Classify a module from its imports and exports. */
export function moduleKind(module: WebAssembly.Module): ModuleKind {
  const { imports, exports } = moduleInfo(module);
  if (imports.some((i) => i.module === 'wasix_32v1' || i.module === 'wasix_64v1')) return 'wasix';
  const exported = (name: string) => exports.some((e) => e.name === name && e.kind === 'function');
  const onlyWasi = imports.every((i) => i.kind !== 'function' || i.module === 'wasi_snapshot_preview1');
  if (exported('_start')) return onlyWasi ? 'wasi' : 'unknown';
  if (exported('_initialize') || (imports.length > 0 && onlyWasi && imports.some((i) => i.kind === 'function'))) return 'reactor';
  return 'unknown';
}

/** The module bytes with every memory's maximum lowered to `maxPages` (MemoryLimitError if its minimum is above). */
export function capMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  const scan = scanModule(bytes);
  const replace = new Map<number, Uint8Array>();
  for (const section of scan.sections) {
    const decls = scan.memories.filter((m) => m.at >= section.contentStart && m.at < section.end);
    if (decls.length === 0) continue;
    // Only the import and memory sections hold limits, and both are small.
    const content: number[] = [];
    let from = section.contentStart;
    for (const m of decls) {
      content.push(...bytes.subarray(from, m.at), ...encodeLimits(cappedLimits(m.limits, maxPages)));
      from = m.end;
    }
    content.push(...bytes.subarray(from, section.end));
    replace.set(section.start, encodeSection(section.id, content));
  }
  return replace.size === 0 ? bytes : rebuild(bytes, scan.sections, replace);
}

/** Limits with the maximum lowered to `maxPages`. */
export function cappedLimits(limits: Limits, maxPages: number): Limits {
  if (limits.min > maxPages) throw new MemoryLimitError(limits.min * WASM_PAGE, maxPages * WASM_PAGE);
  return { ...limits, max: Math.min(limits.max ?? Infinity, maxPages) };
}

/** `module` recompiled with its declared memory capped at `maxPages` (once per module and cap), or itself
 *  when its limits already fit or it has no bytes to rewrite (the engine then checks memory at syscalls). */
export function withMemoryCap(module: WebAssembly.Module, maxPages: number): Promise<WebAssembly.Module> {
  const { source, memories, key, tier } = moduleInfo(module);
  if (!source || !memories) return Promise.resolve(module);
  for (const m of memories) cappedLimits(m.limits, maxPages);
  if (memories.every((m) => m.imported || (m.limits.max !== undefined && m.limits.max <= maxPages))) return Promise.resolve(module);
  let variants = capped.get(module);
  if (!variants) capped.set(module, (variants = new Map()));
  let variant = variants.get(maxPages);
  if (!variant) variants.set(maxPages, (variant = compile(capMemory(source, maxPages), source, key, tier)));
  return variant;
}
