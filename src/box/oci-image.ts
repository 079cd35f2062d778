import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BoxFormatError, type FsImage } from '../../runtime/core/fs-image.js';
import { fail } from '../errors.js';
import type { Tree } from '../fs/tree.js';
import { digestOf } from '../image/blobs.js';
import { treeFromFsImage } from './box-tree.js';
import { canonicalTar } from './canonical-tar.js';
import { readBox } from './pack.js';

/** The OCI media types a box image is made of. */
export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The platform a box image's index names: what the box runs on, whatever its config says it was built for. */
export const BOX_PLATFORM = { architecture: 'wasm', os: 'wasi' } as const;

/** The annotation naming a tag in an index entry (OCI image layouts look images up by it). */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** One content-addressed blob of an image: its descriptor fields, its bytes when small, and a fresh stream of them. */
export interface OciBlob {
  digest: string;
  size: number;
  mediaType: string;
  /** The bytes, for JSON blobs; a layer is only streamed. */
  bytes?: Uint8Array;
  /** A new stream of the blob from its start (callable again, e.g. to retry an upload). */
  open(): AsyncIterable<Uint8Array>;
}

/**
 * A box as OCI blobs: the config (the box's config.json bytes, unchanged), one gzip layer (the canonical
 * tar of its rootfs), the image manifest, and an index with one entry for platform wasi/wasm. The layer
 * lives in a temporary file until `dispose` is called.
 */
export interface BoxImage {
  config: OciBlob;
  layers: OciBlob[];
  manifest: OciBlob;
  index: OciBlob;
  /** Removes the temporary file holding the layer; the image cannot be read afterwards. */
  dispose(): Promise<void>;
}

/** An OCI descriptor as manifests and indexes write it. */
interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

/**
 * Reads a box and lays it out as an OCI image. The layer is gzip-compressed once, into a temporary file:
 * a second compression pass would double the time (3 s for a 110 MB box), and holding it in memory would
 * add its size to a peak that already holds the whole rootfs. The same box always gives the same digests.
 */
export async function boxImage(boxDir: string, opts: { tag?: string } = {}): Promise<BoxImage> {
  const box = await readBox(boxDir);
  const diffId = onlyDiffId(boxDir, box.config.rootfs?.diff_ids);
  const tree = toTree(boxDir, box.fs);
  const dir = await mkdtemp(join(tmpdir(), 'wasmbox-layer-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const file = join(dir, 'layer.tar.gz');
    const layer = await compressLayer(tree, file);
    if (layer.diffId !== diffId) inconsistent(boxDir, diffId, layer.diffId, box.fs);
    const config = jsonBlob(MEDIA_TYPES.config, box.bytes.config);
    const layers = [{ digest: layer.digest, size: layer.size, mediaType: MEDIA_TYPES.layer, open: () => fileStream(file) }];
    const manifest = jsonBlob(MEDIA_TYPES.manifest, encode({ schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config: descriptorOf(config), layers: layers.map(descriptorOf) }));
    const index = jsonBlob(MEDIA_TYPES.index, encode(indexOf(manifest, opts.tag)));
    return { config, layers, manifest, index, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** Runs `work` on the OCI image of a box, removing its temporary file afterwards whatever happens. */
export async function withBoxImage<T>(boxDir: string, opts: { tag?: string }, work: (image: BoxImage) => Promise<T>): Promise<T> {
  const image = await boxImage(boxDir, opts);
  try {
    return await work(image);
  } finally {
    await image.dispose();
  }
}

/** The index of an image with one manifest: platform wasi/wasm, and the tag as `ref.name` when there is one. */
export function indexOf(manifest: OciBlob, tag?: string): object {
  const entry: Descriptor = { ...descriptorOf(manifest), platform: { ...BOX_PLATFORM } };
  if (tag !== undefined) entry.annotations = { [REF_NAME]: tag };
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [entry] };
}

/** The descriptor of a blob: media type, digest and size. */
function descriptorOf(blob: Pick<OciBlob, 'mediaType' | 'digest' | 'size'>): Descriptor {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
}

/** A blob held in memory. */
function jsonBlob(mediaType: string, bytes: Uint8Array): OciBlob {
  return {
    digest: digestOf(bytes),
    size: bytes.byteLength,
    mediaType,
    bytes,
    async *open() {
      yield bytes;
    },
  };
}

function onlyDiffId(boxDir: string, diffIds: unknown): string {
  if (Array.isArray(diffIds) && diffIds.length === 1 && typeof diffIds[0] === 'string') return diffIds[0];
  const count = Array.isArray(diffIds) ? diffIds.length : 'no';
  return fail('IMAGE_INVALID', `the box at ${boxDir} has ${count} rootfs.diff_ids in config.json; a box has exactly one`, { value: boxDir, hint: 'rebuild the box with wasmbox build' });
}

function inconsistent(boxDir: string, want: string, got: string, fs: FsImage): never {
  // A box keeps devices as "other" rows without their kind: a FIFO or block device comes back as a character device.
  const devices = fs.entries.some((e) => e.type === 'other') ? ', or it holds FIFOs or block devices, whose kind a box does not record' : '';
  return fail('IMAGE_INVALID', `the box at ${boxDir} is inconsistent: config.json says its rootfs layer is ${want} but the rootfs gives ${got}`, {
    value: boxDir,
    hint: `config.json or rootfs.wbfs was changed after the build${devices}; rebuild the box with wasmbox build`,
  });
}

function toTree(boxDir: string, fs: FsImage): Tree {
  try {
    return treeFromFsImage(fs);
  } catch (err) {
    if (!(err instanceof BoxFormatError)) throw err;
    return fail('BOX_CORRUPT', `box at ${boxDir} is damaged: ${err.message}`, { value: boxDir, hint: 'rebuild the box', cause: err });
  }
}

/** Streams the canonical tar through gzip into `file`, hashing both sides in the same pass. */
async function compressLayer(tree: Tree, file: string): Promise<{ diffId: string; digest: string; size: number }> {
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  let size = 0;
  const tar = async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of canonicalTar(tree)) {
      tarHash.update(chunk);
      yield chunk;
    }
  };
  const count = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      // zlib writes mtime 0 and no name; only the OS byte varies by host (10 on Windows), so pin it to Unix.
      if (size === 0) {
        if (chunk.byteLength < 10) throw new Error(`gzip produced a ${chunk.byteLength}-byte first chunk, shorter than its header`);
        chunk[9] = 3;
      }
      size += chunk.byteLength;
      gzHash.update(chunk);
      yield chunk;
    }
  };
  await pipeline(Readable.from(tar()), createGzip({ chunkSize: 1 << 20 }), count, createWriteStream(file, { flags: 'wx' }));
  return { diffId: `sha256:${tarHash.digest('hex')}`, digest: `sha256:${gzHash.digest('hex')}`, size };
}

function fileStream(file: string): AsyncIterable<Uint8Array> {
  return createReadStream(file, { highWaterMark: 1 << 20 });
}

function encode(value: object): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
