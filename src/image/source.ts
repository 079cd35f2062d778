import type { ImageConfig } from './config.js';

/** One layer of an image: its digests and a way to read its raw (possibly compressed) blob again. */
export interface Layer {
  /** Digest of the blob as stored (`sha256:…`); equals `diffId` for uncompressed layers. */
  digest: string;
  /** Digest of the uncompressed tar, from the config's `rootfs.diff_ids`. */
  diffId: string;
  mediaType: string;
  /** Stored size in bytes, when the source knows it. */
  size?: number;
  /**
   * True when `open()` reads from a store that checked the bytes against `digest` as they were stored
   * (the blob cache renames a download in only after that check), so readers skip hashing them again;
   * the uncompressed `diffId` is still checked.
   */
  storedVerified?: boolean;
  /** Open the stored blob from the start. Each call gives a fresh stream; the reader checks `digest`. */
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/**
 * A read-only image: its config and its layers, oldest first. Backends (scratch, OCI layout, archives,
 * registries) only say where bytes come from; digest checks and flattening are shared.
 */
export interface ImageSource {
  /** How the user named it, for messages. */
  readonly ref: string;
  config(): Promise<ImageConfig>;
  layers(): Promise<Layer[]>;
}
