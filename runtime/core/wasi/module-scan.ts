// One pass over a module's sections collecting what the engine needs before compiling it: its memory
// limits (to cap them), its exports (to add a few), and the indices of some libc functions by name (the
// "name" custom section), plus a look inside one function body. Runtime code: web-standard APIs only.
import { Reader, SECTION, WasmFormatError, customName, readLimits, readSections, type Limits, type Section } from './wasm-binary.js';

/** Where a module's memory is declared and its limits. */
export interface MemoryDecl {
  /** Set when the memory is imported: the import's module and field names. */
  imported: { module: string; name: string } | undefined;
  limits: Limits;
  /** Where the limits are encoded in the module bytes (start and end offsets), for rewriting them. */
  at: number;
  end: number;
}

/** What one scan of a module found. */
export interface ModuleScan {
  sections: Section[];
  importedFuncs: number;
  memories: MemoryDecl[];
  exports: Map<string, { kind: number; index: number }>;
  /** Indices of the defined functions whose names were asked for and found. */
  functions: Map<string, number>;
}

/** Scan `bytes`, looking up the functions named in `wanted` in the name section. */
export function scanModule(bytes: Uint8Array, wanted: ReadonlySet<string> = new Set()): ModuleScan {
  const scan: ModuleScan = { sections: readSections(bytes), importedFuncs: 0, memories: [], exports: new Map(), functions: new Map() };
  for (const s of scan.sections) {
    const r = new Reader(bytes, s.contentStart, s.end);
    if (s.id === SECTION.import) readImports(r, scan);
    else if (s.id === SECTION.memory) for (let n = r.uleb(); n > 0; n--) scan.memories.push(memoryDecl(r, undefined));
    else if (s.id === SECTION.export) readExports(r, scan);
    else if (s.id === SECTION.custom && wanted.size > 0) readNames(bytes, s, scan, wanted);
  }
  return scan;
}

function readImports(r: Reader, scan: ModuleScan): void {
  for (let n = r.uleb(); n > 0; n--) {
    const module = r.name();
    const name = r.name();
    const kind = r.u8();
    if (kind === 0) {
      r.uleb();
      scan.importedFuncs++;
    } else if (kind === 1) {
      readRefType(r);
      readLimits(r);
    } else if (kind === 2) {
      scan.memories.push(memoryDecl(r, { module, name }));
    } else if (kind === 3) {
      readRefType(r);
      r.u8();
    } else if (kind === 4) {
      r.u8();
      r.uleb();
    } else {
      throw new WasmFormatError(`unknown import kind ${kind} for ${module}.${name}`);
    }
  }
}

function memoryDecl(r: Reader, imported: MemoryDecl['imported']): MemoryDecl {
  const at = r.pos;
  const limits = readLimits(r);
  return { imported, limits, at, end: r.pos };
}

/** Skip a value or reference type (one byte, or 0x63/0x64 followed by a heap type). */
function readRefType(r: Reader): void {
  const t = r.u8();
  if (t === 0x63 || t === 0x64) r.uleb();
}

function readExports(r: Reader, scan: ModuleScan): void {
  for (let n = r.uleb(); n > 0; n--) {
    const name = r.name();
    scan.exports.set(name, { kind: r.u8(), index: r.uleb() });
  }
}

function readNames(bytes: Uint8Array, s: Section, scan: ModuleScan, wanted: ReadonlySet<string>): void {
  const { name, r } = customName(bytes, s);
  if (name !== 'name') return;
  for (const [fn, index] of functionNames(r, wanted)) if (index >= scan.importedFuncs) scan.functions.set(fn, index);
}

/** The functions named in `wanted` found in a name section's content (from `r` to its end), by name. */
export function functionNames(r: Reader, wanted: ReadonlySet<string>): Map<string, number> {
  const found = new Map<string, number>();
  try {
    while (r.pos < r.end) {
      const id = r.u8();
      const end = r.uleb() + r.pos;
      if (id === 1) {
        for (let n = r.uleb(); n > 0; n--) {
          const index = r.uleb();
          const fn = r.name();
          if (wanted.has(fn)) found.set(fn, index);
        }
      }
      r.pos = end;
    }
  } catch (err) {
    // A damaged name section only costs us the lookups; engines ignore it too.
    if (!(err instanceof WasmFormatError)) throw err;
  }
  return found;
}

/** A reader over the instructions of defined function `index` (after its local declarations), if any. */
export function functionBody(bytes: Uint8Array, scan: ModuleScan, index: number): Reader | undefined {
  const code = scan.sections.find((s) => s.id === SECTION.code);
  if (!code || index < scan.importedFuncs) return undefined;
  const r = new Reader(bytes, code.contentStart, code.end);
  const count = r.uleb();
  const target = index - scan.importedFuncs;
  if (target >= count) return undefined;
  for (let i = 0; i < target; i++) r.skip(r.uleb());
  const size = r.uleb();
  const body = new Reader(bytes, r.pos, r.pos + size);
  for (let groups = body.uleb(); groups > 0; groups--) {
    body.uleb();
    readRefType(body);
  }
  return body;
}
