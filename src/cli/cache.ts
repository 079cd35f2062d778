// `wasmbox cache ls` and `wasmbox cache prune`: thin printers over BlobCache.list/prune, in the shape of
// `docker image ls` + `docker system df`, and `docker image prune`.
import { BlobCache, type CacheListing, type Usage } from '../cache/blob-cache.js';
import { GRACE_MS } from '../cache/prune.js';
import { ago, humanSize, parseUntil, table } from './cache-format.js';

/** Prints the cached images and the space used (`--json`: one JSON object with the full digests and ISO times). */
export async function runCacheLs(flags: { json: boolean }): Promise<void> {
  const listing = await BlobCache.open().list();
  process.stdout.write(`${flags.json ? toJson(listing) : formatListing(listing)}\n`);
}

/** Prunes the cache and prints what it freed; `filterUntil` (docker's `until=`) keeps newer entries. */
export async function runCachePrune(flags: { all: boolean; force?: boolean; filterUntil?: string }): Promise<void> {
  // wasmbox never asks before pruning (everything here can be pulled or built again), so `force` changes nothing.
  const olderThanMs = flags.filterUntil === undefined ? undefined : parseUntil(flags.filterUntil);
  const result = await BlobCache.open().prune({ all: flags.all, olderThanMs });
  const lines: string[] = [];
  if (result.removedFiles > 0) lines.push(`Deleted ${result.removedFiles} file${result.removedFiles === 1 ? '' : 's'}`);
  if (result.keptRecent > 0) {
    lines.push(
      `Kept ${result.keptRecent} unreferenced entr${result.keptRecent === 1 ? 'y' : 'ies'} written in the last ${GRACE_MS / 60_000} minutes ` +
        '(a pull may still be using them; --filter until=0s removes them too)',
    );
  }
  lines.push(`Total reclaimed space: ${humanSize(result.removedBytes)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The `cache ls` text: one row per tag, a blank line, then the totals table. */
export function formatListing(listing: CacheListing, now: number = Date.now()): string {
  const images = [
    ['REFERENCE', 'DIGEST', 'SIZE', 'UNIQUE SIZE', 'LAST USED'],
    ...listing.images.map((i) => [i.reference, shortDigest(i.digest), humanSize(i.size), humanSize(i.unique), ago(i.lastUsed, now)]),
  ];
  const totals = [
    ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
    usageRow('Blobs', listing.blobs),
    usageRow('Boxes', listing.boxes),
    ['Build cache', String(listing.build.count), '-', humanSize(listing.build.bytes), reclaimable(listing.build.bytes, listing.build.bytes)],
  ];
  return `${table(images)}\n\n${table(totals)}`;
}

function usageRow(name: string, u: Usage): string[] {
  return [name, String(u.count), String(u.count - u.unreferencedCount), humanSize(u.bytes), reclaimable(u.unreferencedBytes, u.bytes)];
}

function reclaimable(bytes: number, of: number): string {
  return of > 0 ? `${humanSize(bytes)} (${Math.round((bytes / of) * 100)}%)` : humanSize(bytes);
}

/** The digest as docker shows image IDs: 12 hex digits. */
function shortDigest(digest: string): string {
  return digest.split(':')[1].slice(0, 12);
}

function toJson(listing: CacheListing): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const images = listing.images.map((i) => ({ ...i, resolvedAt: iso(i.resolvedAt), lastUsed: iso(i.lastUsed) }));
  return JSON.stringify({ ...listing, images }, null, 2);
}
