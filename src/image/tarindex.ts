import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { fail } from '../errors.js';
import type { FileStore } from './blobs.js';

/*
 * We read tar headers ourselves instead of using tar-stream: tar-stream's extractor pushes every
 * entry's bytes through a stream and reports no offsets, while an index needs offsets and should
 * seek past data it does not want (a 2 GB archive is then indexed by reading a few KB). It also
 * lets us accept archives that lack the end-of-archive blocks.
 */

/** Where one archive member's bytes sit in the tar file. */
export interface TarEntry {
  offset: number;
  size: number;
  /** Tar type flag: '0' file, '1' hardlink, '2' symlink, '5' directory, … */
  type: string;
  linkname: string;
}

const BLOCK = 512;
const NOT_TAR_HINT = 'pass an uncompressed tar made by docker save, skopeo or similar';

/** Scans a tar file's headers once: member name (normalised, no leading `./`) → entry. */
export async function indexTar(file: string): Promise<Map<string, TarEntry>> {
  const fh = await open(file, 'r').catch((cause) => fail('IMAGE_NOT_FOUND', `cannot open archive ${file}`, { value: file, cause, hint: 'check the path and its permissions' }));
  try {
    const { size } = await fh.stat();
    return await scan(fh, size, file);
  } finally {
    await fh.close();
  }
}

async function scan(fh: FileHandle, size: number, file: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const header = Buffer.alloc(BLOCK);
  let pos = 0;
  let pax: Record<string, string> = {};
  await fh.read(header, 0, Math.min(BLOCK, size), 0);
  sniffCompression(header, file);
  if (size < BLOCK) fail('ARCHIVE', `${file} is not a tar archive (${size} bytes)`, { value: file, hint: NOT_TAR_HINT });
  while (pos + BLOCK <= size) {
    await fh.read(header, 0, BLOCK, pos);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) fail('ARCHIVE', `${file} is not a tar archive (bad header at byte ${pos})`, { value: file, hint: NOT_TAR_HINT });
    const type = String.fromCharCode(header[156] || 48);
    const isMeta = type === 'x' || type === 'L' || type === 'K';
    const length = !isMeta && pax.size !== undefined ? Number(pax.size) : readNumber(header, 124, 12);
    const offset = pos + BLOCK;
    if (offset + length > size) fail('ARCHIVE', `${file} is truncated`, { value: file, hint: 'the archive ends inside a member; copy it again' });
    pos = offset + Math.ceil(length / BLOCK) * BLOCK;
    if (isMeta) {
      pax = { ...pax, ...(await meta(fh, type, offset, length)) };
      continue;
    }
    if (type !== 'g') addEntry(entries, header, pax, { offset, size: length, type, linkname: '' });
    pax = {};
  }
  return entries;
}

function addEntry(entries: Map<string, TarEntry>, header: Buffer, pax: Record<string, string>, entry: TarEntry): void {
  const prefix = header.subarray(257, 263).toString('latin1').startsWith('ustar') ? cstring(header, 345, 155) : '';
  const raw = pax.path ?? (prefix ? `${prefix}/${cstring(header, 0, 100)}` : cstring(header, 0, 100));
  entry.linkname = pax.linkpath ?? cstring(header, 157, 100);
  entries.set(normalizeName(raw), entry);
}

/** Reads a pax extended header (`x`) or a GNU long name/link (`L`/`K`) into pax-style keys. */
async function meta(fh: FileHandle, type: string, offset: number, length: number): Promise<Record<string, string>> {
  const data = Buffer.alloc(length);
  await fh.read(data, 0, length, offset);
  if (type === 'L') return { path: cstring(data, 0, length) };
  if (type === 'K') return { linkpath: cstring(data, 0, length) };
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = Number(data.subarray(at, space).toString('latin1'));
    if (space < 0 || !(len > 0)) break;
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

function sniffCompression(header: Buffer, file: string): void {
  const gzip = header[0] === 0x1f && header[1] === 0x8b;
  const zstd = header.readUInt32LE(0) === 0xfd2fb528;
  if (gzip || zstd) {
    fail('ARCHIVE', `${file} is ${gzip ? 'gzip' : 'zstd'}-compressed; image archives must be plain tar files`, { value: file, hint: `decompress it first (${gzip ? 'gunzip -k' : 'zstd -d'} ${file})` });
  }
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return readNumber(header, 148, 8) === sum;
}

/** A numeric header field: NUL/space-terminated octal, or GNU base-256 when the top bit is set. */
function readNumber(buf: Buffer, at: number, len: number): number {
  if (buf[at] & 0x80) {
    let n = buf[at] & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + buf[at + i];
    return n;
  }
  const text = cstring(buf, at, len).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function cstring(buf: Buffer, at: number, len: number): string {
  const end = buf.indexOf(0, at);
  return buf.subarray(at, end < 0 || end > at + len ? at + len : end).toString('utf8');
}

/** A member name as a relative POSIX path: `./a//b/` → `a/b`. */
export function normalizeName(name: string): string {
  return posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
}

/** A {@link FileStore} over a tar file's members, following hard and symbolic links between them. */
export function tarStore(file: string, entries: Map<string, TarEntry>): FileStore {
  const find = (name: string): TarEntry | undefined => {
    let key = normalizeName(name);
    for (let hops = 0; hops < 16; hops++) {
      const e = entries.get(key);
      if (!e || (e.type !== '1' && e.type !== '2')) return e && (e.type === '0' || e.type === '7') ? e : undefined;
      key = normalizeName(e.type === '1' ? e.linkname : posix.join(posix.dirname(key), e.linkname));
    }
    return undefined;
  };
  const open = async (name: string): Promise<AsyncIterable<Uint8Array>> => {
    const e = find(name);
    if (!e) return fail('IMAGE_INVALID', `${name} is missing from ${file}`, { value: name, hint: 'the archive is incomplete; export it again' });
    if (e.size === 0) return (async function* () {})();
    return createReadStream(file, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1 << 20 });
  };
  return {
    where: file,
    size: async (name) => find(name)?.size,
    open,
    async read(name) {
      const parts: Uint8Array[] = [];
      for await (const chunk of await open(name)) parts.push(chunk);
      return Buffer.concat(parts);
    },
  };
}
