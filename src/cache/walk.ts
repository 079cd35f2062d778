// Walking the cache's folders for sizes and pruning. Nothing here follows a symlink: a link planted in the
// cache is counted (and removed) as a link, so neither `ls` nor `prune` ever reaches outside the cache root.
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from './store-blob.js';

/** A file met on a walk: its path, apparent size and modification time. */
export interface WalkEntry {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
  isDir: boolean;
  /** A regular file (not a folder, link, socket…). */
  isFile: boolean;
}

/** Totals of a folder tree: files (links and other non-folders count as files) and their bytes. */
export interface TreeSize {
  files: number;
  bytes: number;
}

/** The names in `dir` with their lstat, or nothing when `dir` is missing or not a folder. */
export async function entries(dir: string): Promise<WalkEntry[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: WalkEntry[] = [];
  for (const name of names) {
    const st = await lstat(join(dir, name)).catch(() => undefined);
    if (st) found.push({ path: join(dir, name), name, size: st.isDirectory() ? 0 : st.size, mtimeMs: st.mtimeMs, isDir: st.isDirectory(), isFile: st.isFile() });
  }
  return found;
}

/** Every non-folder below `dir` (depth first), without following links. */
export async function* walkFiles(dir: string): AsyncGenerator<WalkEntry> {
  for (const entry of await entries(dir)) {
    if (entry.isDir) yield* walkFiles(entry.path);
    else yield entry;
  }
}

/** The files and bytes below `path` (a folder, or a single file). */
export async function treeSize(path: string): Promise<TreeSize> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return { files: 0, bytes: 0 };
  if (!st.isDirectory()) return { files: 1, bytes: st.size };
  const total = { files: 0, bytes: 0 };
  for await (const file of walkFiles(path)) {
    total.files++;
    total.bytes += file.size;
  }
  return total;
}

/** Removes `path` (a folder tree, file or link; never a link's target) and returns what it held. */
export async function removeTree(path: string): Promise<TreeSize> {
  const size = await treeSize(path);
  await rm(path, { recursive: true, force: true });
  return size;
}

/** Temp files (or folders) below `dir` left by writers that died: older than `maxAgeMs`, so no live writer owns them. */
export async function* staleTemps(dir: string, now: number, maxAgeMs: number): AsyncGenerator<WalkEntry> {
  for (const entry of await entries(dir)) {
    if (entry.name.startsWith(TEMP_PREFIX)) {
      if (now - entry.mtimeMs > maxAgeMs) yield entry;
    } else if (entry.isDir) {
      yield* staleTemps(entry.path, now, maxAgeMs);
    }
  }
}
