// Writing one blob into the cache so that it is either whole and verified or absent: the bytes stream into a
// temporary file beside the final one while being hashed, and only a file whose hash matches is renamed into
// place. Rename is atomic within a directory, so readers and other writers never see a partial blob.
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fail } from '../errors.js';

/** The prefix of a cache temp file; `prune` sweeps the ones left by crashed processes. */
export const TEMP_PREFIX = '.tmp-';

/** Options of a blob write: what it is (for messages), a size limit, a progress callback (bytes so far). */
export interface StoreOptions {
  what?: string;
  maxBytes?: number;
  onBytes?: (n: number) => void;
}

/** A temp file name unique across processes sharing the cache: pid plus random bits. */
export function tempName(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
}

/**
 * Streams `source` into `final` (the path of `digest`), verifying the digest before the rename. The temp file
 * is removed whatever happens: on a mismatch, an oversize stream, a source that throws, or a lost race.
 */
export async function storeBlob(final: string, digest: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: StoreOptions = {}): Promise<string> {
  const what = opts.what ?? 'blob';
  const dir = dirname(final);
  await mkdir(dir, { recursive: true });
  const temp = tempName(dir);
  const file = await open(temp, 'wx', 0o644);
  let closed = false;
  try {
    const actual = await copyHashing(file, digest, source, what, opts);
    // Flush before the rename: a blob that survives a power cut half-written would be a corrupt entry.
    await file.sync();
    await file.close();
    closed = true;
    if (actual !== digest) {
      fail('DIGEST', `${what} does not match its digest: expected ${digest}, got ${actual}`, {
        value: digest,
        hint: 'the registry (or something between it and you) sent damaged data; nothing was cached, so try again',
      });
    }
    // Another process may have stored the same blob meanwhile; its bytes are verified too, so keep them.
    if (!(await isFile(final))) await rename(temp, final);
    return final;
  } finally {
    if (!closed) await file.close().catch(() => undefined);
    await rm(temp, { force: true });
  }
}

/** Copies the stream to `file`, enforcing `maxBytes`; returns the digest of what it wrote. */
async function copyHashing(file: FileHandle, digest: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, what: string, opts: StoreOptions): Promise<string> {
  const alg = digest.split(':')[0];
  const hash = createHash(alg);
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (opts.maxBytes !== undefined && total > opts.maxBytes) {
      fail('DIGEST', `${what} ${digest} is larger than the ${opts.maxBytes} bytes expected`, {
        value: digest,
        hint: 'the registry sent more than the image says the blob holds; it is damaged or hostile, so nothing was cached',
      });
    }
    hash.update(chunk);
    await writeAll(file, chunk);
    opts.onBytes?.(total);
  }
  return `${alg}:${hash.digest('hex')}`;
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** Whether `path` is a regular file (a symlink is not, whatever it points at). */
export async function isFile(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  return st?.isFile() ?? false;
}
