import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import type { Layer } from '../../src/image/source.js';

/** One entry of a test tar, with short kind names; `mtime` is in seconds, `pax` adds raw pax records. */
export interface EntrySpec {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo' | 'gnu-long-path';
  data?: string | Uint8Array;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  pax?: Record<string, string>;
}

/** How to damage or wrap a test tar: gzip it, drop its end-of-archive blocks, or cut it at a byte. */
export interface TarOptions {
  gzip?: boolean;
  dropEof?: boolean;
  truncateAt?: number;
}

const TYPES = { file: 'file', dir: 'directory', symlink: 'symlink', link: 'link', char: 'character-device', block: 'block-device', fifo: 'fifo', 'gnu-long-path': 'gnu-long-path' } as const;

/** The bytes of a tar holding `entries`, written by tar-stream (an independent writer) except GNU long names. */
export async function makeTar(entries: EntrySpec[], opts: TarOptions = {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let run: EntrySpec[] = [];
  for (const e of entries) {
    if (e.type !== 'gnu-long-path') {
      run.push(e);
      continue;
    }
    parts.push(await packEntries(run), gnuLongName(e.data ?? ''));
    run = [];
  }
  parts.push(await packEntries(run), new Uint8Array(1024));
  let tar: Uint8Array = Buffer.concat(parts);
  if (opts.dropEof) tar = tar.subarray(0, tar.length - 1024);
  if (opts.truncateAt !== undefined) tar = tar.subarray(0, opts.truncateAt);
  return opts.gzip ? gzipSync(tar) : tar;
}

/** Entries packed by tar-stream, without the end-of-archive blocks. */
async function packEntries(entries: EntrySpec[]): Promise<Uint8Array> {
  const p = pack();
  const out: Uint8Array[] = [];
  const done = (async () => { for await (const c of p) out.push(c as Uint8Array); })();
  for (const e of entries) {
    const type = e.type ?? (e.data !== undefined ? 'file' : e.name.endsWith('/') ? 'dir' : 'file');
    const header = {
      name: e.name, type: TYPES[type], mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0,
      mtime: new Date((e.mtime ?? 1_700_000_000) * 1000), linkname: e.linkname, pax: e.pax,
    } as Partial<Header> & { name: string };
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : Buffer.from(e.data ?? new Uint8Array(0));
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === 'file') p.entry(header, data, cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  const tar = Buffer.concat(out);
  return tar.subarray(0, tar.length - 1024);
}

/** A GNU tar 'L' entry (as GNU tar writes for names over 100 bytes): header block plus padded name. */
function gnuLongName(data: string | Uint8Array): Uint8Array {
  const body = Buffer.from(data);
  const block = Buffer.alloc(512 + Math.ceil(body.length / 512) * 512);
  block.write('././@LongLink', 0);
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
  block.write('00000000000\0', 136);
  block.write('L', 156);
  block.write('ustar  \0', 257);
  block.write('        ', 148);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += block[i];
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  body.copy(block, 512);
  return block;
}

/** The sha256 digest string of some bytes. */
export function sha256(bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** A layer over stored bytes with correct digests (override them to test checks), read in `chunk`-byte pieces. */
export function layerOf(stored: Uint8Array, opts: { digest?: string; diffId?: string; chunk?: number; uncompressed?: Uint8Array } = {}): Layer {
  return {
    digest: opts.digest ?? sha256(stored),
    diffId: opts.diffId ?? sha256(opts.uncompressed ?? stored),
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    size: stored.length,
    open: async () => chunks(stored, opts.chunk ?? 65536),
  };
}

/** A layer holding a tar of `entries` (gzip-compressed when asked), with correct digests. */
export async function tarLayer(entries: EntrySpec[], opts: TarOptions & { chunk?: number } = {}): Promise<Layer> {
  const plain = await makeTar(entries, { ...opts, gzip: false });
  const stored = opts.gzip ? gzipSync(plain) : plain;
  return layerOf(stored, { uncompressed: plain, chunk: opts.chunk });
}

/** Bytes as an async stream of `size`-byte chunks. */
export async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < bytes.length; off += size) yield bytes.subarray(off, off + size);
}

/** Every byte of an async stream, concatenated. */
export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}
