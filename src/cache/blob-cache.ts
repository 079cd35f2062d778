// The content-addressed cache shared by all builds: blobs (manifests, configs, layers) by digest, tag records
// for offline reuse, and boxes made from pulled images. Layout under the cache root (src/build/cache.ts):
//   blobs/<alg>/<hex>   verified blob bytes, written once by rename (store-blob.ts)
//   tags/<sha256>.json  {key, digest, at} per reference (tags.ts)
//   boxes/<hex>/        boxes of pulled images by manifest digest (written by the image source)
//   build/              the build cache (src/build/cache.ts)
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot } from '../build/cache.js';
import { fail } from '../errors.js';
import { checkDigest } from '../image/blobs.js';
import { type CacheDirs, type CacheListing, cacheDirs, listCache } from './listing.js';
import { type PruneOptions, type PruneResult, pruneCache } from './prune.js';
import { isFile, type StoreOptions, storeBlob } from './store-blob.js';
import { readTag, writeTag } from './tags.js';

export type { CacheListing, CachedImage, Usage } from './listing.js';
export type { PruneOptions, PruneResult } from './prune.js';

const CHUNK = 1 << 20;
/** Open errors that mean "no such blob": absent, a symlink (O_NOFOLLOW), a file where a folder should be. */
const MISSING = new Set(['ENOENT', 'ELOOP', 'ENOTDIR']);

/** The blob cache: verified blobs by digest, plus the tag records and box folders that live beside them. */
export class BlobCache {
  /** The blob folder (`<root>/sha256/<hex>`); tags, boxes and build are its siblings. */
  readonly root: string;
  private readonly dirs: CacheDirs;

  private constructor(root: string) {
    this.root = root;
    this.dirs = cacheDirs(root);
  }

  /** The cache whose blob folder is `root`, by default `cacheRoot()/blobs`. Creates nothing until a write. */
  static open(root: string = join(cacheRoot(), 'blobs')): BlobCache {
    return new BlobCache(root);
  }

  /** The cache root holding blobs/, tags/, boxes/ and build/. */
  get home(): string {
    return this.dirs.home;
  }

  /** Where the blob `digest` lives; throws `DIGEST` for a malformed digest, so no digest names a path outside. */
  path(digest: string): string {
    const [alg, hex] = checkDigest(digest, 'a cached blob').split(':');
    return join(this.root, alg, hex);
  }

  /** The folder reserved for the box made from the image whose manifest is `digest` (prune keeps it while reachable). */
  boxPath(digest: string): string {
    return join(this.dirs.boxes, checkDigest(digest, 'a cached box').split(':')[1]);
  }

  /** Whether the blob is cached (as a regular file: every cached blob was verified before it got its name). */
  has(digest: string): Promise<boolean> {
    return isFile(this.path(digest));
  }

  /** The blob's size, or undefined when it is not cached. */
  async size(digest: string): Promise<number | undefined> {
    const file = await this.openBlob(digest);
    if (!file) return undefined;
    try {
      return (await file.stat()).size;
    } finally {
      await file.close();
    }
  }

  /** The whole blob; for small blobs (manifests, configs). Throws `CACHE` when it is not cached. */
  async read(digest: string): Promise<Uint8Array> {
    const file = await this.mustOpen(digest);
    try {
      return await file.readFile();
    } finally {
      await file.close();
    }
  }

  /** A fresh stream of the blob in 1 MiB reads. Throws `CACHE` when it is not cached. */
  async open(digest: string): Promise<AsyncIterable<Uint8Array>> {
    const file = await this.mustOpen(digest);
    return file.createReadStream({ highWaterMark: CHUNK, autoClose: true });
  }

  /**
   * Streams `source` into the cache, verifying it against `digest` before it gets its name; a mismatch throws
   * `DIGEST` naming `what` and leaves nothing behind. `onBytes` gets the bytes written so far. Always reads the
   * source (check `has` first to skip a download). Returns the blob's path.
   */
  put(digest: string, source: AsyncIterable<Uint8Array>, opts: StoreOptions = {}): Promise<string> {
    return storeBlob(this.path(digest), digest, source, opts);
  }

  /** {@link put} for bytes already in memory. */
  putBytes(digest: string, bytes: Uint8Array, what?: string): Promise<string> {
    return storeBlob(this.path(digest), digest, [bytes], { what });
  }

  /** Re-hashes a cached blob: true when it still matches its digest, false when damaged or missing. */
  async verify(digest: string): Promise<boolean> {
    const file = await this.openBlob(digest);
    if (!file) return false;
    const hash = createHash(digest.split(':')[0]);
    for await (const chunk of file.createReadStream({ highWaterMark: CHUNK })) hash.update(chunk as Buffer);
    return `${digest.split(':')[0]}:${hash.digest('hex')}` === digest;
  }

  /** The manifest digest `key` ('host/repo:tag') last resolved to, and when; marks the record used. */
  async getTag(key: string): Promise<{ digest: string; at: number } | undefined> {
    const record = await readTag(this.dirs.tags, key);
    return record && { digest: record.digest, at: record.at };
  }

  /** Records that `key` ('host/repo:tag') resolved to the manifest `digest`; tags keep blobs from prune. */
  setTag(key: string, digest: string): Promise<void> {
    return writeTag(this.dirs.tags, key, digest);
  }

  /** Entries for `wasmbox cache ls`: tags with their manifest digest and sizes, and totals. */
  list(): Promise<CacheListing> {
    return listCache(this.dirs);
  }

  /** Removes what no tag record reaches (blobs, boxes, dead temp files); `all` removes everything incl. the build cache. */
  prune(opts: PruneOptions = {}): Promise<PruneResult> {
    return pruneCache(this.dirs, opts);
  }

  /** Opens a cached blob, or undefined when missing; never follows a symlink (a planted one is not a blob). */
  private async openBlob(digest: string): Promise<FileHandle | undefined> {
    const path = this.path(digest);
    const file = await openFile(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
      if (MISSING.has(err.code ?? '')) return undefined;
      throw err;
    });
    if (!file || (await file.stat()).isFile()) return file;
    await file.close();
    return undefined;
  }

  private async mustOpen(digest: string): Promise<FileHandle> {
    const file = await this.openBlob(digest);
    if (file) return file;
    return fail('CACHE', `blob ${digest} is not in the cache at ${this.root}`, { value: digest, hint: 'pull the image again (wasmbox pull REF)' });
  }
}
