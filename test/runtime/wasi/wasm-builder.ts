/**
 * Tiny WebAssembly modules assembled byte by byte, for what C programs cannot show: exact memory limits,
 * WASIX or foreign imports, modules without _start.
 */

/** What a built module has: imported functions (all of type () -> void), a memory, exported functions. */
export interface ModuleSpec {
  imports?: [module: string, name: string][];
  /** A memory of these limits (in pages), defined, or imported from `imported` when set. */
  memory?: { min: number; max?: number; imported?: [module: string, name: string] };
  /** Exports of functions defined here: `_start` (does nothing) or `grow` ((pages) -> old size, or -1). */
  exports?: ('_start' | '_initialize' | 'grow')[];
}

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const name = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const limits = (min: number, max?: number): number[] => (max === undefined ? [0, ...uleb(min)] : [1, ...uleb(min), ...uleb(max)]);

/** The bytes of the module `spec` describes. */
export function buildModule(spec: ModuleSpec): Uint8Array {
  const imports = spec.imports ?? [];
  const exports = spec.exports ?? [];
  const types = [[0x60, 0, 0], [0x60, 1, 0x7f, 1, 0x7f]]; // () -> (), (i32) -> i32
  const importEntries = imports.map(([m, n]) => [...name(m), ...name(n), 0, 0]);
  if (spec.memory?.imported) importEntries.push([...name(spec.memory.imported[0]), ...name(spec.memory.imported[1]), 2, ...limits(spec.memory.min, spec.memory.max)]);
  const bodies = exports.map((e) => (e === 'grow' ? [0, 0x20, 0, 0x40, 0, 0x0b] : [0, 0x0b]));
  const out = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, vec(types))];
  if (importEntries.length) out.push(...section(2, vec(importEntries)));
  out.push(...section(3, vec(exports.map((e) => [e === 'grow' ? 1 : 0]))));
  if (spec.memory && !spec.memory.imported) out.push(...section(5, vec([limits(spec.memory.min, spec.memory.max)])));
  const exportEntries = exports.map((e, i) => [...name(e), 0, ...uleb(imports.length + i)]);
  if (spec.memory && !spec.memory.imported) exportEntries.push([...name('memory'), 2, 0]);
  out.push(...section(7, vec(exportEntries)));
  out.push(...section(10, vec(bodies.map((b) => [...uleb(b.length), ...b]))));
  return new Uint8Array(out);
}
