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
import { addExports, CWD_NAMES, findCwdHooks, hooksFromNames, type CwdHooks } from './wasi/guest-cwd.js';
import { scanModule, type MemoryDecl } from './wasi/module-scan.js';
import { mib } from './wasi/guest-error.js';
import { encodeLimits, encodeSection, rebuild, WasmFormatError, type Limits } from './wasi/wasm-binary.js';

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
}

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
  const pending = compile(bytes, bytes);
  if (key === undefined) byBytes.set(bytes, pending);
  else {
    byKey.set(key, pending);
    if (byKey.size > MAX_CACHED) byKey.delete(byKey.keys().next().value!);
  }
  pending.catch(() => (key === undefined ? byBytes.delete(bytes) : byKey.get(key) === pending && byKey.delete(key)));
  return pending;
}

/** Forget every module compiled by key (tests, or hosts that swap boxes). */
export function clearModuleCache(): void {
  byKey.clear();
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
  infos.set(module, { source: undefined, memories: scan.memories, cwd: hooks, ...descriptors(module) });
  provided.set(key, Promise.resolve(module));
}

function analyse(bytes: Uint8Array): ReturnType<typeof findCwdHooks> & { scan: ReturnType<typeof scanModule> } {
  const scan = scanModule(bytes, CWD_NAMES);
  return { scan, ...findCwdHooks(bytes, scan) };
}

async function compile(bytes: Uint8Array, source: Uint8Array): Promise<WebAssembly.Module> {
  const { scan, hooks, exports } = analyse(bytes);
  const final = exports.length > 0 ? addExports(bytes, scan, exports) : bytes;
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(final as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw err instanceof WebAssembly.CompileError ? new WasmFormatError(err.message.replace(/^WebAssembly\.compile\(\): /, '')) : err;
  }
  infos.set(module, { source, memories: scan.memories, cwd: hooks, ...descriptors(module) });
  return module;
}

/** What the engine knows about `module` (little, for modules not compiled by compileModule). */
export function moduleInfo(module: WebAssembly.Module): ModuleInfo {
  let info = infos.get(module);
  if (!info) infos.set(module, (info = { source: undefined, memories: undefined, cwd: hooksFromNames(module), ...descriptors(module) }));
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
  const { source, memories } = moduleInfo(module);
  if (!source || !memories) return Promise.resolve(module);
  for (const m of memories) cappedLimits(m.limits, maxPages);
  if (memories.every((m) => m.imported || (m.limits.max !== undefined && m.limits.max <= maxPages))) return Promise.resolve(module);
  let variants = capped.get(module);
  if (!variants) capped.set(module, (variants = new Map()));
  let variant = variants.get(maxPages);
  if (!variant) variants.set(maxPages, (variant = compile(capMemory(source, maxPages), source)));
  return variant;
}
