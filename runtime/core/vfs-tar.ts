// The guest filesystem as a tar archive (POSIX ustar, with pax records for what ustar cannot hold), so
// a host can hand a run's files to its user: the web page's "download" button. Directories come before
// their contents, a file reached by a second name is written as a hardlink to the first, and device
// nodes (metadata only in a box) are left out. Runtime code: web-standard APIs only.
import { concatBytes } from './bytes.js';
import { DirNode, FileNode, SymlinkNode, type Inode, type Vfs } from './vfs.js';

const BLOCK = 512;
/** The largest uid/gid ustar's 7 octal digits hold; larger ones go in pax records. */
const MAX_ID = 0o7777777;
const encoder = new TextEncoder();

/** One entry as the tar writer sees it. */
interface Entry {
  path: string;
  type: '0' | '1' | '2' | '5';
  node: Inode;
  link?: string;
  data?: Uint8Array;
}

/** The whole of `vfs` (or the subtree at `root`) as the bytes of a tar archive, paths relative to `root`. */
export function vfsToTar(vfs: Vfs, root = '/'): Uint8Array {
  const start = vfs.get(root);
  if (!(start instanceof DirNode)) throw new TypeError(`${root} is not a directory`);
  const blocks: Uint8Array[] = [];
  for (const entry of walk(start)) blocks.push(...encodeEntry(entry));
  blocks.push(new Uint8Array(BLOCK * 2));
  return concatBytes(blocks);
}

/** Depth-first, parents first; the first path of a file named twice is the hardlinks' target. */
function* walk(dir: DirNode): Generator<Entry> {
  const seen = new Map<FileNode, string>();
  const stack: [DirNode, string][] = [[dir, '']];
  while (stack.length > 0) {
    const [current, prefix] = stack.pop()!;
    const children = [...current.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const subdirs: [DirNode, string][] = [];
    for (const [name, node] of children) {
      const path = prefix + name;
      if (node instanceof DirNode) {
        yield { path: path + '/', type: '5', node };
        subdirs.push([node, path + '/']);
      } else if (node instanceof SymlinkNode) {
        yield { path, type: '2', node, link: node.target };
      } else if (node instanceof FileNode) {
        const first = seen.get(node);
        if (first !== undefined) yield { path, type: '1', node, link: first };
        else yield (seen.set(node, path), { path, type: '0', node, data: node.bytes() });
      }
    }
    // Reversed onto the stack so directories come out in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
  }
}

function encodeEntry(entry: Entry): Uint8Array[] {
  const out: Uint8Array[] = [];
  const pax: Record<string, string> = {};
  const name = splitName(entry.path);
  if (!name) pax.path = entry.path;
  if (entry.link !== undefined && encoder.encode(entry.link).byteLength > 100) pax.linkpath = entry.link;
  if (entry.node.uid > MAX_ID) pax.uid = String(entry.node.uid);
  if (entry.node.gid > MAX_ID) pax.gid = String(entry.node.gid);
  if (Object.keys(pax).length > 0) {
    const records = encoder.encode(Object.entries(pax).map(([k, v]) => paxRecord(k, v)).join(''));
    out.push(header({ name: 'PaxHeaders/entry', prefix: '', type: 'x', size: records.byteLength, node: entry.node }), ...padded(records));
  }
  const size = entry.data?.byteLength ?? 0;
  const fields = name ?? { name: truncate(entry.path, 100), prefix: '' };
  out.push(header({ ...fields, type: entry.type, size, node: entry.node, link: entry.link }));
  if (entry.data) out.push(...padded(entry.data));
  return out;
}

/** A pax record: "LEN key=value\n", where LEN counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bytes = encoder.encode(body).byteLength;
  let len = bytes + String(bytes).length;
  if (String(len).length !== String(bytes).length) len++;
  return `${len}${body}`;
}

/** ustar's name/prefix split of a path, or undefined when it does not fit (a pax record carries it). */
function splitName(path: string): { name: string; prefix: string } | undefined {
  const bytes = encoder.encode(path).byteLength;
  if (bytes <= 100) return { name: path, prefix: '' };
  if (bytes > 256) return undefined;
  for (let cut = path.indexOf('/'); cut >= 0; cut = path.indexOf('/', cut + 1)) {
    const [prefix, name] = [path.slice(0, cut), path.slice(cut + 1)];
    if (encoder.encode(prefix).byteLength <= 155 && encoder.encode(name).byteLength <= 100 && name !== '') return { name, prefix };
  }
  return undefined;
}

function header(h: { name: string; prefix: string; type: string; size: number; node: Inode; link?: string }): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const { node } = h;
  put(block, 0, 100, encoder.encode(h.name));
  put(block, 100, 8, octal(node.mode & 0o7777, 7));
  put(block, 108, 8, octal(node.uid, 7));
  put(block, 116, 8, octal(node.gid, 7));
  put(block, 124, 12, octal(h.size, 11));
  put(block, 136, 12, octal(Math.max(0, Number(node.mtime / 1_000_000_000n)), 11));
  block.fill(0x20, 148, 156); // the checksum is summed with its own field as spaces
  block[156] = h.type.charCodeAt(0);
  if (h.link !== undefined) put(block, 157, 100, encoder.encode(truncate(h.link, 100)));
  put(block, 257, 8, encoder.encode('ustar\x0000'));
  put(block, 265, 32, encoder.encode(node.uid === 0 ? 'root' : ''));
  put(block, 297, 32, encoder.encode(node.gid === 0 ? 'root' : ''));
  put(block, 345, 155, encoder.encode(h.prefix));
  const sum = block.reduce((n, b) => n + b, 0);
  put(block, 148, 8, encoder.encode(sum.toString(8).padStart(6, '0') + '\0 '));
  return block;
}

function put(block: Uint8Array, at: number, width: number, bytes: Uint8Array): void {
  block.set(bytes.subarray(0, width), at);
}

/** A zero-padded octal number of `digits` digits and a NUL (values past the field are clamped). */
function octal(value: number, digits: number): Uint8Array {
  const max = 8 ** digits - 1;
  return encoder.encode(Math.min(value, max).toString(8).padStart(digits, '0') + '\0');
}

/** The leading characters of `text` that fit in `bytes` UTF-8 bytes (a pax record has the whole). */
function truncate(text: string, bytes: number): string {
  let out = text;
  while (encoder.encode(out).byteLength > bytes) out = out.slice(0, -1);
  return out;
}

/** `data` followed by the zeros that fill its last block. */
function padded(data: Uint8Array): Uint8Array[] {
  const rest = data.byteLength % BLOCK;
  return rest === 0 ? [data] : [data, new Uint8Array(BLOCK - rest)];
}

