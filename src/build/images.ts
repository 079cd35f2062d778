import { locateErrors, type Location } from '../errors.js';
import { flattenImage } from '../fs/flatten.js';
import { Tree } from '../fs/tree.js';
import { builtinImage } from '../image/builtin.js';
import type { ImageConfig } from '../image/config.js';
import { openImage } from '../image/open.js';
import type { ImageSource } from '../image/source.js';
import { type Platform, formatPlatform, otherPlatform, parsePlatform } from '../image/platform.js';
import type { RegistryAccess } from '../registry/source.js';
import { familiar, parseImageRef } from '../image/ref.js';
import { BASE_MAP_VARIABLE, type BaseMap, chooseBase, describeChoice, loadBaseMap } from './base-map.js';

/** A base image ready to build on: its flattened filesystem and config. */
export interface LoadedImage {
  tree: Tree;
  config: ImageConfig;
}

/** Opens the images FROM and COPY --from name, once per build each. */
export interface ImageLoader {
  load(ref: string, at: Location, platform?: string): Promise<LoadedImage>;
}

/** What an image loader needs: where relative paths start, the platform, and `--build-context` substitutions. */
export interface LoaderOptions {
  baseDir: string;
  platform: Platform;
  /** `--build-context NAME=REF`: FROM NAME (or COPY --from=NAME) opens REF instead. */
  contexts: Map<string, string>;
  log?: (message: string) => void;
  onLayer?: (ref: string, index: number, count: number) => void;
  /** True when `--platform` was given; else indexes offering `wasi/wasm` give that. */
  platformExplicit?: boolean;
  /** How registry images are pulled (client, cache, `--pull`); the defaults when absent. */
  registry?: () => RegistryAccess;
  /** Which registry bases become built-in ones (base-map.ts); read from WASMBOX_BASE_MAP when absent. */
  baseMap?: BaseMap;
}

/** An {@link ImageLoader} over the local image sources, caching each image for the rest of the build. */
export function imageLoader(opts: LoaderOptions): ImageLoader {
  const cache = new Map<string, Promise<LoadedImage>>();
  return {
    load(ref, at, platformText) {
      const named = namedContext(opts.contexts, ref);
      const target = named ?? ref;
      const platform = platformText ? parsePlatform(platformText) : opts.platform;
      const explicit = platformText ? true : (opts.platformExplicit ?? false);
      const key = `${target}|${platformText ?? ''}`;
      let loaded = cache.get(key);
      if (!loaded) {
        loaded = locateErrors(at, 'FROM', async () => {
          const image = await open(target, { platform, explicit }, opts);
          if (explicit) warnOtherPlatform(ref, image.config, platform, at, opts);
          return image;
        });
        cache.set(key, loaded);
      }
      return loaded;
    },
  };
}

/**
 * A base image of another platform than `--platform` or `FROM --platform` asked for is used as it is,
 * with a warning, as BuildKit does (its InvalidBaseImagePlatform check); only an index chooses by platform.
 */
function warnOtherPlatform(ref: string, config: ImageConfig, want: Platform, at: Location, opts: LoaderOptions): void {
  const have = otherPlatform(config, want);
  if (!have) return;
  const where = at.line === undefined ? at.file : `${at.file}:${at.line}`;
  opts.log?.(`warning: ${where}: FROM ${ref}: the image is ${formatPlatform(have)}, not ${formatPlatform(want)} as the platform asks; it is used as it is`);
}

/** The `--build-context` a reference names: exactly, or as docker spells the same image (`alpine` = `docker.io/library/alpine:latest`). */
function namedContext(contexts: Map<string, string>, ref: string): string | undefined {
  const exact = contexts.get(ref);
  if (exact !== undefined || ref.includes('://')) return exact;
  for (const [name, target] of contexts) if (familiar(name) === familiar(ref)) return target;
  return undefined;
}

/** The platform an image is opened for, and whether the user named it. */
interface Want {
  platform: Platform;
  explicit: boolean;
}

async function open(ref: string, want: Want, opts: LoaderOptions): Promise<LoadedImage> {
  const source = await openSource(ref, want, opts);
  const [config, layers] = await Promise.all([source.config(), source.layers()]);
  if (layers.length) opts.log?.(`flattening ${ref}: ${layers.length} layer(s)`);
  const tree = await flattenImage(layers, new Tree(), {
    log: opts.log,
    onLayer: (index, count) => opts.onLayer?.(ref, index, count),
  });
  return { tree, config };
}

/** The image a reference names, after base-image substitution (only references a registry would serve are substituted). */
async function openSource(ref: string, { platform, explicit }: Want, opts: LoaderOptions): Promise<ImageSource> {
  const parsed = parseImageRef(ref);
  const choice = parsed.kind === 'registry' ? chooseBase(parsed.ref, (opts.baseMap ??= loadBaseMap(process.env[BASE_MAP_VARIABLE]))) : undefined;
  const openOpts = { baseDir: opts.baseDir, platform, platformExplicit: explicit, registry: opts.registry };
  if (!choice) return openImage(parsed, openOpts);
  for (const line of describeChoice(ref, choice)) opts.log?.(line);
  if (choice.kind === 'builtin') return builtinImage(choice.name, platform);
  return openImage(parseImageRef(choice.ref), openOpts);
}
