import { BlobCache } from '../cache/blob-cache.js';
import { fail } from '../errors.js';
import { parseJson, MAX_JSON_BYTES } from '../image/blobs.js';
import type { ImageConfig } from '../image/config.js';
import type { Descriptor, Manifest } from '../image/oci-layout.js';
import { type Platform, selectImagePlatform } from '../image/platform.js';
import type { ImageSource, Layer } from '../image/source.js';
import { RegistryClient } from './client.js';
import type { RegistryRef } from './reference.js';

/**
 * When the registry is asked: `missing` reuses a tag resolved before (so it works offline), `always`
 * resolves tags again, `never` uses only what the cache holds.
 */
export type PullPolicy = 'missing' | 'always' | 'never';

/** What pulling needs: a client, the shared blob cache, the platform and how it was chosen. */
export interface PullOptions {
  client: RegistryClient;
  cache: BlobCache;
  platform: Platform;
  /** True when the user named the platform (`--platform`, `FROM --platform`); else wasi/wasm is preferred. */
  platformExplicit?: boolean;
  pull?: PullPolicy;
  log?: (message: string) => void;
  /** Bytes of a blob downloaded so far (for progress), per digest. */
  onBytes?: (digest: string, bytes: number, total?: number) => void;
}

/** The parts of PullOptions that stay the same for a whole command: client, cache, policy, progress. */
export type RegistryAccess = Omit<PullOptions, 'platform' | 'platformExplicit'>;

/** Registry access with the defaults: docker's credentials, the shared cache, tags reused when known. */
export function defaultRegistryAccess(): RegistryAccess {
  return { client: new RegistryClient(), cache: BlobCache.open() };
}

/** A pulled image: the source flatten reads, and the digests that identify it. */
export interface RegistryImage extends ImageSource {
  /** Digest of the manifest the reference resolved to (the index's, for multi-platform images). */
  readonly digest: string;
  /** Digest of the platform's image manifest. */
  readonly manifestDigest: string;
  /** Puts every layer into the cache (a few at a time); resolves to how many had to be downloaded. */
  download(): Promise<number>;
}

const MAX_NESTING = 4;
/** Downloads of one blob tried this many times when the connection breaks mid-body. */
const BLOB_TRIES = 3;
/** Layers downloaded at once by `download()`: enough to overlap round trips, few enough for 2 cores. */
const DOWNLOADS = 3;

/** Resolves a registry reference to one image, every manifest and blob verified and kept in the cache. */
export async function openRegistryImage(ref: RegistryRef, opts: PullOptions): Promise<RegistryImage> {
  const top = await resolveTop(ref, opts);
  let digest = top;
  let manifest = await manifestAt(ref, top, opts);
  for (let depth = 0; manifest.manifests; depth++) {
    if (depth >= MAX_NESTING) fail('IMAGE_INVALID', `the indexes of ${ref.canonical} nest too deeply`, { value: ref.canonical, hint: 'the image is damaged or hostile' });
    const entry = selectImagePlatform(manifest.manifests, opts.platform, `the index of ${ref.canonical}`, opts.platformExplicit ?? false);
    digest = entry.digest;
    manifest = await manifestAt(ref, digest, opts);
  }
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    fail('IMAGE_INVALID', `${ref.canonical} is not an image (its manifest has ${manifest.config ? 'no layers' : 'no config'})`, { value: ref.canonical, hint: 'only OCI and Docker v2 image manifests can be used as images' });
  }
  const config = parseJson<ImageConfig>(await blobBytes(ref, manifest.config, 'the image config', opts), 'the image config', ref.canonical);
  const layers = layersOf(ref, manifest.layers, config, opts);
  const download = async (): Promise<number> => {
    // By digest: an image may list one layer twice, and it is fetched once.
    const missing = new Map<string, Descriptor>();
    for (const d of manifest.layers as Descriptor[]) if (!missing.has(d.digest) && !(await opts.cache.has(d.digest))) missing.set(d.digest, d);
    await inPool([...missing.values()], DOWNLOADS, (d) => ensureBlob(ref, d, `layer ${d.digest}`, opts));
    return missing.size;
  };
  return { ref: ref.canonical, digest: top, manifestDigest: digest, config: async () => structuredClone(config), layers: async () => layers, download };
}

/** The digest the reference names: its own, a tag resolved before (unless `--pull`), or the registry's answer now. */
async function resolveTop(ref: RegistryRef, opts: PullOptions): Promise<string> {
  if (ref.digest) {
    // A record keeps an image pulled by digest alive through `cache prune`, like a tag does.
    if (opts.pull !== 'never') await opts.cache.setTag(`${ref.domain}/${ref.repository}@${ref.digest}`, ref.digest);
    return ref.digest;
  }
  const key = tagKey(ref);
  const known = opts.pull === 'always' ? undefined : await opts.cache.getTag(key);
  if (known && (await opts.cache.has(known.digest))) return known.digest;
  if (opts.pull === 'never') notCached(ref, `the tag ${ref.tag ?? 'latest'}`);
  const fetched = await opts.client.getManifest(ref, ref.tag ?? 'latest');
  await opts.cache.putBytes(fetched.digest, fetched.bytes, `the manifest of ${ref.canonical}`);
  await opts.cache.setTag(key, fetched.digest);
  opts.log?.(`${ref.canonical}: resolved to ${fetched.digest}`);
  return fetched.digest;
}

