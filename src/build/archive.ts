import { type DirNode, Tree } from '../fs/tree.js';
import { decompressAll, sniffCompression } from '../fs/compression.js';
import { applyLayer } from '../fs/flatten.js';
import { BLOCK, checksumOk, decodeString } from '../fs/tar-header.js';

/** The tar inside bytes that hold a tar archive, compressed or not (ADD extracts those); undefined for anything else. */
export async function asTar(bytes: Uint8Array, name: string): Promise<Uint8Array | undefined> {
  if (sniffCompression(bytes) === 'none') return isTar(bytes) ? bytes : undefined;
  // Like BuildKit, a file that does not decompress is not an archive: it is copied as it is.
  const plain = await decompressAll(bytes, name).catch(() => undefined);
  return plain && isTar(plain) ? plain : undefined;
}

function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= BLOCK && decodeString(bytes, 257, 5) === 'ustar' && checksumOk(bytes.subarray(0, BLOCK));
}

/** Extract a tar into a directory node, as ADD does with local archives; the archive cannot reach above it. */
export async function extractArchive(tar: Uint8Array, target: DirNode, name: string): Promise<void> {
  const staging = new Tree(target);
  // An archive ADD unpacks is not an image layer: its `.wh.` files are files, as docker extracts them.
  await applyLayer(staging, (async function* () { yield tar; })(), { layerName: name, whiteouts: false });
}
