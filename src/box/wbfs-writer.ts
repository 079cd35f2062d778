import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Spilled, contentChunks, type FileContent } from '../fs/spill.js';
import type { FileNode, Node, Tree } from '../fs/tree.js';
import { WBFS_HEADER_SIZE, WBFS_MAGIC, wbfsDataStart, type Descriptor, type IndexRow } from './format.js';

/** Everything needed to write a rootfs.wbfs: the header (magic, index, padding) and the distinct contents in order. */
export interface ImagePlan {
  header: Uint8Array;
  /** Each distinct content once, in data-region order: bytes in memory, or spilled ones read while written. */
  blobs: FileContent[];
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
  readonly blobs: FileContent[] = [];
  bytes = 0;
  // Hashed per content object: hardlinks and cloned trees share `data` (bytes or a spill slot), so each is read once.
  private readonly hashes = new Map<FileContent, string>();
  private readonly offsets = new Map<string, number>();
  private scratch: Uint8Array | undefined;

  add(data: FileContent): { size: number; offset: number; sha: string } {
    let sha = this.hashes.get(data);
    if (sha === undefined) this.hashes.set(data, (sha = this.hash(data)));
    let offset = this.offsets.get(sha);
    if (offset === undefined) {
      this.offsets.set(sha, (offset = this.bytes));
      this.blobs.push(data);
      this.bytes += data.byteLength;
    }
    return { size: data.byteLength, offset, sha };
  }

  /** Spilled bytes are hashed a piece at a time, so planning never holds a whole image's files. */
  private hash(data: FileContent): string {
    const hash = createHash('sha256');
    for (const chunk of contentChunks(data, (this.scratch ??= new Uint8Array(PIECE)))) hash.update(chunk);
    return hash.digest('hex');
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

// Contents are gathered into one staging buffer and written when it is full, spilled ones read straight
// into it; big in-memory ones are written as they are (never copied). Writing a box thus holds at most
// the staging buffer besides the tree, however big the image.
const PIECE = 1 << 20;
const STAGE = 8 << 20;

/** Write a planned rootfs.wbfs to a new file, hashing the bytes as they go out. */
export async function writeImage(file: string, plan: ImagePlan): Promise<Descriptor> {
  const hash = createHash('sha256');
  const fh = await open(file, 'wx');
  try {
    const out = new StagedWriter(fh, hash);
    for (const blob of [plan.header, ...plan.blobs]) await out.put(blob);
    await out.flush();
  } finally {
    await fh.close();
  }
  return { digest: `sha256:${hash.digest('hex')}`, size: plan.header.byteLength + plan.fileBytes };
}

/** Sequential writes through a staging buffer, each written byte also fed to `hash`. */
class StagedWriter {
  private readonly stage = new Uint8Array(STAGE);
  private fill = 0;

  constructor(private readonly fh: FileHandle, private readonly hash: Hash) {}

  async put(content: FileContent): Promise<void> {
    if (content instanceof Uint8Array && content.byteLength >= PIECE) {
      await this.flush();
      return this.write(content);
    }
    for (let at = 0; at < content.byteLength; ) {
      if (this.fill === STAGE) await this.flush();
      const n = Math.min(STAGE - this.fill, content.byteLength - at);
      const into = this.stage.subarray(this.fill, this.fill + n);
      if (content instanceof Spilled) content.spill.readInto(content.offset + at, into);
      else into.set(content.subarray(at, at + n));
      this.fill += n;
      at += n;
    }
  }

  async flush(): Promise<void> {
    if (this.fill === 0) return;
    await this.write(this.stage.subarray(0, this.fill));
    this.fill = 0;
  }

  private async write(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    for (let done = 0; done < bytes.byteLength; ) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.byteLength - done);
      if (bytesWritten === 0) throw new Error(`short write: ${done} of ${bytes.byteLength} bytes`);
      done += bytesWritten;
    }
  }
}

/** Hex sha256 of some bytes. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
