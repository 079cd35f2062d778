// Shared by the cache tests: deterministic bytes, streams over them, and a small image written by hand.
import { createHash } from 'node:crypto';
import type { BlobCache } from '../../src/cache/blob-cache.js';

/** `size` pseudo-random bytes from `seed` (xorshift32): the same in every process, cheap to make. */
export function pattern(size: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, size);
}

/** The sha256 digest of `bytes`. */
export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `bytes` as a stream of `chunk`-sized pieces, pausing `delayMs` between them; throws `failAt` bytes in. */
export async function* chunks(bytes: Uint8Array, chunk: number, opts: { delayMs?: number; failAt?: number } = {}): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += chunk) {
    if (opts.failAt !== undefined && at >= opts.failAt) throw new Error('connection reset by peer');
    yield bytes.subarray(at, at + chunk);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
  }
}

/** A blob written into the cache: its digest and size. */
export interface Stored {
  digest: string;
  size: number;
}

/** Stores `content` (JSON objects are serialised) and returns its descriptor fields. */
export async function store(cache: BlobCache, content: Uint8Array | object): Promise<Stored> {
  const bytes = content instanceof Uint8Array ? content : Buffer.from(JSON.stringify(content));
  const digest = sha256(bytes);
  await cache.putBytes(digest, bytes, 'a test blob');
  return { digest, size: bytes.length };
}

/** An image manifest naming `config` and `layers` (only their digests matter to the cache). */
export function manifest(config: Stored, layers: Stored[]): object {
  return {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
  };
}

/** An index over `manifests`, one platform each. */
export function index(manifests: Stored[]): object {
  return {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: manifests.map((m, i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, platform: { os: 'linux', architecture: ['amd64', 'arm64'][i % 2] } })),
  };
}
