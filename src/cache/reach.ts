// What the cache holds and what a tag keeps alive. Manifests and indexes are JSON blobs: an index names
// manifests, a manifest names its config and layers. Configs and layers are leaves and are never parsed, so a
// hostile blob can at most name digests (validated, and only counted when the cache has them).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDigest, MAX_JSON_BYTES } from '../image/blobs.js';
import type { Descriptor, Manifest } from '../image/oci-layout.js';
import { entries } from './walk.js';

/** A blob in the cache: its digest, file, size and modification time. */
export interface BlobEntry {
  digest: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/** The digests a manifest blob names: child manifests (from an index) and leaf blobs (config, layers). */
export interface Children {
  manifests: string[];
  leaves: string[];
}

const HEX: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };

/** The blobs under a blob root (`<root>/<alg>/<hex>`); temp files and anything foreign are not blobs. */
export async function inventory(root: string): Promise<Map<string, BlobEntry>> {
  const blobs = new Map<string, BlobEntry>();
  for (const [alg, hex] of Object.entries(HEX)) {
    for (const e of await entries(join(root, alg))) {
      // Only regular files are blobs: put never makes anything else, so a link here was planted.
      if (!hex.test(e.name) || !e.isFile) continue;
      blobs.set(`${alg}:${e.name}`, { digest: `${alg}:${e.name}`, path: e.path, size: e.size, mtimeMs: e.mtimeMs });
    }
  }
  return blobs;
}

/** The digests named by a manifest or index; nothing when the bytes are not one (a config, say). */
export function childrenOf(bytes: Uint8Array): Children {
  let doc: Manifest;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Manifest;
  } catch {
    return { manifests: [], leaves: [] };
  }
  const list = (value: unknown): Descriptor[] => (Array.isArray(value) ? value : []);
  const digests = (ds: unknown[]): string[] => ds.map((d) => (d as Descriptor | null)?.digest).filter(validDigest);
  if (typeof doc !== 'object' || doc === null) return { manifests: [], leaves: [] };
  return { manifests: digests(list(doc.manifests)), leaves: digests([doc.config, ...list(doc.layers)]) };
}

/**
 * The cached blobs reachable from the manifest `top` (itself included). `memo` holds parsed manifests so
 * several tags sharing an index parse it once.
 */
export async function reachable(blobs: Map<string, BlobEntry>, top: string, memo: Map<string, Children>): Promise<Set<string>> {
  const found = new Set<string>();
  const pending = [top];
  while (pending.length > 0) {
    const digest = pending.pop() as string;
    const blob = blobs.get(digest);
    if (!blob || found.has(digest)) continue;
    found.add(digest);
    const children = await manifestChildren(blob, memo);
    pending.push(...children.manifests);
    for (const leaf of children.leaves) if (blobs.has(leaf)) found.add(leaf);
  }
  return found;
}

async function manifestChildren(blob: BlobEntry, memo: Map<string, Children>): Promise<Children> {
  let children = memo.get(blob.digest);
  if (!children) {
    const bytes = blob.size <= MAX_JSON_BYTES ? await readFile(blob.path).catch(() => undefined) : undefined;
    children = bytes ? childrenOf(bytes) : { manifests: [], leaves: [] };
    memo.set(blob.digest, children);
  }
  return children;
}

function validDigest(value: unknown): value is string {
  try {
    checkDigest(value, 'a manifest entry');
    return true;
  } catch {
    return false;
  }
}
