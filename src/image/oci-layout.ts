import { fail, suggest } from '../errors.js';
import { blobPath, parseJson, readJsonFile, readVerifiedJson, type FileStore } from './blobs.js';
import type { ImageConfig } from './config.js';
import { selectImagePlatform, type Platform } from './platform.js';
import type { ImageSource, Layer } from './source.js';

/** Which image of a layout to open: by tag, by digest, or the only one; then the platform. */
export interface LayoutSelector {
  tag?: string;
  digest?: string;
  platform: Platform;
  /** True when the user named the platform; else a `wasi/wasm` entry is preferred (selectImagePlatform). */
  platformExplicit?: boolean;
}

/** An OCI content descriptor, the fields we read. */
export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** A manifest or an index: which members are present tells them apart (media types are optional). */
export interface Manifest {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const MAX_NESTING = 4;

/** Opens one image of an OCI image layout (`oci-layout`, `index.json`, `blobs/`) held in `store`. */
export async function openOciLayout(store: FileStore, ref: string, sel: LayoutSelector): Promise<ImageSource> {
  if ((await store.size('oci-layout')) === undefined) {
    fail('IMAGE_NOT_FOUND', `${store.where} is not an OCI image layout (no oci-layout file)`, { value: ref, hint: 'make one with `skopeo copy docker://IMAGE oci:DIR:TAG`' });
  }
  const index = parseJson<Manifest>(await readJsonFile(store, 'index.json', 'the index'), 'index.json', store.where);
  const top = await chooseTop(store, index.manifests ?? [], sel, ref);
  const manifest = await resolve(store, top, sel, 0);
  return imageFrom(store, ref, manifest);
}

/** The descriptor (or, for a platform-annotated top level, the list) the selector names. */
async function chooseTop(store: FileStore, all: Descriptor[], sel: LayoutSelector, ref: string): Promise<Manifest> {
  if (sel.digest) {
    // An explicit digest is taken as is, whatever platform its descriptor in index.json claims.
    if ((await store.size(blobPath(sel.digest, ref))) !== undefined) return { manifests: [{ digest: sel.digest }] };
    fail('IMAGE_NOT_FOUND', `${store.where} has no image ${sel.digest}`, { value: ref, hint: 'list its images with `skopeo inspect oci:DIR`' });
  }
  const tags = all.map(tagOf).filter((t): t is string => t !== undefined);
  const chosen = sel.tag === undefined ? all : all.filter((d) => matchesTag(d, sel.tag as string));
  if (chosen.length === 0) fail('IMAGE_NOT_FOUND', notFound(store, sel.tag), { value: ref, hint: tagHint(tags, sel.tag) });
  if (chosen.length === 1 || chosen.every((d) => d.platform)) return { manifests: chosen };
  return fail('IMAGE_AMBIGUOUS', `${store.where} holds ${chosen.length} images; say which one`, { value: ref, hint: tagHint(tags) });
}

function notFound(store: FileStore, tag: string | undefined): string {
  return tag === undefined ? `${store.where} holds no images` : `${store.where} has no image tagged "${tag}"`;
}

function tagHint(tags: string[], tag?: string): string {
  const mean = tag === undefined ? undefined : suggest(tag, tags);
  return mean ?? (tags.length ? `its tags are ${[...new Set(tags)].join(', ')}; append :TAG to the reference` : 'it has no tags; select an image with @sha256:DIGEST');
}

function tagOf(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME] ?? d.annotations?.[CONTAINERD_NAME];
}

function matchesTag(d: Descriptor, tag: string): boolean {
  return d.annotations?.[REF_NAME] === tag || d.annotations?.[CONTAINERD_NAME] === tag;
}

/** Follows indexes (choosing by platform) down to an image manifest, checking every digest. */
async function resolve(store: FileStore, node: Manifest, sel: LayoutSelector, depth: number): Promise<Manifest> {
  if (node.manifests) {
    if (depth > MAX_NESTING) fail('IMAGE_INVALID', `indexes in ${store.where} nest too deeply`, { hint: 'the image is damaged or hostile' });
    const list = node.manifests;
    // A lone entry without a platform (umoci, skopeo) is taken as is; otherwise the platform decides.
    const next = list.length === 1 && !list[0].platform ? list[0] : selectImagePlatform(list, sel.platform, `the index in ${store.where}`, sel.platformExplicit ?? false);
    return resolve(store, await readVerifiedJson<Manifest>(store, next.digest, 'a manifest'), sel, depth + 1);
  }
  if (!node.config || !Array.isArray(node.layers)) {
    fail('IMAGE_INVALID', `a manifest in ${store.where} is not an image manifest (${node.mediaType ?? 'no media type'})`, { hint: 'only OCI and Docker v2 image manifests are supported' });
  }
  return node;
}

/** The image a manifest describes: its verified config, and its layers paired with the config's diff_ids. */
async function imageFrom(store: FileStore, ref: string, manifest: Manifest): Promise<ImageSource> {
  const config = await readVerifiedJson<ImageConfig>(store, (manifest.config as Descriptor).digest, 'the image config');
  const descriptors = manifest.layers as Descriptor[];
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== descriptors.length) {
    fail('IMAGE_INVALID', `the image in ${store.where} lists ${descriptors.length} layers but its config has ${diffIds?.length ?? 'no'} diff_ids`, { value: ref, hint: 'the image is damaged' });
  }
  const layers = descriptors.map((d, i): Layer => layerOf(store, d, diffIds[i]));
  return { ref, config: async () => structuredClone(config), layers: async () => layers };
}

function layerOf(store: FileStore, d: Descriptor, diffId: string): Layer {
  const name = blobPath(d.digest, 'a layer');
  return {
    digest: d.digest,
    diffId,
    mediaType: d.mediaType ?? 'application/vnd.oci.image.layer.v1.tar',
    ...(typeof d.size === 'number' && { size: d.size }),
    async open() {
      if ((await store.size(name)) === undefined) fail('IMAGE_INVALID', `layer ${d.digest} is missing from ${store.where}`, { value: d.digest, hint: 'the image is incomplete; export it again' });
      return store.open(name);
    },
  };
}
