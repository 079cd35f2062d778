import { WasmboxError } from '../errors.js';

// The one decoder of tar header blocks: the streaming layer reader (tar.ts) and the positioned
// archive indexer (image/tarindex.ts) differ in how they move through a file, not in what a header says.

/** The kind of a tar entry, after long-name and pax headers are folded in. */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

/** Header fields that pax records or GNU long-name entries override for the next entry. */
export interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
}

/** The fields of a header block, with overrides folded in. */
export interface HeaderFields {
  name: string;
  /** Symlink target or hardlink target path, as written. */
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch (pax fractions dropped). */
  mtime: number;
  size: number;
}

/** One header block as written: its type flag (an old tar's NUL flag read as '0' or '5') and fields. */
export interface HeaderBlock extends HeaderFields {
  type: string;
}

/** A decoded entry header, before its data. */
export interface RawHeader extends HeaderFields {
  kind: EntryKind;
}

const KINDS: Record<string, EntryKind> = {
  '0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};
const META = new Set(['x', 'g', 'L', 'K']);
const utf8 = new TextDecoder();

/** Whether every byte of `b` is zero (an end-of-archive block, or padding). */
export function isZeroBlock(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Whether a type flag announces metadata for the next entry: pax (`x`, global `g`) or a GNU long name (`L`, `K`). */
export function isMetaType(type: string): boolean {
  return META.has(type);
}

/** The type flag and fields of one 512-byte header with `o` folded in; undefined when its checksum is wrong. */
export function readHeaderBlock(b: Uint8Array, o: Overrides): HeaderBlock | undefined {
  if (!checksumOk(b)) return undefined;
  const flag = b[156] === 0 ? '\0' : String.fromCharCode(b[156]);
  // A metadata entry's size is its own body's, never the one a pax record gives the next entry.
  const size = META.has(flag) ? readNumber(b, 124, 12) : o.size ?? readNumber(b, 124, 12);
  let name = o.path ?? fullName(b);
  // Old tars mark directories only by a trailing slash on a type-0 (NUL) entry.
  const type = flag === '\0' ? (name.endsWith('/') ? '5' : '0') : flag;
  if (name.endsWith('/') && name.length > 1) name = name.replace(/\/+$/, '');
  return {
    type, name, size,
    linkname: o.linkpath ?? decodeString(b, 157, 100),
    mode: readNumber(b, 100, 8) & 0o7777,
    uid: o.uid ?? readNumber(b, 108, 8),
    gid: o.gid ?? readNumber(b, 116, 8),
    mtime: o.mtime ?? readNumber(b, 136, 12),
  };
}

/** Decode one 512-byte header: an entry's header, or a long-name / pax header announcing `size` bytes. */
export function decodeHeader(b: Uint8Array, o: Overrides, label: string): RawHeader | { meta: string; size: number } {
  const block = readHeaderBlock(b, o);
  if (!block) throw new WasmboxError('LAYER_FORMAT', `${label} has a corrupt tar header (bad checksum)`, {
    value: label, hint: 'the layer is not a valid tar archive, or it is compressed in a way we did not recognise',
  });
  const { type, ...fields } = block;
  if (META.has(type)) return { meta: type, size: fields.size };
  const kind = KINDS[type];
  if (kind === undefined) {
    throw new WasmboxError('LAYER_ENTRY', `${label}: entry ${fields.name} has tar type '${type}', which image layers do not use`, {
      value: fields.name, hint: 'sparse files and other GNU extensions are not supported in layers',
    });
  }
  return { ...fields, kind };
}

/** `o` with a metadata entry's body folded in: pax records (`x`), a GNU long name (`L`) or long link (`K`). */
export function foldMeta(o: Overrides, type: string, body: Uint8Array): Overrides {
  if (type === 'x') return { ...o, ...decodePax(body) };
  if (type === 'L') return { ...o, path: decodeString(body, 0, body.length) };
  if (type === 'K') return { ...o, linkpath: decodeString(body, 0, body.length) };
  // 'g' (global pax) applies to nothing here, as in Go's archive/tar which umoci and containerd use.
  return o;
}

/** The NUL-terminated UTF-8 string in `len` bytes at `off`. */
export function decodeString(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return utf8.decode(b.subarray(off, end));
}

/** The records of a pax extended header that matter for a filesystem: path, linkpath, size, ids, mtime. */
export function decodePax(buf: Uint8Array): Overrides {
  const out: Overrides = {};
  let off = 0;
  while (off < buf.length) {
    let sp = off;
    while (sp < buf.length && buf[sp] !== 0x20) sp++;
    const len = Number(utf8.decode(buf.subarray(off, sp)));
    if (!(len > 0) || off + len > buf.length) break;
    const record = utf8.decode(buf.subarray(sp + 1, off + len - 1));
    const eq = record.indexOf('=');
    setPax(out, record.slice(0, eq), record.slice(eq + 1));
    off += len;
  }
  return out;
}

function setPax(out: Overrides, key: string, value: string): void {
  if (key === 'path') out.path = value;
  else if (key === 'linkpath') out.linkpath = value;
  else if (key === 'size' || key === 'uid' || key === 'gid') out[key] = parseInt(value, 10);
  else if (key === 'mtime') out.mtime = Math.floor(Number(value));
}

function fullName(b: Uint8Array): string {
  const name = decodeString(b, 0, 100);
  // POSIX ustar ("ustar\0") splits long names into prefix + name; GNU ("ustar  ") uses those bytes otherwise.
  const posix = b[257] === 0x75 && b[262] === 0 && b[263] === 0x30;
  const prefix = posix ? decodeString(b, 345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** An octal field, or a base-256 one (high bit set) as GNU tar writes large sizes and ids. */
function readNumber(b: Uint8Array, off: number, len: number): number {
  if (b[off] & 0x80) {
    let v = b[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return v;
  }
  let v = 0;
  let i = off;
  while (i < off + len && b[i] === 0x20) i++;
  for (; i < off + len; i++) {
    const c = b[i];
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  return v;
}

/** Whether a header block's stored checksum matches its bytes, summed unsigned or (as old tars did) signed. */
export function checksumOk(b: Uint8Array): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  const want = readNumber(b, 148, 8);
  return want === unsigned || want === signed;
}

/** The tar block size: headers are one block, data is padded to whole blocks. */
export const BLOCK = 512;
