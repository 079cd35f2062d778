import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { WasmboxError } from '../errors.js';
import type { Layer } from '../image/source.js';
import { MAGIC_BYTES, sniffCompression } from './compression.js';

// Large output chunks mean fewer hand-offs between zlib's thread-pool work and our tar parsing, and a
// few chunks of slack on each side (Node's default is 16 KiB) keep zlib inflating while we parse.
// (Node passes these stream options through; its ZlibOptions type just does not list them.)
const CHUNK = 256 * 1024;
const SLACK = 4 * CHUNK;
const ALGORITHMS = new Set(['sha256', 'sha384', 'sha512']);

/**
 * The uncompressed tar stream of a layer, as an async iterable of chunks. The stored blob is hashed
 * as it is read and must equal `layer.digest` (unless that is ''); compression is sniffed from the
 * first bytes (gzip and zstd; xz and bzip2 are refused with 'LAYER_COMPRESSION'; anything else is read as plain tar);
 * the uncompressed bytes must equal `layer.diffId` (unless ''). Mismatches surface at EOF as a
 * WasmboxError 'DIGEST', so a consumer must read to the end for the check to happen.
 */
export async function* openLayer(layer: Layer): AsyncGenerator<Uint8Array> {
  const blob = (await layer.open())[Symbol.asyncIterator]();
  const head = await readHead(blob, MAGIC_BYTES);
  const compression = sniffCompression(head.length === 1 ? head[0] : Buffer.concat(head));
  const compressed = new Digester(layer, 'digest');
  if (compression === 'xz' || compression === 'bzip2') {
    throw new WasmboxError('LAYER_COMPRESSION', `layer ${name(layer)} is ${compression}-compressed, which OCI images do not use`, {
      value: layer.mediaType,
      hint: 'image layers are gzip- or zstd-compressed or plain tar; rebuild the image with one of those',
    });
  }
  if (compression === 'none') {
    // Stored and uncompressed bytes are the same, so when the two digests agree one hash checks both.
    const plain = new Digester(layer, 'diffId');
    const once = layer.digest === '' || layer.digest === layer.diffId || layer.storedVerified === true;
    for await (const chunk of stored(head, blob, once ? [plain] : [compressed, plain])) yield chunk;
    return;
  }
  // A blob from a verifying store was hashed when it was stored; the diff_id check below still covers its content.
  const source = stored(head, blob, layer.storedVerified ? [] : [compressed]);
  yield* compression === 'zstd' ? unzstd(layer, source) : gunzip(layer, source);
}

/**
 * zstd through fzstd's streaming decoder (Node 20's zlib has none; fzstd is pure JS, small, and
 * maintained by fflate's author). Its callback hands out views into a window it reuses, so each is copied.
 */
async function* unzstd(layer: Layer, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const { Decompress } = await import('fzstd');
  const diff = new Digester(layer, 'diffId');
  let out: Uint8Array[] = [];
  let ended = false;
  const decoder = new Decompress((data, final) => {
    out.push(data.slice());
    if (final) ended = true;
  });
  const drain = function* (): Generator<Uint8Array> {
    const ready = out;
    out = [];
    for (const chunk of ready) {
      diff.update(chunk);
      yield chunk;
    }
  };
  try {
    for await (const chunk of source) {
      decoder.push(chunk);
      yield* drain();
    }
    decoder.push(new Uint8Array(0), true);
    yield* drain();
  } catch (err) {
    throw zstdError(layer, err);
  }
  if (!ended) throw zstdError(layer, Object.assign(new Error('unexpected EOF'), { code: 6 }));
  diff.check();
}

function zstdError(layer: Layer, err: unknown): unknown {
  if (err instanceof WasmboxError || typeof (err as { code?: unknown }).code !== 'number') return err;
  const early = /EOF|end/i.test((err as Error).message);
  return new WasmboxError(early ? 'LAYER_TRUNCATED' : 'LAYER_FORMAT', `layer ${name(layer)}: ${early ? 'the zstd stream ends early' : `corrupt zstd data (${(err as Error).message})`}`, {
    value: layer.digest, hint: early ? 'the layer blob is incomplete; fetch the image again' : 'the layer blob is damaged; fetch the image again', cause: err,
  });
}

