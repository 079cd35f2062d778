import { type DirNode, Tree } from '../fs/tree.js';
import { decompressAll, sniffCompression } from '../fs/compression.js';
import { applyLayer } from '../fs/flatten.js';

/** The tar inside bytes that hold a tar archive, compressed or not (ADD extracts those); undefined for anything else. */
export async function asTar(bytes: Uint8Array, name: string): Promise<Uint8Array | undefined> {
  if (sniffCompression(bytes) === 'none') return isTar(bytes) ? bytes : undefined;
  const plain = await decompressAll(bytes, name);
  return isTar(plain) ? plain : undefined;
}

function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 512 && looksLikeTarHeader(bytes);
}

function looksLikeTarHeader(b: Uint8Array): boolean {
  const magic = new TextDecoder().decode(b.subarray(257, 262));
  if (magic !== 'ustar') return false;
  // The header checksum counts its own field as spaces.
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i];
  const stored = parseInt(new TextDecoder().decode(b.subarray(148, 156)).replace(/\0.*$/, '').trim(), 8);
  return stored === sum;
}

/** Extract a tar into a directory node, as ADD does with local archives; the archive cannot reach above it. */
export async function extractArchive(tar: Uint8Array, target: DirNode, name: string): Promise<void> {
  const staging = new Tree(target);
  await applyLayer(staging, (async function* () { yield tar; })(), { layerName: name });
}
