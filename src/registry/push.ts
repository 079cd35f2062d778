import { WasmboxError, fail } from '../errors.js';
import { withBoxImage, type BoxImage, type OciBlob } from '../box/oci-image.js';
import type { RegistryClient } from './client.js';
import type { RegistryRef } from './reference.js';

/** How one blob reached the registry: it was there, it was mounted from another repository, or it was uploaded. */
export type BlobOutcome = 'exists' | 'mounted' | 'pushed';

/** What a push reports as it goes, in order: each blob (starting, then its outcome), then the manifest and the index. */
export type PushEvent =
  | { kind: 'blob'; what: 'layer' | 'config'; digest: string; size: number; status: 'pushing' | BlobOutcome; from?: string }
  | { kind: 'bytes'; digest: string; bytes: number; size: number }
  | { kind: 'manifest'; what: 'manifest' | 'index'; digest: string; reference: string };

/** How to push: progress, where a blob may already be on the same registry, and the upload chunk size. */
export interface PushOptions {
  onProgress?: (event: PushEvent) => void;
  /** Another repository of the same registry that may hold this blob, to mount it from instead of uploading. */
  mountFrom?: (digest: string) => string | undefined;
  /** Bytes per PATCH of a chunked upload, and the largest blob sent in one PUT (the client's default: 8 MiB). */
  chunkSize?: number;
}

/** The outcome of a push: the index digest (what `REF@DIGEST` names), the manifest digest, and each blob's fate. */
export interface PushResult {
  digest: string;
  manifestDigest: string;
  blobs: { digest: string; size: number; status: BlobOutcome; from?: string }[];
}

/**
 * Pushes a box as an OCI image: each blob unless the repository has it (mounted from `mountFrom`'s repository
 * when that works, else uploaded), then the manifest by digest, then the index under the tag (or by digest
 * when the reference names only one, which must then be the box's).
 */
export async function pushBox(boxDir: string, ref: RegistryRef, client: RegistryClient, opts: PushOptions = {}): Promise<PushResult> {
  return withBoxImage(boxDir, {}, async (image) => {
    if (ref.digest !== undefined && ref.digest !== image.index.digest) {
      fail('USAGE', `${ref.canonical} names digest ${ref.digest}, but this box's image index is ${image.index.digest}`, {
        instruction: 'push',
        value: ref.canonical,
        hint: 'push to a tag (REPO:TAG); a digest reference can only name the very image being pushed',
      });
    }
    const blobs: PushResult['blobs'] = [];
    for (const layer of image.layers) blobs.push(await pushBlob(client, ref, layer, 'layer', opts));
    blobs.push(await pushBlob(client, ref, image.config, 'config', opts));
    const manifestDigest = await putJson(client, ref, image.manifest, image.manifest.digest, 'manifest', opts);
    const digest = await putJson(client, ref, image.index, ref.tag ?? image.index.digest, 'index', opts);
    return { digest, manifestDigest, blobs };
  });
}

async function pushBlob(client: RegistryClient, ref: RegistryRef, blob: OciBlob, what: 'layer' | 'config', opts: PushOptions): Promise<PushResult['blobs'][number]> {
  const report = (status: 'pushing' | BlobOutcome, from?: string) =>
    opts.onProgress?.({ kind: 'blob', what, digest: blob.digest, size: blob.size, status, ...(from !== undefined && { from }) });
  const done = (status: BlobOutcome, from?: string) => {
    report(status, from);
    return { digest: blob.digest, size: blob.size, status, ...(from !== undefined && { from }) };
  };
  if (await client.hasBlob(ref, blob.digest)) return done('exists');
  const from = opts.mountFrom?.(blob.digest);
  if (from !== undefined && from !== ref.repository && (await tryMount(client, ref, blob.digest, from))) return done('mounted', from);
  report('pushing');
  const onProgress = (bytes: number) => opts.onProgress?.({ kind: 'bytes', digest: blob.digest, bytes, size: blob.size });
  await client.uploadBlob(ref, blob.digest, blob.size, () => blob.open(), { onProgress, ...(opts.chunkSize !== undefined && { chunkSize: opts.chunkSize }) });
  return done('pushed');
}

// A mount is only a shortcut: when the source is gone or not readable with our credentials, upload instead.
async function tryMount(client: RegistryClient, ref: RegistryRef, digest: string, from: string): Promise<boolean> {
  try {
    return await client.mountBlob(ref, digest, from);
  } catch (err) {
    if (err instanceof WasmboxError && (err.code === 'REGISTRY_AUTH' || err.code === 'REGISTRY')) return false;
    throw err;
  }
}

async function putJson(client: RegistryClient, ref: RegistryRef, blob: BoxImage['index'], reference: string, what: 'manifest' | 'index', opts: PushOptions): Promise<string> {
  const digest = await client.putManifest(ref, reference, blob.bytes!, blob.mediaType);
  opts.onProgress?.({ kind: 'manifest', what, digest, reference });
  return digest;
}
