/**
 * Tag records, `list` totals and `prune` reachability over an image written by hand: a tag on an index
 * (two manifests sharing a layer) and a tag on a plain manifest that shares that layer too, a loose blob,
 * boxes for a reachable and an unreachable manifest, and a build cache file.
 */
import { mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache } from '../../src/cache/blob-cache.js';
import { tagFile } from '../../src/cache/tags.js';
import { scratchDir } from '../helpers/fixtures.js';
import { index, manifest, pattern, sha256, type Stored, store } from './helpers.js';

const DAY = 86_400_000;
let work: { dir: string; remove: () => Promise<void> };
let cache: BlobCache;
let n = 0;
beforeAll(async () => {
  work = await scratchDir('wasmbox-cache-tags-');
});
afterAll(async () => work?.remove());
beforeEach(() => {
  cache = BlobCache.open(join(work.dir, `cache-${++n}`, 'blobs'));
});

/** Sets a path's times `ageMs` into the past. */
async function age(path: string, ageMs: number): Promise<void> {
  const then = new Date(Date.now() - ageMs);
  await utimes(path, then, then);
}

interface Image {
  blobs: Record<string, Stored>;
  loose: Stored;
  box: { live: string; dead: string };
}

/** Writes the scenario described at the top of the file; every blob is backdated `blobAge` ms. */
async function scenario(blobAge = 3 * DAY): Promise<Image> {
  const b: Record<string, Stored> = {};
  b.shared = await store(cache, pattern(300_000, 1));
  b.layerA = await store(cache, pattern(200_000, 2));
  b.layerB = await store(cache, pattern(100_000, 3));
  b.configA = await store(cache, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  b.configB = await store(cache, { architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  b.configC = await store(cache, { architecture: 'wasm', os: 'wasi', rootfs: { type: 'layers', diff_ids: [] } });
  b.manifestA = await store(cache, manifest(b.configA, [b.shared, b.layerA]));
  b.manifestB = await store(cache, manifest(b.configB, [b.shared, b.layerB]));
  b.manifestC = await store(cache, manifest(b.configC, [b.shared]));
  // The index also names a platform that was never pulled: absent blobs are simply not counted.
  b.index = await store(cache, index([b.manifestA, b.manifestB, { digest: sha256('not pulled'), size: 10 }]));
  const loose = await store(cache, pattern(50_000, 4));
  for (const blob of [...Object.values(b), loose]) await age(cache.path(blob.digest), blobAge);
  await cache.setTag('example.com/app:1', b.index.digest);
  await cache.setTag('example.com/other:2', b.manifestC.digest);
  const live = cache.boxPath(b.manifestA.digest);
  const dead = cache.boxPath(sha256('an image no tag names any more'));
  for (const dir of [live, dead]) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'rootfs.wbfs'), pattern(1000, 5));
    await writeFile(join(dir, 'config.json'), '{}');
    await age(dir, blobAge);
  }
  await mkdir(join(cache.home, 'build', 'runs', 'ab'), { recursive: true });
  await writeFile(join(cache.home, 'build', 'runs', 'ab', 'abcd'), pattern(1234, 6));
  await age(join(cache.home, 'build', 'runs', 'ab', 'abcd'), blobAge);
  return { blobs: b, loose, box: { live, dead } };
}

const sum = (...blobs: Stored[]) => blobs.reduce((t, x) => t + x.size, 0);

