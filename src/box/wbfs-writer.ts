import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileNode, Node, Tree } from '../fs/tree.js';
import { WBFS_HEADER_SIZE, WBFS_MAGIC, wbfsDataStart, type Descriptor, type IndexRow } from './format.js';

/** Everything needed to write a rootfs.wbfs: the header (magic, index, padding) and the distinct contents in order. */
export interface ImagePlan {
  header: Uint8Array;
  blobs: Uint8Array[];
  entries: number;
  /** Bytes of the data region (the sum of `blobs`). */
  fileBytes: number;
}

/** Lay out a tree as a rootfs.wbfs: index rows in walk order, each distinct content hashed once and stored once. */
export function planImage(tree: Tree): ImagePlan {
  const rows: IndexRow[] = [row('/', tree.root, 'dir')];
  const firstPath = new Map<FileNode, string>();
  const store = new ContentStore();
  for (const [path, node] of tree.walk()) {
    if (node.kind !== 'file') {
      rows.push(row(path, node, node.kind, node.kind === 'symlink' ? node.target : ''));
      continue;
    }
    const first = firstPath.get(node);
    if (first === undefined) firstPath.set(node, path);
    const stored = store.add(node.data);
    rows.push(first === undefined ? row(path, node, 'file', '', stored) : row(path, node, 'hardlink', first, stored));
  }
  return { header: encodeHeader(rows), blobs: store.blobs, entries: rows.length, fileBytes: store.bytes };
}

/** The data region being laid out: each distinct content once, in order of first use. */
class ContentStore {
  readonly blobs: Uint8Array[] = [];
  bytes = 0;
  // Hashed per bytes object: hardlinks and cloned trees share `data`, so each buffer is read once.
  private readonly hashes = new Map<Uint8Array, string>();
  private readonly offsets = new Map<string, number>();

  add(data: Uint8Array): { size: number; offset: number; sha: string } {
    let sha = this.hashes.get(data);
    if (sha === undefined) this.hashes.set(data, (sha = sha256(data)));
    let offset = this.offsets.get(sha);
    if (offset === undefined) {
      this.offsets.set(sha, (offset = this.bytes));
      this.blobs.push(data);
      this.bytes += data.byteLength;
    }
    return { size: data.byteLength, offset, sha };
  }
}

function row(path: string, node: Node, type: string, target = '', file = { size: 0, offset: 0, sha: '' }): IndexRow {
  return [path, type, node.mode & 0o7777, node.uid, node.gid, node.mtime, file.size, file.offset, target, file.sha];
}

function encodeHeader(rows: IndexRow[]): Uint8Array {
  const index = new TextEncoder().encode(JSON.stringify({ entries: rows }));
  const header = new Uint8Array(wbfsDataStart(index.byteLength));
  header.set(new TextEncoder().encode(WBFS_MAGIC), 0);
  new DataView(header.buffer).setUint32(8, index.byteLength, true);
  header.set(index, WBFS_HEADER_SIZE);
  return header;
}

// Small files are gathered into one writev call; big ones pass through as they are (never copied).
const BATCH_BYTES = 8 << 20;
const BATCH_COUNT = 512;

/** Write a planned rootfs.wbfs to a new file, hashing the bytes as they go out. */
export async function writeImage(file: string, plan: ImagePlan): Promise<Descriptor> {
  const hash = createHash('sha256');
  const fh = await open(file, 'wx');
  try {
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    for (const chunk of [plan.header, ...plan.blobs]) {
      if (chunk.byteLength === 0) continue;
      hash.update(chunk);
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      if (batchBytes < BATCH_BYTES && batch.length < BATCH_COUNT) continue;
      await writeAll(fh, batch, batchBytes);
      batch = [];
      batchBytes = 0;
    }
    await writeAll(fh, batch, batchBytes);
  } finally {
    await fh.close();
  }
  return { digest: `sha256:${hash.digest('hex')}`, size: plan.header.byteLength + plan.fileBytes };
}

async function writeAll(fh: Awaited<ReturnType<typeof open>>, chunks: Uint8Array[], bytes: number): Promise<void> {
  if (chunks.length === 0) return;
  const { bytesWritten } = await fh.writev(chunks);
  if (bytesWritten !== bytes) throw new Error(`short write: ${bytesWritten} of ${bytes} bytes`);
}

/** Hex sha256 of some bytes. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
