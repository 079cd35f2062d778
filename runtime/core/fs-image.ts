// The reader of a box's rootfs.wbfs (format: src/box/format.ts). Runtime code: web-standard APIs only,
// never anything from src/, so the same file loads in Node, browsers, workerd and Deno.

/** The kind of a path in a box filesystem. */
export type FsEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

/** One path of a box filesystem, as its index records it. */
export interface FsEntry {
  path: string;
  type: FsEntryType;
  /** Permission bits, including setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** File bytes for files and hardlinks, else 0. */
  size: number;
  /** Where the bytes start in the data region (files and hardlinks), else 0. */
  offset: number;
  /** A symlink's target as written, or the absolute path a hardlink shares its bytes with, else "". */
  target: string;
  /** Hex sha256 of the bytes (files and hardlinks), else "". */
  sha256: string;
}

/** A loaded box filesystem: its entries in walk order, a path lookup, and zero-copy reads. */
export interface FsImage {
  entries: FsEntry[];
  byPath: Map<string, FsEntry>;
  /** A zero-copy view of a file's (or hardlink's) bytes; empty for other kinds. */
  read(entry: FsEntry): Uint8Array;
}

/** The error for box files (rootfs.wbfs, config.json) that are damaged or not what they claim. */
export class BoxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BoxFormatError';
  }
}

/** The 8 ASCII bytes every rootfs.wbfs starts with. */
export const WBFS_MAGIC = 'WBFS0001';
/** Bytes before the index: the magic and the u32 index length. */
export const WBFS_HEADER_SIZE = 12;
/** The data region starts at a multiple of this. */
export const WBFS_ALIGN = 8;

const TYPES: ReadonlySet<string> = new Set(['file', 'dir', 'symlink', 'hardlink', 'other']);

/** Where the data region starts for an index of `indexLength` bytes. */
export function wbfsDataStart(indexLength: number): number {
  const end = WBFS_HEADER_SIZE + indexLength;
  return Math.ceil(end / WBFS_ALIGN) * WBFS_ALIGN;
}

/** Parse and check a rootfs.wbfs held in one buffer; file reads are views into that buffer. */
export function parseFsImage(buf: Uint8Array): FsImage {
  const { rows, dataStart } = readIndex(buf);
  const dataLength = buf.byteLength - dataStart;
  const entries = rows.map((row, i) => toEntry(row, i, dataLength));
  const byPath = new Map<string, FsEntry>();
  for (const entry of entries) {
    if (byPath.has(entry.path)) throw wbfsError(`path ${entry.path} is listed twice`);
    byPath.set(entry.path, entry);
  }
  if (entries[0]?.path !== '/' || entries[0].type !== 'dir') throw wbfsError('the first entry is not the root directory');
  for (const entry of entries) checkLink(entry, byPath);
  const read = (entry: FsEntry): Uint8Array =>
    hasBytes(entry) ? buf.subarray(dataStart + entry.offset, dataStart + entry.offset + entry.size) : buf.subarray(0, 0);
  return { entries, byPath, read };
}

function readIndex(buf: Uint8Array): { rows: unknown[]; dataStart: number } {
  if (buf.byteLength < WBFS_HEADER_SIZE) throw wbfsError(`only ${buf.byteLength} bytes, too short for a header`);
  const magic = String.fromCharCode(...buf.subarray(0, 8));
  if (magic !== WBFS_MAGIC) throw wbfsError(`bad magic ${JSON.stringify(magic)}, expected ${WBFS_MAGIC}`);
  const indexLength = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(8, true);
  const dataStart = wbfsDataStart(indexLength);
  if (dataStart > buf.byteLength) throw wbfsError(`index of ${indexLength} bytes runs past the end (${buf.byteLength} bytes): truncated?`);
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(WBFS_HEADER_SIZE, WBFS_HEADER_SIZE + indexLength)));
  } catch (err) {
    throw wbfsError(`index is not UTF-8 JSON (${(err as Error).message})`);
  }
  const rows = (index as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(rows)) throw wbfsError('index has no "entries" array');
  return { rows, dataStart };
}

function toEntry(row: unknown, i: number, dataLength: number): FsEntry {
  const bad = (what: string): never => {
    throw wbfsError(`entry ${i} (${JSON.stringify(row).slice(0, 120)}): ${what}`);
  };
  if (!Array.isArray(row) || row.length !== 10) return bad('not an array of 10 fields');
  const [path, type, mode, uid, gid, mtime, size, offset, target, sha256] = row as unknown[];
  if (typeof path !== 'string' || !path.startsWith('/')) return bad('path is not absolute');
  if (typeof type !== 'string' || !TYPES.has(type)) return bad(`unknown type ${String(type)}`);
  if (![mode, uid, gid, size, offset].every(isCount) || !Number.isFinite(mtime)) return bad('a number field is invalid');
  if (typeof target !== 'string' || typeof sha256 !== 'string') return bad('target or sha256 is not a string');
  const entry = { path, type, mode, uid, gid, mtime, size, offset, target, sha256 } as FsEntry;
  if (entry.mode > 0o7777) bad(`mode ${entry.mode.toString(8)} has bits beyond 7777`);
  if (hasBytes(entry) && entry.offset + entry.size > dataLength) {
    bad(`bytes ${entry.offset}..${entry.offset + entry.size} lie beyond the data region (${dataLength} bytes): truncated?`);
  }
  return entry;
}

function checkLink(entry: FsEntry, byPath: Map<string, FsEntry>): void {
  if (entry.type !== 'hardlink') return;
  const first = byPath.get(entry.target);
  if (first?.type !== 'file') throw wbfsError(`hardlink ${entry.path} names ${entry.target}, which is not a file`);
}

function wbfsError(message: string): BoxFormatError {
  return new BoxFormatError(`rootfs.wbfs is damaged or not a box filesystem: ${message}`);
}

function hasBytes(entry: FsEntry): boolean {
  return entry.type === 'file' || entry.type === 'hardlink';
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
