import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { treeDiffId } from '../box/canonical-tar.js';
import { BOX_FILES } from '../box/format.js';
import { writeBox } from '../box/pack.js';
import { flattenImage } from '../fs/flatten.js';
import { type Platform, requirePlatform } from '../image/platform.js';
import { parseRegistryRef } from './reference.js';
import { openRegistryImage, type RegistryAccess, type RegistryImage } from './source.js';

/** Which image to make a box of, and how to reach it. */
export interface BoxFromImageOptions {
  access: RegistryAccess;
  platform: Platform;
  platformExplicit?: boolean;
  onLayer?: (index: number, count: number) => void;
}

/**
 * The box of a registry image, made once per image manifest and kept in the cache, so that running
 * the same image again starts at once. A box pushed by wasmbox comes back byte for byte: its config
 * is kept as pushed and its one layer is the canonical tar that writeBox reproduces.
 */
export async function boxFromRegistry(text: string, opts: BoxFromImageOptions): Promise<{ dir: string; image: RegistryImage }> {
  const image = await openRegistryImage(parseRegistryRef(text), { ...opts.access, platform: opts.platform, platformExplicit: opts.platformExplicit });
  if (opts.platformExplicit) requirePlatform(await image.config(), opts.platform, image.ref);
  const dir = opts.access.cache.boxPath(image.manifestDigest);
  if (!existsSync(join(dir, BOX_FILES.manifest))) await writeImageBox(dir, image, opts);
  return { dir, image };
}

/** Flattens an image into a box at `dir` (atomically), its config pointing at the flattened tree. */
export async function writeImageBox(dir: string, image: RegistryImage, opts: Pick<BoxFromImageOptions, 'onLayer'> = {}): Promise<void> {
  const [config, layers] = await Promise.all([image.config(), image.layers()]);
  const tree = await flattenImage(layers, undefined, { onLayer: opts.onLayer });
  const diffId = await treeDiffId(tree);
  const same = config.rootfs?.diff_ids?.length === 1 && config.rootfs.diff_ids[0] === diffId;
  // A box's config names one layer, the tree's canonical tar; other images' configs are rewritten to say so.
  if (!same) config.rootfs = { type: 'layers', diff_ids: [diffId] };
  await writeBox(dir, tree, config);
}