async function* gunzip(layer: Layer, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const unzip = createGunzip({ chunkSize: CHUNK, readableHighWaterMark: SLACK, writableHighWaterMark: SLACK } as ZlibOptions);
  const feeding = pipeline(Readable.from(source, { objectMode: false, highWaterMark: CHUNK }), unzip);
  feeding.catch(() => undefined); // its error also reaches the loop below through `unzip`
  const diff = new Digester(layer, 'diffId');
  try {
    for await (const chunk of unzip as AsyncIterable<Uint8Array>) {
      diff.update(chunk);
      yield chunk;
    }
  } catch (err) {
    throw zlibError(layer, err);
  } finally {
    unzip.destroy();
  }
  await feeding;
  diff.check();
}

/** The stored bytes: the sniffed head first, then the rest, each chunk hashed; digests checked at EOF. */
async function* stored(head: Uint8Array[], rest: AsyncIterator<Uint8Array>, digests: Digester[]): AsyncGenerator<Uint8Array> {
  for (const chunk of head) {
    for (const d of digests) d.update(chunk);
    yield chunk;
  }
  for (let r = await rest.next(); !r.done; r = await rest.next()) {
    for (const d of digests) d.update(r.value);
    yield r.value;
  }
  for (const d of digests) d.check();
}

/** Read chunks until at least `n` bytes (or EOF) are in hand, without copying them. */
async function readHead(it: AsyncIterator<Uint8Array>, n: number): Promise<Uint8Array[]> {
  const head: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    have += r.value.length;
  }
  return head;
}

/** A running hash of a stream checked against one of the layer's expected digests. */
class Digester {
  private readonly hash: Hash | undefined;
  private readonly expected: string;

  constructor(private readonly layer: Layer, private readonly which: 'digest' | 'diffId') {
    this.expected = layer[which];
    if (this.expected === '') return;
    const algorithm = this.expected.slice(0, this.expected.indexOf(':'));
    if (!ALGORITHMS.has(algorithm)) {
      throw new WasmboxError('DIGEST', `layer ${name(layer)} has a ${which} with unsupported algorithm: ${this.expected}`, {
        value: this.expected,
        hint: 'digests must be sha256, sha384 or sha512',
      });
    }
    this.hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    this.hash?.update(chunk);
  }

  check(): void {
    if (!this.hash) return;
    const actual = `${this.expected.slice(0, this.expected.indexOf(':'))}:${this.hash.digest('hex')}`;
    if (actual === this.expected) return;
    const what = this.which === 'digest' ? 'stored blob' : 'uncompressed tar (diff_id)';
    throw new WasmboxError('DIGEST', `layer ${name(this.layer)}: the ${what} does not match: expected ${this.expected}, got ${actual}`, {
      value: actual,
      hint: 'the blob is corrupt or was replaced; fetch the image again',
    });
  }
}

function zlibError(layer: Layer, err: unknown): unknown {
  if (err instanceof WasmboxError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'Z_BUF_ERROR') {
    return new WasmboxError('LAYER_TRUNCATED', `layer ${name(layer)}: the gzip stream ends early`, {
      value: layer.digest, hint: 'the layer blob is incomplete; fetch the image again', cause: err,
    });
  }
  if (code?.startsWith('Z_')) {
    return new WasmboxError('LAYER_FORMAT', `layer ${name(layer)}: corrupt gzip data (${(err as Error).message})`, {
      value: layer.digest, hint: 'the layer blob is damaged; fetch the image again', cause: err,
    });
  }
  return err;
}

function name(layer: Layer): string {
  return layer.digest || layer.diffId || '(no digest)';
}
