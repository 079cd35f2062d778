import { createHash } from 'node:crypto';
import { fail } from '../errors.js';
import { digestOf } from '../image/blobs.js';
import { RegistryHttpError } from './failures.js';
import type { HttpRequest, Reply, Transport } from './transport.js';

/** Upload tuning: the chunk size (also the monolithic limit) and a callback with the bytes sent so far. */
export interface UploadOptions {
  chunkSize?: number;
  onProgress?: (bytes: number) => void;
}

/** What the client lends an upload: where sessions start, how to send (with auth) and how to judge replies. */
export interface UploadContext {
  transport: Transport;
  /** The POST URL that opens an upload session: /v2/NAME/blobs/uploads/. */
  start: URL;
  what: string;
  send(req: HttpRequest): Promise<Reply>;
  expect(reply: Reply, method: string, ok: number[]): Promise<void>;
}

/** The blob to upload; `open` gives a fresh stream each time (a failed upload restarts from the beginning). */
export interface BlobSource {
  digest: string;
  size: number;
  open: () => AsyncIterable<Uint8Array>;
}

/** The default chunk size, and the largest blob sent in one PUT. */
export const DEFAULT_CHUNK_SIZE = 8 << 20;

/**
 * Uploads a blob, retrying the whole upload (a new session, a fresh stream) on 429/5xx/network failures:
 * a half-sent chunk leaves the session in a state only the registry knows, so we do not resume blindly.
 */
export async function uploadBlob(ctx: UploadContext, blob: BlobSource, opts: UploadOptions = {}): Promise<void> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) fail('USAGE', `the upload chunk size must be a positive whole number of bytes`, { value: String(chunkSize) });
  const tries = ctx.transport.retries + 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await uploadOnce(ctx, blob, chunkSize, opts.onProgress);
    } catch (error) {
      if (!(error instanceof RegistryHttpError) || !error.retriable || attempt >= tries) throw error;
      await ctx.transport.pause({ method: 'upload', url: ctx.start, what: ctx.what }, error, attempt, tries);
    }
  }
}

async function uploadOnce(ctx: UploadContext, blob: BlobSource, chunkSize: number, onProgress?: (bytes: number) => void): Promise<void> {
  let location = await openSession(ctx);
  if (blob.size <= chunkSize) {
    const bytes = await readWhole(blob, ctx.what);
    await finish(ctx, location, blob.digest, bytes);
    onProgress?.(bytes.length);
    return;
  }
  const hash = createHash(blob.digest.split(':')[0]);
  let offset = 0;
  for await (const chunk of rechunk(blob.open(), chunkSize)) {
    hash.update(chunk);
    location = await patch(ctx, location, chunk, offset);
    offset += chunk.length;
    onProgress?.(offset);
  }
  checkSource(blob, offset, `${blob.digest.split(':')[0]}:${hash.digest('hex')}`, ctx.what);
  await finish(ctx, location, blob.digest);
}

/** POST …/blobs/uploads/ → the session URL from Location. */
async function openSession(ctx: UploadContext): Promise<URL> {
  const reply = await ctx.send({ method: 'POST', url: ctx.start, what: ctx.what, retry: false });
  await ctx.expect(reply, 'POST', [202]);
  await reply.discard();
  return nextLocation(reply, ctx.what);
}

/** PATCH one chunk with its Content-Range; the answer carries the session URL for the next request. */
async function patch(ctx: UploadContext, location: URL, chunk: Uint8Array, offset: number): Promise<URL> {
  const last = offset + chunk.length - 1;
  const headers = { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${last}` };
  const reply = await ctx.send({ method: 'PATCH', url: location, what: ctx.what, headers, body: chunk, retry: false });
  await ctx.expect(reply, 'PATCH', [202]);
  await reply.discard();
  // Range says what the registry holds so far ("0-N"); anything else means the session lost bytes.
  const range = /^(?:bytes=)?0-(\d+)$/.exec(reply.headers.get('range') ?? '');
  if (range && Number(range[1]) !== last) {
    throw new RegistryHttpError('REGISTRY', `registry holds bytes 0-${range[1]} of ${ctx.what} after a PATCH that ended at ${last}`, {
      hint: 'the upload session lost data; trying again',
      retriable: true,
    });
  }
  return nextLocation(reply, ctx.what);
}

/** The final PUT …?digest=: with the whole blob (monolithic) or empty after PATCHes. */
async function finish(ctx: UploadContext, location: URL, digest: string, body?: Uint8Array): Promise<void> {
  const url = new URL(location);
  // Appended by hand: re-serialising the registry's own query (its _state token) could change it.
  url.search = `${url.search ? `${url.search}&` : '?'}digest=${encodeURIComponent(digest)}`;
  // The transport sends Content-Length: 0 for a PUT without a body, as the spec's closing request needs.
  const reply = await ctx.send({ method: 'PUT', url, what: ctx.what, headers: { 'content-type': 'application/octet-stream' }, body, retry: false });
  await ctx.expect(reply, 'PUT', [201, 204]);
  await reply.discard();
}

function nextLocation(reply: Reply, what: string): URL {
  const location = reply.headers.get('location');
  if (!location) fail('REGISTRY', `registry ${reply.url.host} opened no upload location for ${what}`, { value: what, hint: 'the registry does not follow the distribution API; tell its operator' });
  return new URL(location, reply.url);
}

/** The blob read whole (monolithic uploads are at most one chunk), checked against its size and digest. */
async function readWhole(blob: BlobSource, what: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  for await (const chunk of blob.open()) {
    got += chunk.length;
    if (got > blob.size) break;
    parts.push(chunk);
  }
  const bytes = Buffer.concat(parts);
  checkSource(blob, got, got === bytes.length ? digestOf(bytes, blob.digest) : '', what);
  return bytes;
}

/** Regroups a stream into chunks of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const piece of source) {
    for (let at = 0; at < piece.length; ) {
      const n = Math.min(size - filled, piece.length - at);
      buffer.set(piece.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        yield buffer;
        // The consumer may still hold the yielded chunk (a retried request), so never reuse it.
        buffer = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** Refuses to commit a blob whose source gave other bytes than promised: the registry would reject it anyway. */
function checkSource(blob: BlobSource, got: number, actual: string, what: string): void {
  if (got !== blob.size) fail('DIGEST', `the source of ${what} gave ${got > blob.size ? `more than ${blob.size}` : got} bytes, not ${blob.size}`, { value: blob.digest, hint: 'the file changed while it was being pushed; push again' });
  if (actual !== blob.digest) fail('DIGEST', `the source of ${what} does not match its digest`, { value: blob.digest, hint: `its bytes hash to ${actual}; the file changed while it was being pushed` });
}
