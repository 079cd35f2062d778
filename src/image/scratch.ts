import type { ImageConfig } from './config.js';
import type { Platform } from './platform.js';
import type { ImageSource } from './source.js';

/**
 * The empty image (`FROM scratch`): no layers and a config with only the platform. Env (the default
 * PATH) is the builder's business, as docker adds it when a stage starts, not to the image.
 */
export function scratchImage(platform: Platform): ImageSource {
  const config = (): ImageConfig => ({
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant && { variant: platform.variant }),
    config: {},
    rootfs: { type: 'layers', diff_ids: [] },
  });
  // A fresh config per call, so a builder mutating it cannot change the next stage's scratch.
  return { ref: 'scratch', config: async () => config(), layers: async () => [] };
}
