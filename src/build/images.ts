import { locateErrors, type Location } from '../errors.js';
import { flattenImage } from '../fs/flatten.js';
import { Tree } from '../fs/tree.js';
import type { ImageConfig } from '../image/config.js';
import { openImage } from '../image/open.js';
import { type Platform, parsePlatform } from '../image/platform.js';
import { familiar, parseImageRef } from '../image/ref.js';

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
}

/** An {@link ImageLoader} over the local image sources, caching each image for the rest of the build. */
export function imageLoader(opts: LoaderOptions): ImageLoader {
  const cache = new Map<string, Promise<LoadedImage>>();
  return {
    load(ref, at, platformText) {
      const named = namedContext(opts.contexts, ref);
      const target = named ?? ref;
      const platform = platformText ? parsePlatform(platformText) : opts.platform;
      const key = `${target}|${platformText ?? ''}`;
      let loaded = cache.get(key);
      if (!loaded) {
        loaded = locateErrors(at, 'FROM', () => open(target, platform, opts));
        cache.set(key, loaded);
      }
      return loaded;
    },
  };
}

/** The `--build-context` a reference names: exactly, or as docker spells the same image (`alpine` = `docker.io/library/alpine:latest`). */
function namedContext(contexts: Map<string, string>, ref: string): string | undefined {
  const exact = contexts.get(ref);
  if (exact !== undefined || ref.includes('://')) return exact;
  for (const [name, target] of contexts) if (familiar(name) === familiar(ref)) return target;
  return undefined;
}

async function open(ref: string, platform: Platform, opts: LoaderOptions): Promise<LoadedImage> {
  const source = await openImage(parseImageRef(ref), { baseDir: opts.baseDir, platform });
  const [config, layers] = await Promise.all([source.config(), source.layers()]);
  if (layers.length) opts.log?.(`flattening ${ref}: ${layers.length} layer(s)`);
  const tree = await flattenImage(layers, new Tree(), {
    log: opts.log,
    onLayer: (index, count) => opts.onLayer?.(ref, index, count),
  });
  return { tree, config };
}
