/**
 * What the pull tests share: the fixture images pushed to a test registry under fixed names, the listing a
 * local OCI layout flattens to (what every pull must give back), a box's listing, a docker config holding a
 * registry's login, and the files a cache holds (temp files included, so a failed pull shows what it left).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readBox } from '../../src/box/pack.js';
import { treeFromFsImage } from '../../src/box/box-tree.js';
import { flattenImage } from '../../src/fs/flatten.js';
import { openOciLayout } from '../../src/image/oci-layout.js';
import { DEFAULT_PLATFORM, type Platform } from '../../src/image/platform.js';
import { digestOf, dirStore } from '../../src/image/blobs.js';
import { RegistryClient } from '../../src/registry/client.js';
import { parseRegistryRef } from '../../src/registry/reference.js';
import { fixture, missingReason } from '../helpers/fixtures.js';
import { listing } from '../helpers/listing.js';
import { pushWithSkopeo, registryMissing, skopeo, type TestRegistry } from '../helpers/registry.js';

export const layers = fixture('layers');
export const multiarch = fixture('multiarch');
export const wasi = fixture('wasi');

/** Why the pull tests cannot run here (tools or fixtures missing), or undefined. */
export const pullMissing: string | undefined = registryMissing() ?? missingReason(layers) ?? missingReason(multiarch) ?? missingReason(wasi);

/** The repositories the fixtures are pushed to; the `layers` variants differ only in format and compression. */
export const REPOS = {
  layers: 'wasmbox/layers:v1',
  v2s2: 'wasmbox/layers-v2s2:v1',
  zstd: 'wasmbox/layers-zstd:v1',
  multiarch: 'wasmbox/multiarch:v1',
  wasi: 'wasmbox/wasi:v1',
  /** An index with the multiarch linux/amd64 image and the wasi/wasm one. */
  mixed: 'wasmbox/mixed:v1',
} as const;

/** The `layers` variants every auth mode pulls: as pushed (OCI, gzip), Docker schema 2, and zstd. */
export const VARIANTS: { name: string; repo: string; opts: Parameters<typeof pushWithSkopeo>[3] }[] = [
  { name: 'OCI gzip', repo: REPOS.layers, opts: {} },
  { name: 'Docker schema 2', repo: REPOS.v2s2, opts: { format: 'v2s2' } },
  { name: 'OCI zstd', repo: REPOS.zstd, opts: { compress: 'zstd' } },
];

/** Pushes the `layers` variants (all of them, or only the plain one) to the registry. */
export async function pushLayers(reg: TestRegistry, all = true): Promise<void> {
  for (const v of all ? VARIANTS : VARIANTS.slice(0, 1)) await pushWithSkopeo(reg, `oci:${layers.path}:latest`, v.repo, v.opts);
}

/** Pushes multiarch (the whole index), wasi, and an index `mixed` that offers both linux/amd64 and wasi/wasm. */
export async function pushPlatforms(reg: TestRegistry, config: string): Promise<void> {
  await pushWithSkopeo(reg, `oci:${multiarch.path}:latest`, REPOS.multiarch, { all: true });
  // Both images must live in the mixed repository for its index to name them.
  await pushWithSkopeo(reg, `oci:${multiarch.path}:latest`, 'wasmbox/mixed:linux', { all: true });
  await pushWithSkopeo(reg, `oci:${wasi.path}:latest`, 'wasmbox/mixed:wasi');
  await pushWithSkopeo(reg, `oci:${wasi.path}:latest`, REPOS.wasi);
  const index = JSON.parse(await skopeo(['inspect', '--raw', `oci:${multiarch.path}:latest`]));
  const wasiEntry = JSON.parse(await readFile(join(wasi.path, 'index.json'), 'utf8')).manifests[0];
  const mixed = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    // linux/amd64 first: the wasi/wasm entry must win by preference, not by order.
    manifests: [index.manifests[0], { mediaType: wasiEntry.mediaType, digest: wasiEntry.digest, size: wasiEntry.size, platform: { os: 'wasi', architecture: 'wasm' } }],
  };
  const ref = parseRegistryRef(`${reg.host}/${REPOS.mixed}`);
  await clientFor(config).putManifest(ref, 'v1', new TextEncoder().encode(JSON.stringify(mixed)), mixed.mediaType);
}

