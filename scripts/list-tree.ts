/**
 * One listing format for a root filesystem, whether it is a directory on disk (e.g. what `umoci unpack`
 * made) or our in-memory Tree, so the two can be compared line for line.
 *
 * A line is `path type mode uid gid size mtime target`:
 *   type    file | dir | symlink | other (hardlinks are files; their grouping is listed separately)
 *   mode    4 octal digits incl. setuid/setgid/sticky; `-` for symlinks (Linux ignores and reports 0777)
 *   size    bytes for files, `-` otherwise
 *   mtime   whole seconds (umoci restores mtimes of files, dirs and symlinks alike)
 *   target  symlink target; char | block | fifo for `other`; `-` otherwise
 * Spaces, backslashes and non-ASCII characters in paths and targets are written `\u{hex}`. The root itself is
 * not listed. Link groups are `a = b = c` lines: paths sharing an inode on disk, or one FileNode in a Tree.
 *
 * Usage: node --import tsx scripts/list-tree.ts [--hash] [--links] DIR | --image REF
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { contentBytes } from '../src/fs/spill.js';
import type { Node, Tree } from '../src/fs/tree.js';

/** A filesystem listing: lines in walk order, hardlink groups, and (optionally) sha256 of each file by path. */
export interface Listing {
  lines: string[];
  links: string[];
  hashes: Map<string, string>;
}

/** Fields of one listed entry, before formatting. */
interface Entry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size?: number;
  target?: string;
}

// Escaping keeps every line space-separated: the path never contains a space itself.
const quote = (s: string) => s.replace(/[^\x21-\x5b\x5d-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Formats one listing line. */
export function formatLine(path: string, e: Entry): string {
  const mode = e.type === 'symlink' ? '-' : (e.mode & 0o7777).toString(8).padStart(4, '0');
  const size = e.type === 'file' ? String(e.size) : '-';
  return [quote(path), e.type, mode, e.uid, e.gid, size, Math.floor(e.mtime), e.target === undefined ? '-' : quote(e.target)].join(' ');
}

/** Turns `key → paths` into sorted `a = b` lines, for keys with two or more paths. */
function linkLines(groups: Map<unknown, string[]>): string[] {
  return [...groups.values()].filter((g) => g.length > 1).map((g) => g.sort(byName).join(' = ')).sort(byName);
}

function addToGroup<K>(groups: Map<K, string[]>, key: K, path: string): void {
  const g = groups.get(key);
  if (g) g.push(path);
  else groups.set(key, [path]);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Lists a directory on disk (not following symlinks), children in byte order like Tree.walk. */
export async function listDirectory(root: string, opts: { hash?: boolean } = {}): Promise<Listing> {
  const out: Listing = { lines: [], links: [], hashes: new Map() };
  const inodes = new Map<bigint, string[]>();
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort(byName)) {
      const full = join(dir, name);
      const path = `${prefix}/${name}`;
      const st = await lstat(full, { bigint: true });
      const base = { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), mtime: Number(st.mtimeMs) / 1000 };
      if (st.isFile()) {
        out.lines.push(formatLine(path, { type: 'file', size: Number(st.size), ...base }));
        if (st.nlink > 1n) addToGroup(inodes, st.ino, path);
        if (opts.hash) out.hashes.set(path, sha256(await readFile(full)));
      } else if (st.isDirectory()) {
        out.lines.push(formatLine(path, { type: 'dir', ...base }));
        await visit(full, path);
      } else if (st.isSymbolicLink()) {
        out.lines.push(formatLine(path, { type: 'symlink', target: await readlink(full), ...base }));
      } else {
        const target = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'socket';
        out.lines.push(formatLine(path, { type: 'other', target, ...base }));
      }
    }
  };
  await visit(root, '');
  out.links = linkLines(inodes);
  return out;
}

function entryOf(node: Node): Entry {
  const base = { mode: node.mode, uid: node.uid, gid: node.gid, mtime: node.mtime };
  switch (node.kind) {
    case 'file':
      return { type: 'file', size: node.data.byteLength, ...base };
    case 'dir':
      return { type: 'dir', ...base };
    case 'symlink':
      return { type: 'symlink', target: node.target, ...base };
    case 'other':
      return { type: 'other', target: node.device, ...base };
  }
}

/** Lists an in-memory Tree in the same format; one FileNode at several paths is one link group. */
export function listTree(tree: Tree, opts: { hash?: boolean } = {}): Listing {
  const out: Listing = { lines: [], links: [], hashes: new Map() };
  const nodes = new Map<Node, string[]>();
  const hashOf = new Map<Node, string>();
  for (const [path, node] of tree.walk()) {
    out.lines.push(formatLine(path, entryOf(node)));
    if (node.kind !== 'file') continue;
    addToGroup(nodes, node, path);
    if (!opts.hash) continue;
    if (!hashOf.has(node)) hashOf.set(node, sha256(contentBytes(node.data)));
    out.hashes.set(path, hashOf.get(node)!);
  }
  out.links = linkLines(nodes);
  return out;
}

const pathOf = (line: string) => line.slice(0, line.indexOf(' '));

/** The differences between two listings keyed by path, at most `max` of them, as readable lines. */
export function diffListings(expected: string[], actual: string[], max = 20, names = ['umoci', 'ours']): string[] {
  const want = new Map(expected.map((l) => [pathOf(l), l]));
  const have = new Map(actual.map((l) => [pathOf(l), l]));
  const diffs: string[] = [];
  for (const [path, line] of want) {
    const got = have.get(path);
    if (got === undefined) diffs.push(`only in ${names[0]}: ${line}`);
    else if (got !== line) diffs.push(`differs: ${names[0]}: ${line}\n         ${names[1]}: ${got}`);
  }
  for (const [path, line] of have) if (!want.has(path)) diffs.push(`only in ${names[1]}: ${line}`);
  return diffs.length > max ? [...diffs.slice(0, max), `… and ${diffs.length - max} more`] : diffs;
}

/** Lists an image the way wasmbox flattens it (imports the image code lazily, so plain listing needs none of it). */
export async function listImage(ref: string, opts: { hash?: boolean } = {}): Promise<Listing> {
  const { parseImageRef } = await import('../src/image/ref.js');
  const { openImage } = await import('../src/image/open.js');
  const { flattenImage } = await import('../src/fs/flatten.js');
  const image = await openImage(parseImageRef(ref), { baseDir: process.cwd(), platform: { os: 'linux', architecture: 'amd64' } });
  return listTree(await flattenImage(await image.layers()), opts);
}

async function main(args: string[]): Promise<void> {
  const hash = args.includes('--hash');
  const links = args.includes('--links');
  const image = args.indexOf('--image');
  const rest = args.filter((a) => !a.startsWith('--'));
  const target = image >= 0 ? args[image + 1] : rest[0];
  if (!target) throw new Error('usage: list-tree.ts [--hash] [--links] DIR | --image REF');
  const listing = image >= 0 ? await listImage(target, { hash }) : await listDirectory(target, { hash });
  for (const line of listing.lines) {
    const h = listing.hashes.get(pathOf(line));
    console.log(h ? `${line} ${h}` : line);
  }
  if (links) for (const group of listing.links) console.log(`link ${group}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv.slice(2));
