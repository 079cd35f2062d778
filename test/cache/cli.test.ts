/**
 * `wasmbox cache ls|prune` output: docker's units and ages (table-driven), `--filter until=` parsing, and the
 * two commands run against a cache in a temp folder named by WASMBOX_CACHE_DIR.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BlobCache } from '../../src/cache/blob-cache.js';
import { runCacheLs, runCachePrune } from '../../src/cli/cache.js';
import { ago, humanSize, parseUntil, untilFromFilters } from '../../src/cli/cache-format.js';
import { WasmboxError } from '../../src/errors.js';
import { scratchDir } from '../helpers/fixtures.js';
import { manifest, pattern, store } from './helpers.js';

describe('humanSize', () => {
  it.each([
    [0, '0B'], [1, '1B'], [999, '999B'], [1000, '1kB'], [1234, '1.23kB'], [12_345_678, '12.3MB'],
    [999_999, '1MB'], [1_000_000_000, '1GB'], [5.5e12, '5.5TB'],
  ])('%d bytes is %s', (bytes, text) => expect(humanSize(bytes)).toBe(text));
});

describe('ago', () => {
  const now = 1_700_000_000_000;
  it.each([
    [0, 'Less than a second ago'], [1_000, '1 second ago'], [45_000, '45 seconds ago'], [70_000, 'About a minute ago'],
    [5 * 60_000, '5 minutes ago'], [80 * 60_000, 'About an hour ago'], [5 * 3600_000, '5 hours ago'], [3 * 86_400_000, '3 days ago'],
    [21 * 86_400_000, '3 weeks ago'], [90 * 86_400_000, '3 months ago'], [800 * 86_400_000, '2 years ago'],
  ])('%d ms is %s', (ms, text) => expect(ago(now - ms, now)).toBe(text));
});

describe('parseUntil', () => {
  const now = Date.parse('2024-05-02T12:00:00Z');
  it.each([
    ['24h', 86_400_000], ['90m', 5_400_000], ['1h30m', 5_400_000], ['1.5h', 5_400_000], ['7d', 7 * 86_400_000], ['0s', 0], ['500ms', 500],
    [String(now / 1000 - 60), 60_000], ['2024-05-01T12:00:00Z', 86_400_000], ['2024-05-02', 12 * 3600_000], ['2030-01-01', 0],
    ['24', now - 24_000], // a bare number is a Unix timestamp, as in docker
  ])('%s is %d ms', (text, ms) => expect(parseUntil(text, now)).toBe(ms));

  it.each(['', 'yesterday', 'h', '-1h', '24hours', '1h 30m', '2024-13-45', '2024-05-01 nonsense'])('%j is a USAGE error naming --filter', (text) => {
    expect(() => parseUntil(text, now)).toThrow(expect.objectContaining({ code: 'USAGE', instruction: '--filter' }));
  });

  it.each([
    [[], undefined], [['until=24h'], '24h'], [['until=1h', 'until=2h'], '2h'],
  ])('untilFromFilters(%j) is %j', (filters, until) => expect(untilFromFilters(filters)).toBe(until));

  it.each([['label=x'], ['until'], ['dangling=true']])('untilFromFilters refuses %j', (filter) => {
    expect(() => untilFromFilters([filter])).toThrow(WasmboxError);
  });
});

describe('the commands', () => {
  let work: { dir: string; remove: () => Promise<void> };
  let out = '';
  const saved = process.env.WASMBOX_CACHE_DIR;
  beforeAll(async () => {
    work = await scratchDir('wasmbox-cache-cli-');
    process.env.WASMBOX_CACHE_DIR = work.dir;
    const cache = BlobCache.open();
    const config = await store(cache, { os: 'linux' });
    const layer = await store(cache, pattern(2_500_000, 1));
    await cache.setTag('example.com/app:1', (await store(cache, manifest(config, [layer]))).digest);
    await store(cache, pattern(40_000, 2));
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.WASMBOX_CACHE_DIR;
    else process.env.WASMBOX_CACHE_DIR = saved;
    await work?.remove();
  });
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  };

  it('ls prints the image table and the totals', async () => {
    expect(BlobCache.open().root).toBe(join(work.dir, 'blobs'));
    capture();
    await runCacheLs({ json: false });
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REFERENCE\s+DIGEST\s+SIZE\s+UNIQUE SIZE\s+LAST USED$/);
    expect(lines[1]).toMatch(/^example\.com\/app:1\s+[a-f0-9]{12}\s+2\.5MB\s+2\.5MB\s+Less than a second ago$/);
    expect(lines[2]).toBe('');
    expect(lines[3]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    expect(lines[4]).toMatch(/^Blobs\s+4\s+3\s+2\.54MB\s+40kB \(2%\)$/);
    expect(lines[5]).toMatch(/^Boxes\s+0\s+0\s+0B\s+0B$/);
    expect(lines[6]).toMatch(/^Build cache\s+0\s+-\s+0B\s+0B$/);
  });

  it('ls --json prints the listing with full digests and ISO times', async () => {
    capture();
    await runCacheLs({ json: true });
    const listing = JSON.parse(out);
    expect(listing.images[0]).toMatchObject({ reference: 'example.com/app:1', digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
    expect(new Date(listing.images[0].lastUsed).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(listing.blobs).toEqual({ count: 4, bytes: expect.any(Number), unreferencedCount: 1, unreferencedBytes: 40_000 });
  });

  it('prune keeps a fresh loose blob (saying why), removes it with until=0s, and --all empties the cache', async () => {
    capture();
    await runCachePrune({ all: false });
    expect(out).toMatch(/^Kept 1 unreferenced entry written in the last 10 minutes .*\nTotal reclaimed space: 0B\n$/);
    capture();
    await runCachePrune({ all: false, filterUntil: '0s' });
    expect(out).toBe('Deleted 1 file\nTotal reclaimed space: 40kB\n');
    capture();
    await runCachePrune({ all: true, force: true });
    expect(out).toMatch(/^Deleted 4 files\nTotal reclaimed space: 2\.5MB\n$/);
    expect((await BlobCache.open().list()).blobs.count).toBe(0);
  });

  it('prune names a bad --filter value', async () => {
    await expect(runCachePrune({ all: false, filterUntil: 'soon' })).rejects.toMatchObject({ code: 'USAGE', value: 'soon' });
  });
});
