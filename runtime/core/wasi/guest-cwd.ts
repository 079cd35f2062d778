// Making WORKDIR real for WASI preview1 guests.
//
// What we found (wasi-libc 0.0~git20220510.9886d3d, Debian's, and wasi-libc as of 2026, same logic):
// - Preview1 has no working directory. wasi-libc keeps its own: `char *__wasilibc_cwd = "/"` (getcwd.c),
//   changed only by its chdir(); it never reads PWD. getcwd() returns that string.
// - Every path is matched against the preopen table by name: leading "/" and "./" are stripped from
//   both the path and the preopen names, the longest matching name wins and ties go to the preopen
//   registered last (the highest fd). So "/" and "." both become the empty name and match everything.
// - A program that links chdir (chdir.o) prefixes relative paths with __wasilibc_cwd first. One that does
//   not resolves relative paths against "/" (its __wasilibc_find_relpath falls back to find_abspath).
//   Either way, until something calls chdir, `open("x")` and `open("/x")` reach the host as the same
//   path_open(3, "x"): no host can tell them apart (wasi-libc issues #227, #484).
// - Preopen scanning runs in a constructor before main in the 2022 libc; since 2023 (#408) it is lazy, on
//   the first path call.
// So neither PWD nor preopen order can give a guest a working directory. What we do:
// 1. The box root is always preopened as "/" (fd 3).
// 2. If the module's name section shows wasi-libc's chdir (and malloc), compileModule exports them under
//    reserved names and the engine calls chdir(spec.cwd) in the guest: before _start (works with lazy
//    preopens), else the moment the guest's preopen scan ends (the eager libc's constructor, still
//    before main). Then getcwd(), fopen("x"), open("./x") and opendir(".") all mean spec.cwd, exactly.
// 3. A wasi-libc guest without chdir cannot hold a cwd. It gets "." preopened at spec.cwd (registered
//    after "/", so the empty name means the cwd), plus one preopen per top-level directory of the box
//    ("/etc", "/usr", ...) so absolute paths still reach the root; a top-level name that also exists in
//    the cwd is left out (relative wins). Its getcwd() is fixed when getcwd's code shows where
//    __wasilibc_cwd lives (checked against the "/" it must hold). Known gaps: "/" itself and new
//    entries directly under "/" resolve in the cwd; a relative path whose first component is a
//    top-level directory absent from the cwd resolves at the root.
// 4. Guests without a name section, or without wasi-libc (Go reads PWD, which the spec's env may set),
//    get the root only: their relative paths mean "/", as their libc decides.
// Runtime code: web-standard APIs only.
import { DirNode, type Vfs } from '../vfs.js';
import type { Guest } from './fd-table.js';
import { functionBody, functionNames, type ModuleScan } from './module-scan.js';
import { Reader, SECTION, encodeName, encodeSection, rebuild, uleb } from './wasm-binary.js';

const encoder = new TextEncoder();

/** The export names the engine gives wasi-libc's functions it calls. */
export const CWD_EXPORTS = { chdir: '__wasmbox_chdir', malloc: '__wasmbox_malloc', free: '__wasmbox_free' } as const;

const LIBC_MARKERS = ['__wasilibc_find_relpath', '__wasilibc_find_abspath', '__wasilibc_populate_preopens'];
/** The function names compileModule looks up. */
export const CWD_NAMES: ReadonlySet<string> = new Set(['chdir', 'malloc', 'free', 'getcwd', ...LIBC_MARKERS]);

/** What a module offers for setting its working directory. */
export interface CwdHooks {
  /** Its libc is wasi-libc (paths go through its preopen table). */
  wasiLibc: boolean;
  /** chdir and malloc (and free, if present) are exported under CWD_EXPORTS. */
  chdir: boolean;
  /** Where __wasilibc_cwd lives, when chdir is absent but getcwd and malloc are there. */
  cwdVar: number | undefined;
}

/** The hooks a scanned module offers, and the exports to add to it for them. */
export function findCwdHooks(bytes: Uint8Array, scan: ModuleScan): { hooks: CwdHooks; exports: [string, number][] } {
  const fn = scan.functions;
  const wasiLibc = LIBC_MARKERS.some((n) => fn.has(n));
  const exports: [string, number][] = [];
  const malloc = fn.get('malloc');
  // A program that opens no paths links none of the markers, yet its getcwd() still reads __wasilibc_cwd.
  const libcCwd = wasiLibc || fn.has('getcwd');
  if (!libcCwd || malloc === undefined || !scan.sections.some((s) => s.id === SECTION.export)) {
    return { hooks: { wasiLibc, chdir: false, cwdVar: undefined }, exports };
  }
  exports.push([CWD_EXPORTS.malloc, malloc]);
  if (fn.has('free')) exports.push([CWD_EXPORTS.free, fn.get('free')!]);
  const chdir = fn.get('chdir');
  if (chdir !== undefined) exports.push([CWD_EXPORTS.chdir, chdir]);
  const getcwd = fn.get('getcwd');
  const cwdVar = chdir === undefined && getcwd !== undefined ? cwdVariable(bytes, scan, getcwd) : undefined;
  return { hooks: { wasiLibc, chdir: chdir !== undefined, cwdVar }, exports };
}

