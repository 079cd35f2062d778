// What the flatten and pull benchmark children share: Node's floor per layer, and what they report about a tree.
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

const MB = 1 << 20;

/** Entries and distinct file bytes in MB (hardlinks counted once). */
export function measure(tree) {
  const files = new Set();
  let entries = 0;
  for (const [, node] of tree.walk()) {
    entries++;
    if (node.kind === 'file') files.add(node.data);
  }
  let bytes = 0;
  for (const data of files) bytes += data.length;
  return { fileMB: bytes / MB, entries };
}

/**
 * Node's floor for one layer blob: hash its stored bytes, gunzip it when `gzip`, hash the uncompressed
 * bytes; no tar parsing. Resolves to the stored digest (`sha256:<hex>`).
 */
export async function floorLayer(read, gzip) {
  const stored = createHash('sha256');
  const plain = createHash('sha256');
  const tap = async function* (src) {
    for await (const chunk of src) {
      stored.update(chunk);
      yield chunk;
    }
  };
  const sink = async (src) => {
    for await (const chunk of src) plain.update(chunk);
  };
  if (gzip) await pipeline(read, tap, createGunzip({ chunkSize: 1 << 16 }), sink);
  else await pipeline(read, tap, sink);
  plain.digest();
  return `sha256:${stored.digest('hex')}`;
}
