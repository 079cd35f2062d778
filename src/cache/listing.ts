// `wasmbox cache ls`: what the cache holds, per tag and in total. The survey here is shared with prune, so
// what ls calls unreferenced is exactly what prune would remove.
import { join } from 'node:path';
import { type BlobEntry, type Children, inventory, reachable } from './reach.js';
import { listTags, type TagRecord } from './tags.js';
import { entries, treeSize } from './walk.js';

/** The folders of a cache: blobs, tag records, boxes made from pulled images, and the build cache. */
export interface CacheDirs {
  home: string;
  blobs: string;
  tags: string;
  boxes: string;
  build: string;
}

/** One tag record as `cache ls` shows it. */
export interface CachedImage {
  /** The reference the record is for ('docker.io/library/alpine:3.19'). */
  reference: string;
  /** The manifest (or index) digest it resolved to. */
  digest: string;
  /** Bytes of the cached blobs the tag reaches (manifests, configs, layers). */
  size: number;
  /** Of those, the bytes no other tag reaches: what removing this tag would free. */
  unique: number;
  /** When the tag was resolved, and when it was last used (ms since the epoch). */
  resolvedAt: number;
  lastUsed: number;
}

/** Counts and bytes of one kind of entry, and how much of it no tag reaches (what prune removes). */
export interface Usage {
  count: number;
  bytes: number;
  unreferencedCount: number;
  unreferencedBytes: number;
}

/** What `wasmbox cache ls` prints: the tags, then totals for blobs, boxes and the build cache. */
export interface CacheListing {
  root: string;
  images: CachedImage[];
  blobs: Usage;
  boxes: Usage;
  build: { count: number; bytes: number };
}

/** A box folder kept for a pulled image, keyed by its manifest digest. */
export interface BoxEntry {
  digest: string;
  path: string;
  mtimeMs: number;
}

/** The cache's state: tag records, blobs, boxes, and which blobs each tag reaches. */
export interface Survey {
  records: TagRecord[];
  damaged: string[];
  blobs: Map<string, BlobEntry>;
  boxes: BoxEntry[];
  reach: Map<string, Set<string>>;
  live: Set<string>;
}

/** The layout of a cache whose blob root is `blobs`: the other folders are its siblings. */
export function cacheDirs(blobs: string): CacheDirs {
  const home = join(blobs, '..');
  return { home, blobs, tags: join(home, 'tags'), boxes: join(home, 'boxes'), build: join(home, 'build') };
}

/** Reads the whole cache state; `keep` filters the tag records that count as roots. */
export async function survey(dirs: CacheDirs, keep: (r: TagRecord) => boolean = () => true): Promise<Survey> {
  const { records, damaged } = await listTags(dirs.tags);
  const blobs = await inventory(dirs.blobs);
  const memo = new Map<string, Children>();
  const reach = new Map<string, Set<string>>();
  const live = new Set<string>();
  for (const record of records.filter(keep)) {
    const found = await reachable(blobs, record.digest, memo);
    reach.set(record.key, found);
    for (const digest of found) live.add(digest);
  }
  return { records, damaged, blobs, boxes: await boxEntries(dirs.boxes), reach, live };
}

/** Lists the cache for `wasmbox cache ls`. */
export async function listCache(dirs: CacheDirs): Promise<CacheListing> {
  const s = await survey(dirs);
  // How many tags reach each blob: a blob reached by one tag only is what removing that tag frees.
  const owners = new Map<string, number>();
  for (const found of s.reach.values()) for (const d of found) owners.set(d, (owners.get(d) ?? 0) + 1);
  const bytes = (digests: Iterable<string>) => [...digests].reduce((n, d) => n + (s.blobs.get(d)?.size ?? 0), 0);
  const images = s.records.map((r): CachedImage => {
    const found = [...(s.reach.get(r.key) ?? [])];
    const unique = found.filter((d) => owners.get(d) === 1);
    return { reference: r.key, digest: r.digest, size: bytes(found), unique: bytes(unique), resolvedAt: r.at, lastUsed: r.lastUsed };
  });
  const loose = [...s.blobs.keys()].filter((d) => !s.live.has(d));
  const blobs = { count: s.blobs.size, bytes: bytes(s.blobs.keys()), unreferencedCount: loose.length, unreferencedBytes: bytes(loose) };
  const build = await treeSize(dirs.build);
  return { root: dirs.home, images, blobs, boxes: await boxUsage(s), build: { count: build.files, bytes: build.bytes } };
}

async function boxUsage(s: Survey): Promise<Usage> {
  const usage: Usage = { count: 0, bytes: 0, unreferencedCount: 0, unreferencedBytes: 0 };
  for (const box of s.boxes) {
    const size = await treeSize(box.path);
    usage.count++;
    usage.bytes += size.bytes;
    if (!s.live.has(box.digest)) {
      usage.unreferencedCount++;
      usage.unreferencedBytes += size.bytes;
    }
  }
  return usage;
}

async function boxEntries(dir: string): Promise<BoxEntry[]> {
  const algs: Record<number, string> = { 64: 'sha256', 128: 'sha512' };
  return (await entries(dir))
    .filter((e) => /^[a-f0-9]+$/.test(e.name) && algs[e.name.length])
    .map((e) => ({ digest: `${algs[e.name.length]}:${e.name}`, path: e.path, mtimeMs: e.mtimeMs }));
}
