import { familiar } from './ref.js';
import { fail, suggest } from '../errors.js';
import { sniffCompression, type Compression } from '../fs/compression.js';
import { digestOf, parseJson, readJsonFile, type FileStore } from './blobs.js';
import type { ImageConfig } from './config.js';
import { openOciLayout } from './oci-layout.js';
import type { Platform } from './platform.js';
import type { ImageSource, Layer } from './source.js';
import { indexTar, tarStore } from './tarindex.js';

/** One image of a `docker save` archive, as its `manifest.json` lists it. */
interface SaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

const TAR = 'application/vnd.docker.image.rootfs.diff.tar';
const GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
/** The media type a layer member's first bytes give it; what openLayer cannot read is left to it to refuse. */
const MEDIA_TYPES: Partial<Record<Compression, string>> = { gzip: GZIP, zstd: ZSTD };
/** Members whose name is their digest: `blobs/sha256/<hex>` (docker ≥ 25) or `<hex>.json` (older configs). */
const CONTENT_ADDRESSED = /^(?:blobs\/sha256\/([a-f0-9]{64})|blobs\/sha512\/([a-f0-9]{128})|([a-f0-9]{64})\.json)$/;

/** Opens an `oci-archive` (a tar of an OCI image layout) without extracting it. */
export async function openOciArchive(file: string, ref: string, tag: string | undefined, platform: Platform, platformExplicit?: boolean): Promise<ImageSource> {
  const store = tarStore(file, await indexTar(file));
  return openOciLayout(store, ref, { tag, platform, platformExplicit });
}

/** Opens a `docker save` archive (legacy `<id>/layer.tar` or `blobs/sha256/…` members) without extracting it. */
export async function openDockerArchive(file: string, ref: string, tag: string | undefined): Promise<ImageSource> {
  const store = tarStore(file, await indexTar(file));
  const entries = parseJson<SaveEntry[]>(await readJsonFile(store, 'manifest.json', 'manifest.json'), 'manifest.json', file);
  if (!Array.isArray(entries)) fail('IMAGE_INVALID', `manifest.json in ${file} is not a list`, { value: ref, hint: 'pass an archive made by docker save or skopeo' });
  const entry = pick(entries, tag, file, ref);
  const config = parseJson<ImageConfig>(await readChecked(store, entry.Config), 'the image config', file);
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(entry.Layers) || !Array.isArray(diffIds) || diffIds.length !== entry.Layers.length) {
    fail('IMAGE_INVALID', `the image in ${file} lists ${entry.Layers?.length ?? 'no'} layers but its config has ${diffIds?.length ?? 'no'} diff_ids`, { value: ref, hint: 'the archive is damaged' });
  }
  const layers = await Promise.all(entry.Layers.map((name, i) => layerOf(store, name, diffIds[i])));
  return { ref, config: async () => structuredClone(config), layers: async () => layers };
}

/** The entry a tag names (RepoTags compared in docker's short form), or the only one. */
function pick(entries: SaveEntry[], tag: string | undefined, file: string, ref: string): SaveEntry {
  const tags = entries.flatMap((e) => e.RepoTags ?? []);
  if (tag !== undefined) {
    const hit = entries.find((e) => (e.RepoTags ?? []).some((t) => familiar(t) === familiar(tag)));
    if (hit) return hit;
    fail('IMAGE_NOT_FOUND', `${file} has no image tagged "${tag}"`, { value: ref, hint: suggest(tag, tags) ?? listTags(tags) });
  }
  if (entries.length === 1) return entries[0];
  return fail(entries.length ? 'IMAGE_AMBIGUOUS' : 'IMAGE_NOT_FOUND', `${file} holds ${entries.length} images`, { value: ref, hint: listTags(tags) });
}

function listTags(tags: string[]): string {
  return tags.length ? `its tags are ${tags.join(', ')}; append :TAG to the reference` : 'it has no tagged images';
}

export { familiar };

/** Reads a member, checking its digest when its name is one. */
async function readChecked(store: FileStore, name: string): Promise<Uint8Array> {
  const bytes = await readJsonFile(store, name, 'the image config');
  const expected = contentDigest(name);
  if (expected && digestOf(bytes, expected) !== expected) {
    fail('DIGEST', `${name} in ${store.where} does not match its digest`, { value: expected, hint: 'the archive is damaged or was edited' });
  }
  return bytes;
}

function contentDigest(name: string): string | undefined {
  const m = CONTENT_ADDRESSED.exec(name);
  if (!m) return undefined;
  return m[2] ? `sha512:${m[2]}` : `sha256:${m[1] ?? m[3]}`;
}

/**
 * A layer member. Its stored digest is known when the member is content-addressed, or equals the
 * diff_id when it is stored uncompressed; otherwise it is '' and readers can only check the diff_id.
 */
async function layerOf(store: FileStore, name: string, diffId: string): Promise<Layer> {
  const size = await store.size(name);
  if (size === undefined) fail('IMAGE_INVALID', `layer ${name} is missing from ${store.where}`, { value: name, hint: 'the archive is incomplete; export it again' });
  const compression = sniffCompression(await head(store, name));
  const digest = contentDigest(name) ?? (compression === 'none' ? diffId : '');
  return { digest, diffId, mediaType: MEDIA_TYPES[compression] ?? TAR, size, open: () => store.open(name) };
}

async function head(store: FileStore, name: string): Promise<Uint8Array> {
  for await (const chunk of await store.open(name)) return chunk; // leaving the loop closes the stream
  return new Uint8Array();
}