describe('tag records', () => {
  it.each(['docker.io/library/alpine:3.19', 'localhost:5000/org/app:v1.2-rc.1', '127.0.0.1:5000/a/b/c:latest', 'ghcr.io/o/x@sha256:' + 'a'.repeat(64)])(
    '%s round-trips and a newer record replaces the older',
    async (key) => {
      const [first, second] = [sha256('one'), sha256('two')];
      expect(await cache.getTag(key)).toBeUndefined();
      await cache.setTag(key, first);
      expect(await cache.getTag(key)).toMatchObject({ digest: first });
      await cache.setTag(key, second);
      const got = await cache.getTag(key);
      expect(got?.digest).toBe(second);
      expect(Math.abs(got!.at - Date.now())).toBeLessThan(5000);
      expect((await readdir(join(cache.home, 'tags'))).length).toBe(1);
    },
  );

  it.each([
    ['not JSON', 'garbage'],
    ['a bad digest', JSON.stringify({ key: 'k:1', digest: 'sha256:../../x', at: 1 })],
    ['a record for another key', JSON.stringify({ key: 'k:2', digest: sha256('x'), at: 1 })],
  ])('a damaged record (%s) reads as no record and prune removes it', async (_name, text) => {
    const file = tagFile(join(cache.home, 'tags'), 'k:1');
    await mkdir(join(cache.home, 'tags'), { recursive: true });
    await writeFile(file, text);
    expect(await cache.getTag('k:1')).toBeUndefined();
    expect((await cache.list()).images).toEqual([]);
    expect(await cache.prune()).toMatchObject({ removedFiles: 1 });
    expect(await readdir(join(cache.home, 'tags'))).toEqual([]);
  });

  it('getTag marks the record used', async () => {
    await cache.setTag('example.com/app:1', sha256('x'));
    await age(tagFile(join(cache.home, 'tags'), 'example.com/app:1'), 5 * DAY);
    expect((await cache.list()).images[0].lastUsed).toBeLessThan(Date.now() - 4 * DAY);
    await cache.getTag('example.com/app:1');
    expect((await cache.list()).images[0].lastUsed).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('list', () => {
  it('sizes each tag by the cached blobs it reaches and totals blobs, boxes and build cache', async () => {
    const { blobs: b, loose } = await scenario();
    const listing = await cache.list();
    const app = sum(b.index, b.manifestA, b.manifestB, b.configA, b.configB, b.shared, b.layerA, b.layerB);
    const other = sum(b.manifestC, b.configC, b.shared);
    expect(listing.images.map(({ reference, digest, size, unique }) => ({ reference, digest, size, unique }))).toEqual([
      { reference: 'example.com/app:1', digest: b.index.digest, size: app, unique: app - b.shared.size },
      { reference: 'example.com/other:2', digest: b.manifestC.digest, size: other, unique: other - b.shared.size },
    ]);
    const all = Object.values(b);
    expect(listing.blobs).toEqual({ count: all.length + 1, bytes: sum(...all, loose), unreferencedCount: 1, unreferencedBytes: loose.size });
    expect(listing.boxes).toEqual({ count: 2, bytes: 2 * 1002, unreferencedCount: 1, unreferencedBytes: 1002 });
    expect(listing.build).toEqual({ count: 1, bytes: 1234 });
    expect(listing.root).toBe(cache.home);
  });

  it('of an empty or missing cache is all zeros', async () => {
    const zero = { count: 0, bytes: 0, unreferencedCount: 0, unreferencedBytes: 0 };
    expect(await cache.list()).toEqual({ root: cache.home, images: [], blobs: zero, boxes: zero, build: { count: 0, bytes: 0 } });
  });
});

describe('prune', () => {
  it('removes only what no tag reaches: the loose blob and the dead box', async () => {
    const { blobs: b, loose, box } = await scenario();
    expect(await cache.prune()).toEqual({ removedFiles: 3, removedBytes: loose.size + 1002, keptRecent: 0 });
    for (const blob of Object.values(b)) expect(await cache.has(blob.digest)).toBe(true);
    expect(await cache.has(loose.digest)).toBe(false);
    expect([await exists(box.live), await exists(box.dead)]).toEqual([true, false]);
    expect((await cache.list()).build.count).toBe(1);
    expect(await cache.prune()).toEqual({ removedFiles: 0, removedBytes: 0, keptRecent: 0 });
  });

  it('keeps unreferenced blobs younger than the grace period unless olderThanMs says otherwise', async () => {
    const fresh = await store(cache, pattern(1000, 9));
    expect(await cache.prune()).toEqual({ removedFiles: 0, removedBytes: 0, keptRecent: 1 });
    expect(await cache.prune({ olderThanMs: 0 })).toEqual({ removedFiles: 1, removedBytes: 1000, keptRecent: 0 });
    expect(await cache.has(fresh.digest)).toBe(false);
  });

  it('sweeps temp files older than a day and leaves younger ones to their writers', async () => {
    const dir = join(cache.root, 'sha256');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '.tmp-123-dead'), 'half a layer');
    await age(join(dir, '.tmp-123-dead'), 2 * DAY);
    await writeFile(join(dir, '.tmp-456-live'), 'being written');
    expect(await cache.prune()).toMatchObject({ removedFiles: 1, removedBytes: 12 });
    expect(await readdir(dir)).toEqual(['.tmp-456-live']);
  });

  it('with all and olderThanMs drops tags unused for that long, then what they alone reached, and old build files', async () => {
    const { blobs: b } = await scenario();
    await age(tagFile(join(cache.home, 'tags'), 'example.com/other:2'), 2 * DAY);
    await writeFile(join(cache.home, 'build', 'fresh'), 'x');
    const result = await cache.prune({ all: true, olderThanMs: DAY });
    expect((await cache.list()).images.map((i) => i.reference)).toEqual(['example.com/app:1']);
    expect([await cache.has(b.manifestC.digest), await cache.has(b.configC.digest), await cache.has(b.shared.digest)]).toEqual([false, false, true]);
    expect((await readdir(join(cache.home, 'build'), { recursive: true })).sort()).toEqual(['fresh', 'runs', 'runs/ab']);
    // 1 tag record, 2 blobs only other:2 reached, the loose blob, the dead box's 2 files, 1 build file.
    expect(result.removedFiles).toBe(7);
  });

  it('neither counts nor enters planted links: a box or blob name that is a link is removed as a link', async () => {
    const outside = join(work.dir, `outside-${n}`);
    await mkdir(outside);
    await writeFile(join(outside, 'big'), pattern(500_000, 8));
    const box = cache.boxPath(sha256('planted'));
    const blob = cache.path(sha256('planted blob'));
    await mkdir(join(box, '..'), { recursive: true });
    await mkdir(join(blob, '..'), { recursive: true });
    await symlink(outside, box);
    await symlink(join(outside, 'big'), blob);
    const listing = await cache.list();
    expect(listing.blobs.count).toBe(0);
    expect(listing.boxes.bytes).toBeLessThan(1000);
    await cache.prune({ olderThanMs: 0 });
    expect(await exists(box)).toBe(false);
    expect((await stat(join(outside, 'big'))).size).toBe(500_000);
  });

  it('with all removes every folder wasmbox owns and nothing else, never following links out', async () => {
    await scenario();
    const outside = join(work.dir, `outside-${n}`);
    await mkdir(outside);
    await writeFile(join(outside, 'precious'), 'keep me');
    await symlink(outside, join(cache.root, 'sha256', 'link'));
    await symlink(outside, join(cache.home, 'build', 'link'));
    await writeFile(join(cache.home, 'not-ours.txt'), 'keep me too');
    const before = await cache.list();
    const result = await cache.prune({ all: true });
    expect(result.removedBytes).toBeGreaterThanOrEqual(before.blobs.bytes + before.boxes.bytes + before.build.bytes);
    expect(await readdir(cache.home)).toEqual(['not-ours.txt']);
    expect(await readFile(join(outside, 'precious'), 'utf8')).toBe('keep me');
  });
});

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
