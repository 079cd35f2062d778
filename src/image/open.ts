import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fail } from '../errors.js';
import { openDockerArchive, openOciArchive } from './archive.js';
import { dirStore } from './blobs.js';
import { openOciLayout } from './oci-layout.js';
import type { Platform } from './platform.js';
import { defaultRegistryAccess, openRegistryImage, type RegistryAccess } from '../registry/source.js';
import { parseRegistryRef } from '../registry/reference.js';
import type { ImageRef } from './ref.js';
import { scratchImage } from './scratch.js';
import type { ImageSource } from './source.js';

/** Where relative paths in references start, and which platform to pick from multi-platform images. */
export interface OpenOptions {
  baseDir: string;
  platform: Platform;
  /** True when the user named the platform; else indexes offering `wasi/wasm` give that. */
  platformExplicit?: boolean;
  /** How registry images are pulled: the client, the blob cache, the pull policy. */
  registry?: () => RegistryAccess;
}

/** Opens the image a parsed reference names, dispatching to its backend. */
export async function openImage(ref: ImageRef, opts: OpenOptions): Promise<ImageSource> {
  switch (ref.kind) {
    case 'scratch':
      return scratchImage(opts.platform);
    case 'oci-layout': {
      const dir = await expect(resolve(opts.baseDir, ref.path), 'dir', ref.text);
      return openOciLayout(dirStore(dir), ref.text, { tag: ref.tag, digest: ref.digest, platform: opts.platform, platformExplicit: opts.platformExplicit });
    }
    case 'oci-archive':
      return openOciArchive(await expect(resolve(opts.baseDir, ref.path), 'file', ref.text), ref.text, ref.tag, opts.platform, opts.platformExplicit);
    case 'docker-archive':
      return openDockerArchive(await expect(resolve(opts.baseDir, ref.path), 'file', ref.text), ref.text, ref.tag);
    case 'registry':
      return openRegistryImage(parseRegistryRef(ref.ref), { ...(opts.registry ?? defaultRegistryAccess)(), platform: opts.platform, platformExplicit: opts.platformExplicit });
  }
}

/** The path, if it exists and is a directory or file as the scheme needs; else an error saying which scheme fits. */
async function expect(path: string, want: 'dir' | 'file', text: string): Promise<string> {
  const st = await stat(path).catch(() => undefined);
  if (!st) fail('IMAGE_NOT_FOUND', `${path} does not exist`, { value: text, hint: 'check the path; a relative one is resolved against the build context' });
  if (want === 'dir' && !st.isDirectory()) fail('IMAGE_NOT_FOUND', `${path} is not a directory`, { value: text, hint: 'for a tar of an OCI layout use oci-archive://FILE' });
  if (want === 'file' && !st.isFile()) fail('IMAGE_NOT_FOUND', `${path} is not a file`, { value: text, hint: 'for an OCI layout directory use oci-layout://DIR' });
  return path;
}
