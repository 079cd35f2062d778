// What the flatten and pull benchmark children share: Node's floor per layer, the box-writing step, where
// the compiled code is, and what they report about a tree.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

const MB = 1 << 20;
const DIST = process.env.BENCH_DIST ? pathToFileURL(process.env.BENCH_DIST + '/') : new URL('../dist/', import.meta.url);

/** The URL of a compiled module: under $BENCH_DIST (another tsc output dir, for A/B runs) or ../dist. */
export function distUrl(rel) {
  return new URL(rel, DIST).href;
}

/** A step that writes a tree as a box into `boxDir` (skipped without one), resolving to its time {boxMs}. */
export async function boxStep(boxDir) {
  const { writeBox } = await import(distUrl('src/box/pack.js'));
  return async (tree, config) => {
    if (!boxDir) return {};
    const t0 = performance.now();
    await writeBox(boxDir, tree, config);
    return { boxMs: performance.now() - t0 };
  };
}

/** Entries and distinct file bytes in MB (hardlinks counted once); sizes are read without reading bytes. */
export function measure(tree) {
  const files = new Set();
  let entries = 0;
  for (const [, node] of tree.walk()) {
    entries++;
    if (node.kind === 'file') files.add(node.data);
  }
  let bytes = 0;
  for (const data of files) bytes += data.byteLength;
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
