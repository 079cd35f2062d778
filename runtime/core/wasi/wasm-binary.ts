// Just enough of the WebAssembly binary format to read a module's sections and rewrite the few we change
// (memory limits, extra exports). Runtime code: web-standard APIs only.
import { concatBytes } from '../bytes.js';

/** The error for bytes that are not a well-formed WebAssembly module (or use an encoding we cannot read). */
export class WasmFormatError extends Error {
  constructor(message: string) {
    super(`not a valid WebAssembly module: ${message}`);
    this.name = 'WasmFormatError';
  }
}

/** One section: its id, where its header starts, where its content starts and ends. */
export interface Section {
  id: number;
  start: number;
  contentStart: number;
  end: number;
}

/** Section ids we read. */
export const SECTION = { custom: 0, import: 2, function: 3, memory: 5, export: 7, code: 10 } as const;

/** A cursor over module bytes that reads LEB128 numbers and names. */
export class Reader {
  constructor(readonly bytes: Uint8Array, public pos: number, readonly end = bytes.byteLength) {}

  u8(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }

  /** An unsigned LEB128 number (u32 or u64; exact up to 2^53). */
  uleb(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new WasmFormatError(`LEB128 number too long at byte ${this.pos}`);
  }

  name(): string {
    const length = this.uleb();
    const start = this.pos;
    this.skip(length);
    return new TextDecoder().decode(this.bytes.subarray(start, start + length));
  }

  skip(n: number): void {
    if (this.pos + n > this.end) throw new WasmFormatError(`a field runs past its section at byte ${this.pos}`);
    this.pos += n;
  }
}

/** The sections of a module, after checking its magic number and version. */
export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.byteLength < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmFormatError('it does not start with \\0asm');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new WasmFormatError(`version ${bytes[4]} is not 1 (a component or a newer binary format?)`);
  }
  const sections: Section[] = [];
  const r = new Reader(bytes, 8);
  while (r.pos < bytes.byteLength) {
    const start = r.pos;
    const id = r.u8();
    const size = r.uleb();
    const contentStart = r.pos;
    r.skip(size);
    sections.push({ id, start, contentStart, end: r.pos });
  }
  return sections;
}

/** The name of a custom section (and a reader positioned after it). */
export function customName(bytes: Uint8Array, s: Section): { name: string; r: Reader } {
  const r = new Reader(bytes, s.contentStart, s.end);
  return { name: r.name(), r };
}

/** Memory (or table) limits: flags byte, minimum and optional maximum, as encoded. */
export interface Limits {
  flags: number;
  min: number;
  max: number | undefined;
}

/** Read limits; bit 0 of the flags says a maximum follows (bit 1 = shared, bit 2 = 64-bit). */
export function readLimits(r: Reader): Limits {
  const flags = r.u8();
  if (flags > 7) throw new WasmFormatError(`unknown limits flags 0x${flags.toString(16)} at byte ${r.pos - 1}`);
  const min = r.uleb();
  const max = flags & 1 ? r.uleb() : undefined;
  return { flags, min, max };
}

/** Encode limits (the maximum flag follows whether `max` is set). */
export function encodeLimits(l: Limits): number[] {
  const flags = l.max === undefined ? l.flags & ~1 : l.flags | 1;
  return [flags, ...uleb(l.min), ...(l.max === undefined ? [] : uleb(l.max))];
}

/** Unsigned LEB128 encoding of a non-negative integer below 2^53. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Encode a name (length-prefixed UTF-8). */
export function encodeName(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...uleb(b.byteLength), ...b];
}

/** A whole section (id, size, content) from its content bytes. */
export function encodeSection(id: number, content: ArrayLike<number>): Uint8Array {
  const head = [id, ...uleb(content.length)];
  const out = new Uint8Array(head.length + content.length);
  out.set(head);
  out.set(content, head.length);
  return out;
}

/** The module with some sections replaced, each named by its start offset. */
export function rebuild(bytes: Uint8Array, sections: Section[], replace: Map<number, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const s of sections) parts.push(replace.get(s.start) ?? bytes.subarray(s.start, s.end));
  return concatBytes(parts);
}
