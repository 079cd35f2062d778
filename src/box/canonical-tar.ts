import { createHash } from 'node:crypto';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import { contentBytes } from '../fs/spill.js';
import { IMPLICIT_DIR, type FileNode, type Meta, type Node, type Tree } from '../fs/tree.js';

// The largest values a ustar header field holds; anything bigger (or negative) goes into a PAX record.
const MAX_ID = 0o7777777;
const MAX_MTIME = 0o77777777777;
const DEVICE = { char: 'character-device', block: 'block-device', fifo: 'fifo' } as const;
// tar-stream replaces a zero mode with its default; the type bits keep it non-zero and are masked off on encode.
const TYPE_BITS = { file: 0o100000, link: 0o100000, directory: 0o040000, symlink: 0o120000 } as Record<string, number>;

/**
 * A deterministic tar of a tree, streamed: paths in walk order (the root itself is not an entry), no
 * leading slash, directories with a trailing one, ustar headers with empty user/group names, PAX
 * records for long or non-ASCII names and out-of-range ids or times, and hardlinks as link entries
 * naming the first path that holds the file.
 */
export async function* canonicalTar(tree: Tree): AsyncIterable<Uint8Array> {
  const pack = tarPack();
  const feeding = feed(pack, tree).catch((err: unknown) => {
    pack.destroy(err as Error);
  });
  try {
    for await (const chunk of pack) yield chunk as Uint8Array;
  } finally {
    // A consumer that stops early (or fails) must not leave the feeder waiting on a stream nobody reads.
    if (!pack.destroyed) pack.destroy();
    await feeding;
  }
}

/** `sha256:<hex>` of canonicalTar(tree): the layer diff_id of the tree, computed without holding the tar. */
export async function treeDiffId(tree: Tree): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of canonicalTar(tree)) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

async function feed(pack: Pack, tree: Tree): Promise<void> {
  const firstPath = new Map<FileNode, string>();
  // The root's own mode, owner and time travel as a `./` entry (what flatten applies to the root), written
  // only when they differ from an implicit directory's, so trees with a plain root keep the tar they had.
  if (!plainRoot(tree.root)) await addEntry(pack, { ...headerFor('.', tree.root, undefined), name: './' }, undefined);
  for (const [path, node] of tree.walk()) {
    const name = path.slice(1);
    let link: string | undefined;
    if (node.kind === 'file') {
      link = firstPath.get(node);
      if (link === undefined) firstPath.set(node, name);
    }
    const header = headerFor(name, node, link);
    // A spilled file is read in only while its entry is written (tar-stream waits for the reader).
    const body = node.kind === 'file' && link === undefined ? contentBytes(node.data) : undefined;
    await addEntry(pack, header, body);
  }
  pack.finalize();
}

function plainRoot(root: Meta): boolean {
  return root.mode === IMPLICIT_DIR.mode && root.uid === IMPLICIT_DIR.uid && root.gid === IMPLICIT_DIR.gid && root.mtime === IMPLICIT_DIR.mtime;
}

type Headers = Partial<Header> & Pick<Header, 'name'>;

function headerFor(name: string, node: Node, link: string | undefined): Headers {
  const type = link !== undefined ? 'link' : node.kind === 'dir' ? 'directory' : node.kind === 'other' ? DEVICE[node.device] : node.kind;
  const mtime = Math.floor(node.mtime);
  const pax: Record<string, string> = {};
  if (node.uid > MAX_ID) pax.uid = String(node.uid);
  if (node.gid > MAX_ID) pax.gid = String(node.gid);
  if (mtime < 0 || mtime > MAX_MTIME) pax.mtime = String(mtime);
  const header: Headers = {
    name: node.kind === 'dir' ? `${name}/` : name,
    type,
    mode: (node.mode & 0o7777) | (TYPE_BITS[type] ?? 0o010000),
    uid: Math.min(node.uid, MAX_ID),
    gid: Math.min(node.gid, MAX_ID),
    mtime: new Date(Math.min(Math.max(mtime, 0), MAX_MTIME) * 1000),
    size: 0,
    uname: '',
    gname: '',
  };
  const linkname = link ?? (node.kind === 'symlink' ? node.target : undefined);
  if (linkname !== undefined) header.linkname = linkname;
  if (Object.keys(pax).length > 0) header.pax = pax;
  return header;
}

function addEntry(pack: Pack, header: Headers, body: Uint8Array | undefined): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolvePromise());
    if (body === undefined && header.type === 'symlink' && !header.linkname) {
      // tar-stream reads an empty symlink target from the body; give it one so the entry completes.
      pack.entry(header, Buffer.alloc(0), done);
      return;
    }
    if (body === undefined) {
      pack.entry(header, done);
      return;
    }
    // tar-stream only takes a Buffer as a body; this one is a view of the file's bytes, not a copy.
    pack.entry({ ...header, size: body.byteLength }, Buffer.from(body.buffer, body.byteOffset, body.byteLength), done);
  });
}
