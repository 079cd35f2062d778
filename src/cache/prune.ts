// `wasmbox cache prune`. By default it removes what no tag record reaches: loose blobs and boxes of images no
// longer tagged, plus temp files of writers that died. A pull stores its blobs before it writes the tag, so
// unreferenced entries younger than a grace period are kept: they may belong to a pull still running.
import { rm } from 'node:fs/promises';
import { type CacheDirs, survey } from './listing.js';
import { removeTree, staleTemps, walkFiles, type TreeSize } from './walk.js';

/** What prune may remove: everything (`all`), and only entries older than `olderThanMs`. */
export interface PruneOptions {
  all?: boolean;
  /** Keep entries used or written within this many ms; by default {@link GRACE_MS} for unreferenced ones. */
  olderThanMs?: number;
}

/** What a prune removed, and how many unreferenced entries it kept because they were too recent. */
export interface PruneResult {
  removedFiles: number;
  removedBytes: number;
  keptRecent: number;
}

/** How long an unreferenced blob or box is kept after it was written, unless `olderThanMs` says otherwise. */
export const GRACE_MS = 10 * 60_000;
/** A temp file this old has no live writer (a pull of even a huge layer takes far less). */
export const TEMP_MAX_AGE_MS = 24 * 60 * 60_000;

/** Prunes the cache laid out in `dirs`; see {@link PruneOptions}. */
export async function pruneCache(dirs: CacheDirs, opts: PruneOptions = {}): Promise<PruneResult> {
  const result: PruneResult = { removedFiles: 0, removedBytes: 0, keptRecent: 0 };
  const count = (size: TreeSize) => {
    result.removedFiles += size.files;
    result.removedBytes += size.bytes;
  };
  if (opts.all && opts.olderThanMs === undefined) {
    // Only the folders wasmbox owns: the cache root may be shared with other things.
    for (const dir of [dirs.blobs, dirs.tags, dirs.boxes, dirs.build]) count(await removeTree(dir));
    return result;
  }
  const now = Date.now();
  const cutoff = now - (opts.olderThanMs ?? GRACE_MS);
  const s = await survey(dirs, (r) => !opts.all || r.lastUsed >= cutoff);
  const stale = s.records.filter((r) => !s.reach.has(r.key)).map((r) => r.file);
  for (const file of [...stale, ...s.damaged]) count(await removeTree(file));
  const entries: { digest: string; path: string; mtimeMs: number }[] = [...s.blobs.values(), ...s.boxes];
  for (const entry of entries.filter((e) => !s.live.has(e.digest))) {
    if (entry.mtimeMs < cutoff) count(await removeTree(entry.path));
    else result.keptRecent++;
  }
  if (opts.all) await pruneOldFiles(dirs.build, cutoff, count);
  for (const dir of [dirs.blobs, dirs.tags, dirs.boxes, dirs.build]) {
    for await (const temp of staleTemps(dir, now, TEMP_MAX_AGE_MS)) count(await removeTree(temp.path));
  }
  return result;
}

/** Removes the files below `dir` last written before `cutoff` (build cache entries are never rewritten). */
async function pruneOldFiles(dir: string, cutoff: number, count: (size: TreeSize) => void): Promise<void> {
  for await (const file of walkFiles(dir)) {
    if (file.mtimeMs >= cutoff) continue;
    await rm(file.path, { force: true });
    count({ files: 1, bytes: file.size });
  }
}