/**
 * Pushes `wasmbox/dup:v1`: the `layers` image with its last layer listed twice (as images built with a repeated
 * step are). Applying a layer again right after itself changes nothing, so it flattens like `layers`.
 */
export async function pushDuplicateLayer(reg: TestRegistry, config: string): Promise<void> {
  await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/dup:base');
  const manifest = await manifestOf(layers.path);
  const imageConfig = JSON.parse(await readFile(join(layers.path, 'blobs', manifest.config.digest.replace(':', '/')), 'utf8'));
  imageConfig.rootfs.diff_ids.push(imageConfig.rootfs.diff_ids.at(-1));
  const configBytes = new TextEncoder().encode(JSON.stringify(imageConfig));
  const ref = parseRegistryRef(`${reg.host}/wasmbox/dup:v1`);
  const client = clientFor(config);
  const configDigest = digestOf(configBytes);
  await client.uploadBlob(ref, configDigest, configBytes.length, async function* () {
    yield configBytes;
  });
  manifest.config = { ...manifest.config, digest: configDigest, size: configBytes.length };
  manifest.layers.push(manifest.layers.at(-1));
  await client.putManifest(ref, 'v1', new TextEncoder().encode(JSON.stringify(manifest)), 'application/vnd.oci.image.manifest.v1+json');
}

/** A client reading logins from the docker config dir `config`, retrying fast. */
export function clientFor(config: string, log?: (m: string) => void): RegistryClient {
  return new RegistryClient({ backoffMs: 1, env: { DOCKER_CONFIG: config, PATH: process.env.PATH }, log });
}

/** Writes a docker config.json in `dir` with the registry's login for each host (none for an open registry). */
export async function writeDockerConfig(dir: string, reg: TestRegistry, hosts: string[] = [reg.host], password = reg.password): Promise<string> {
  const auth = { auth: Buffer.from(`${reg.username}:${password}`).toString('base64') };
  const auths = reg.auth === 'none' ? {} : Object.fromEntries(hosts.map((h) => [h, auth]));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }), { mode: 0o600 });
  return dir;
}

/** The listing of a local OCI layout's image, flattened: what a pull of the same image must give. */
export async function localListing(layout: string, platform: Platform = DEFAULT_PLATFORM, platformExplicit = false): Promise<string[]> {
  const image = await openOciLayout(dirStore(layout), layout, { tag: 'latest', platform, platformExplicit });
  return listing(await flattenImage(await image.layers()));
}

/** A listing as a box keeps it: boxes do not record device kinds, so every "other" comes back a char device. */
export const asInBox = (lines: string[]): string[] => lines.map((l) => l.replace(/^(\S+ other \d+ \d+:\d+) \w+$/, '$1 char'));

/** The image manifest a local layout's only tag names (its config and layer descriptors). */
export async function manifestOf(layout: string): Promise<{ config: { digest: string }; layers: { digest: string; size: number }[] }> {
  const blob = async (digest: string) => JSON.parse(await readFile(join(layout, 'blobs', digest.replace(':', '/')), 'utf8'));
  return blob(JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')).manifests[0].digest);
}

/** The listing of a box's filesystem. */
export async function boxListing(dir: string): Promise<string[]> {
  return listing(treeFromFsImage((await readBox(dir)).fs));
}

/** Every file under the cache's blob folder, relative (`sha256/<hex>`, or a temp file's name). */
export async function blobFiles(cacheHome: string): Promise<string[]> {
  const found = await readdir(join(cacheHome, 'blobs'), { recursive: true, withFileTypes: true }).catch(() => []);
  return found.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(join(cacheHome, 'blobs').length + 1)).sort();
}
