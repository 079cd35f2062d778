import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { fail } from '../errors.js';
import { sniffCompression, type Compression } from '../fs/compression.js';
import { BLOCK, foldMeta, isMetaType, isZeroBlock, readHeaderBlock, type Overrides } from '../fs/tar-header.js';
import type { FileStore } from './blobs.js';
import { relativePath } from '../fs/tree.js';

/*
 * We walk tar headers ourselves instead of using tar-stream: tar-stream's extractor pushes every
 * entry's bytes through a stream and reports no offsets, while an index needs offsets and should
 * seek past data it does not want (a 2 GB archive is then indexed by reading a few KB). It also
 * lets us accept archives that lack the end-of-archive blocks. Each header is decoded by the same
 * code as the layer reader's (fs/tar-header.ts); only the moving through the file is ours.
 */

/** Where one archive member's bytes sit in the tar file. */
export interface TarEntry {
  offset: number;
  size: number;
  /** Tar type flag: '0' file, '1' hardlink, '2' symlink, '5' directory, … */
  type: string;
  linkname: string;
}

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
  let overrides: Overrides = {};
  await fh.read(header, 0, Math.min(BLOCK, size), 0);
  refuseCompressed(header, file);
  if (size < BLOCK) fail('ARCHIVE', `${file} is not a tar archive (${size} bytes)`, { value: file, hint: NOT_TAR_HINT });
  while (pos + BLOCK <= size) {
    await fh.read(header, 0, BLOCK, pos);
    if (isZeroBlock(header)) break;
    const block = readHeaderBlock(header, overrides);
    if (!block) fail('ARCHIVE', `${file} is not a tar archive (bad header at byte ${pos})`, { value: file, hint: NOT_TAR_HINT });
    const offset = pos + BLOCK;
    if (offset + block.size > size) fail('ARCHIVE', `${file} is truncated`, { value: file, hint: 'the archive ends inside a member; copy it again' });
    pos = offset + Math.ceil(block.size / BLOCK) * BLOCK;
    if (isMetaType(block.type)) {
      overrides = foldMeta(overrides, block.type, await readAt(fh, offset, block.size));
      continue;
    }
    entries.set(normalizeName(block.name), { offset, size: block.size, type: block.type, linkname: block.linkname });
    overrides = {};
  }
  return entries;
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const data = Buffer.alloc(length);
  await fh.read(data, 0, length, offset);
  return data;
}

const DECOMPRESS: Record<Exclude<Compression, 'none'>, string> = { gzip: 'gunzip -k', bzip2: 'bunzip2 -k', xz: 'unxz -k', zstd: 'zstd -d' };

function refuseCompressed(header: Buffer, file: string): void {
  const kind = sniffCompression(header);
  if (kind === 'none') return;
  fail('ARCHIVE', `${file} is ${kind}-compressed; image archives must be plain tar files`, { value: file, hint: `decompress it first (${DECOMPRESS[kind]} ${file})` });
}

/** A member name as a relative POSIX path: `./a//b/` → `a/b`. */
export function normalizeName(name: string): string {
  return relativePath(name);
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