/** getcwd starts by loading __wasilibc_cwd: `i32.const 0; i32.load offset=ADDR`. */
function cwdVariable(bytes: Uint8Array, scan: ModuleScan, getcwd: number): number | undefined {
  const r = functionBody(bytes, scan, getcwd);
  if (!r || r.u8() !== 0x41 || r.u8() !== 0x00 || r.u8() !== 0x28) return undefined;
  r.uleb();
  return r.uleb();
}

/** The module with `extra` function exports appended to its export section. */
export function addExports(bytes: Uint8Array, scan: ModuleScan, extra: [string, number][]): Uint8Array {
  const section = scan.sections.find((s) => s.id === SECTION.export)!;
  const r = new Reader(bytes, section.contentStart, section.end);
  const count = r.uleb();
  const content = [...uleb(count + extra.length), ...bytes.subarray(r.pos, section.end)];
  for (const [name, index] of extra) content.push(...encodeName(name), 0, ...uleb(index));
  return rebuild(bytes, scan.sections, new Map([[section.start, encodeSection(SECTION.export, content)]]));
}

/** Hooks for a module compiled elsewhere (no bytes): only whether it is wasi-libc, from its name section. */
export function hooksFromNames(module: WebAssembly.Module): CwdHooks {
  let wasiLibc = false;
  for (const section of WebAssembly.Module.customSections(module, 'name')) {
    const bytes = new Uint8Array(section);
    if (functionNames(new Reader(bytes, 0), new Set(LIBC_MARKERS)).size > 0) wasiLibc = true;
  }
  return { wasiLibc, chdir: false, cwdVar: undefined };
}

/** The directories to preopen, in fd order from 3 (see the notes at the top of this file). */
export function preopenDirs(vfs: Vfs, cwd: DirNode, hooks: CwdHooks): [string, DirNode][] {
  const dirs: [string, DirNode][] = [['/', vfs.root]];
  if (cwd === vfs.root || hooks.chdir || !hooks.wasiLibc) return dirs;
  dirs.push(['.', cwd]);
  const local = cwd.entries();
  for (const name of vfs.root.entries().keys()) {
    if (local.has(name)) continue;
    const dir = existingDir(vfs, '/' + name);
    if (dir) dirs.push(['/' + name, dir]);
  }
  return dirs;
}

function existingDir(vfs: Vfs, path: string): DirNode | undefined {
  try {
    const node = vfs.get(path);
    return node instanceof DirNode ? node : undefined;
  } catch {
    return undefined;
  }
}

/** Gives one running guest its working directory through the module's hooks. */
export class GuestCwd {
  private pending = false;
  private exports: WebAssembly.Exports | undefined;

  constructor(private readonly path: string, private readonly hooks: CwdHooks, private readonly g: Guest) {}

  /** Call before _start, once the instance exists. */
  beforeStart(exports: WebAssembly.Exports): void {
    if (this.path === '/') return;
    this.exports = exports;
    if (this.hooks.chdir) this.pending = !this.chdir();
    else if (this.hooks.cwdVar !== undefined) this.setCwdVar(this.hooks.cwdVar);
  }

  /** The guest's preopen scan has ended: an eager libc can take chdir now. */
  preopensListed(): void {
    if (!this.pending) return;
    this.pending = false;
    this.chdir();
  }

  private chdir(): boolean {
    const ptr = this.cString();
    if (ptr === 0) return false;
    const ok = this.call(CWD_EXPORTS.chdir, ptr) === 0;
    if (this.exports?.[CWD_EXPORTS.free]) this.call(CWD_EXPORTS.free, ptr);
    return ok;
  }

  /** Point __wasilibc_cwd at a copy of the path, if it still holds the "/" it starts with. */
  private setCwdVar(addr: number): void {
    const { view, bytes } = this.g.mem;
    if (addr + 4 > bytes.byteLength) return;
    const current = view.getUint32(addr, true);
    if (bytes[current] !== 0x2f || bytes[current + 1] !== 0) return;
    const ptr = this.cString();
    if (ptr !== 0) this.g.mem.view.setUint32(addr, ptr, true);
  }

  /** The path as a NUL-terminated string in guest memory (malloc'd by the guest), or 0. */
  private cString(): number {
    const size = encoder.encode(this.path).byteLength + 1;
    const ptr = this.call(CWD_EXPORTS.malloc, size);
    if (ptr !== 0) this.g.mem.writeCString(ptr, this.path);
    return ptr;
  }

  private call(name: string, arg: number): number {
    return (this.exports![name] as (a: number) => number)(arg);
  }
}