/** The cache key of a tag: the canonical reference without a digest. */
export function tagKey(ref: RegistryRef): string {
  return `${ref.domain}/${ref.repository}:${ref.tag ?? 'latest'}`;
}

/** A manifest or index by digest: from the cache, else fetched (verified by the client) and cached. */
async function manifestAt(ref: RegistryRef, digest: string, opts: PullOptions): Promise<Manifest> {
  if (!(await opts.cache.has(digest))) {
    if (opts.pull === 'never') notCached(ref, `manifest ${digest}`);
    const fetched = await opts.client.getManifest(ref, digest);
    await opts.cache.putBytes(digest, fetched.bytes, `manifest ${digest} of ${ref.canonical}`);
  }
  return parseJson<Manifest>(await opts.cache.read(digest), `manifest ${digest}`, ref.canonical);
}

/** A small blob (the config) whole, downloaded into the cache first when missing. */
async function blobBytes(ref: RegistryRef, d: Descriptor, what: string, opts: PullOptions): Promise<Uint8Array> {
  if (typeof d.size === 'number' && d.size > MAX_JSON_BYTES) fail('IMAGE_INVALID', `${what} of ${ref.canonical} is too large (${d.size} bytes)`, { value: d.digest });
  // A descriptor without a size must not let a hostile registry stream an endless config into the cache.
  await ensureBlob(ref, d, what, opts, MAX_JSON_BYTES);
  return opts.cache.read(d.digest);
}

function layersOf(ref: RegistryRef, descriptors: Descriptor[], config: ImageConfig, opts: PullOptions): Layer[] {
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== descriptors.length) {
    fail('IMAGE_INVALID', `${ref.canonical} lists ${descriptors.length} layers but its config has ${diffIds?.length ?? 'no'} diff_ids`, { value: ref.canonical, hint: 'the image is damaged' });
  }
  const downloads = new Map<string, Promise<void>>();
  return descriptors.map((d, i): Layer => ({
    digest: d.digest,
    diffId: diffIds[i],
    mediaType: d.mediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip',
    ...(typeof d.size === 'number' && { size: d.size }),
    // Layers are always read from the cache, which verified the digest before renaming the download in.
    storedVerified: true,
    async open() {
      let download = downloads.get(d.digest);
      if (!download) downloads.set(d.digest, (download = ensureBlob(ref, d, `layer ${d.digest}`, opts)));
      await download;
      return opts.cache.open(d.digest);
    },
  }));
}

/**
 * Puts a blob into the cache unless it is there. A body cut short is fetched again (the cache keeps
 * nothing from a failed try); a body that is complete but hashes wrong fails at once and is never kept.
 */
async function ensureBlob(ref: RegistryRef, d: Descriptor, what: string, opts: PullOptions, limit?: number): Promise<void> {
  if (await opts.cache.has(d.digest)) return;
  if (opts.pull === 'never') notCached(ref, what);
  for (let attempt = 1; ; attempt++) {
    let got = 0;
    try {
      const body = await opts.client.openBlob(ref, d.digest);
      await opts.cache.put(d.digest, body, {
        what: `${what} of ${ref.canonical}`,
        ...((typeof d.size === 'number' || limit !== undefined) && { maxBytes: d.size ?? limit }),
        // Counted apart from the progress call: `?.` would skip the assignment when there is no callback.
        onBytes: (n) => {
          got = n;
          opts.onBytes?.(d.digest, n, d.size);
        },
      });
      return;
    } catch (err) {
      const short = typeof d.size === 'number' && got < d.size;
      if (attempt >= BLOB_TRIES || !short || isUserError(err, 'REGISTRY_AUTH', 'IMAGE_NOT_FOUND')) throw err;
      opts.log?.(`${what} of ${ref.canonical}: the download stopped at ${got} of ${d.size} bytes; trying again (${attempt + 1}/${BLOB_TRIES})`);
    }
  }
}

/**
 * Runs `work` over `items`, at most `width` at a time. After a failure no new item starts, and the first
 * failure rejects only once the running ones have settled, so no download goes on (or leaves a temp file)
 * after the error is reported.
 */
async function inPool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      await work(items[next++]).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(width, items.length) }, worker));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

function notCached(ref: RegistryRef, what: string): never {
  return fail('IMAGE_NOT_FOUND', `${what} of ${ref.canonical} is not in the cache, and --pull=never forbids asking the registry`, {
    instruction: '--pull', value: 'never', hint: `pull it first (wasmbox pull ${ref.canonical}) or drop --pull=never`,
  });
}

function isUserError(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as { code?: string }).code ?? '');
}
