import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { WasmboxError } from '../errors.js';

/** A compression format recognised by its first bytes. */
export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'none';

/** Decompressed data larger than this is refused: a small archive must not exhaust memory. */
export const MAX_DECOMPRESSED = 2 ** 31 - 1;

/** How many leading bytes {@link sniffCompression} looks at: a stream's head must hold this many to be sniffed. */
export const MAGIC_BYTES = 10;

// After "BZh" and a block-size digit, bzip2 starts a block (the digits of pi) or ends an empty stream
// (those of sqrt(pi)). Checking them keeps a plain tar whose first member is named "BZh…" a tar.
const BZIP2_BLOCKS = ['314159265359', '177245385090'];

/** Recognise a compression format from magic bytes (never from a file name or media type). */
export function sniffCompression(bytes: Uint8Array): Compression {
  const b = bytes;
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (isBzip2(b)) return 'bzip2';
  if (b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00) return 'xz';
  if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
  return 'none';
}

function isBzip2(b: Uint8Array): boolean {
  if (b.length < MAGIC_BYTES || b[0] !== 0x42 || b[1] !== 0x5a || b[2] !== 0x68 || b[3] < 0x31 || b[3] > 0x39) return false;
  return BZIP2_BLOCKS.includes(Buffer.from(b.subarray(4, 10)).toString('hex'));
}

const require = createRequire(import.meta.url);

/** Decompress a whole buffer in any supported format; 'none' returns it as is. */
export async function decompressAll(bytes: Uint8Array, what: string): Promise<Uint8Array> {
  const kind = sniffCompression(bytes);
  try {
    const out = await decode(kind, bytes);
    if (out.byteLength > MAX_DECOMPRESSED) throw new RangeError('too large');
    return out;
  } catch (err) {
    const tooBig = err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new WasmboxError(tooBig ? 'DECOMPRESS_LIMIT' : 'DECOMPRESS', tooBig ? `${what} decompresses to more than ${MAX_DECOMPRESSED} bytes` : `${what} is not valid ${kind} data`, {
      value: what,
      hint: tooBig ? 'a decompression bomb is refused; split the archive' : 'check the file is not truncated or corrupt',
      cause: err,
    });
  }
}

async function decode(kind: Compression, bytes: Uint8Array): Promise<Uint8Array> {
  switch (kind) {
    case 'none':
      return bytes;
    case 'gzip':
      return gunzipSync(bytes, { maxOutputLength: MAX_DECOMPRESSED });
    case 'bzip2':
      // seek-bzip and xz-decompress are CommonJS; loading them lazily keeps start-up fast.
      return require('seek-bzip').decode(Buffer.from(bytes));
    case 'zstd':
      return (await import('fzstd')).decompress(bytes);
    case 'xz': {
      const { XzReadableStream } = require('xz-decompress');
      const stream = new XzReadableStream(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream());
      return new Uint8Array(await new Response(stream).arrayBuffer());
    }
  }
}
