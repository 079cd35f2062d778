// A known-good WASI command the WASIX engine runs to tell "the guest printed nothing" apart from "the sdk ran
// nothing": it writes PROBE_OUTPUT to stdout and exits with PROBE_EXIT. Encoded here, byte by byte, so the
// check needs no compiler and no file. Runtime code: web-standard APIs only.

/** What the probe writes to stdout. */
export const PROBE_OUTPUT = 'wasmbox-probe-ok\n';
/** The probe's exit status; not 0, so a run that silently does nothing cannot pass for it. */
export const PROBE_EXIT = 42;

const I32 = 0x7f;
const FUNC = 0x60;

/** The probe module's bytes. Equivalent WAT:
 *  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
 *  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
 *  (memory (export "memory") 1)
 *  (data (i32.const 0) "<iovec {16, len}> <nwritten> <pad> <PROBE_OUTPUT>")
 *  (func (export "_start") (drop (call 0 (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
 *                          (call 1 (i32.const PROBE_EXIT)))
 */
export function probeModule(): Uint8Array {
  const text = new TextEncoder().encode(PROBE_OUTPUT);
  const data = [...u32le(16), ...u32le(text.byteLength), ...u32le(0), ...u32le(0), ...text];
  const wasi = name('wasi_snapshot_preview1');
  const body = [0x00, ...i32(1), ...i32(0), ...i32(1), ...i32(8), 0x10, 0x00, 0x1a, ...i32(PROBE_EXIT), 0x10, 0x01, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[FUNC, 4, I32, I32, I32, I32, 1, I32], [FUNC, 1, I32, 0], [FUNC, 0, 0]])),
    ...section(2, vec([[...wasi, ...name('fd_write'), 0x00, 0], [...wasi, ...name('proc_exit'), 0x00, 1]])),
    ...section(3, vec([[2]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], [...name('_start'), 0x00, 2]])),
    ...section(10, vec([[...leb(body.length), ...body]])),
    ...section(11, vec([[0x00, ...i32(0), 0x0b, ...leb(data.length), ...data]])),
  ]);
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

function vec(items: number[][]): number[] {
  return [...leb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  return [...leb(bytes.length), ...bytes];
}

/** `i32.const n` for 0 <= n < 64 (one-byte signed LEB128 is enough here). */
function i32(n: number): number[] {
  return [0x41, n];
}

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}
