/**
 * The blob cache holds only verified blobs: a put either ends with the blob under its digest or leaves the
 * cache exactly as it was (no entry, no temp file), whatever went wrong; hostile digests never name a path.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache } from '../../src/cache/blob-cache.js';
import { WasmboxError } from '../../src/errors.js';
import { scratchDir } from '../helpers/fixtures.js';
import { chunks, pattern, sha256 } from './helpers.js';

let work: { dir: string; remove: () => Promise<void> };
let cache: BlobCache;
let n = 0;
beforeAll(async () => {
  work = await scratchDir('wasmbox-blobcache-');
});
afterAll(async () => work?.remove());
beforeEach(() => {
  cache = BlobCache.open(join(work.dir, `cache-${++n}`, 'blobs'));
});

/** Every file below the cache's blob folder, relative to it (temp files included). */
async function files(): Promise<string[]> {
  return (await readdir(cache.root, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(cache.root.length + 1))
    .sort();
}

async function rejection(work: Promise<unknown>): Promise<WasmboxError> {
  const err = await work.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WasmboxError);
  return err as WasmboxError;
}

const data = pattern(3 << 20, 7);
const good = sha256(data);
const other = sha256('something else');

describe('put', () => {
  it('stores a verified blob under its digest, readable whole and as a stream', async () => {
    const seen: number[] = [];
    const path = await cache.put(good, chunks(data, 100_000), { what: 'layer 1', onBytes: (b) => seen.push(b) });
    expect(path).toBe(cache.path(good));
    expect(await files()).toEqual([`sha256/${good.slice(7)}`]);
    expect(Buffer.compare(await cache.read(good), data)).toBe(0);
    const parts: Uint8Array[] = [];
    for await (const part of await cache.open(good)) parts.push(part);
    expect(Buffer.compare(Buffer.concat(parts), data)).toBe(0);
    expect(parts.length).toBe(3); // 1 MiB reads
    expect([await cache.has(good), await cache.size(good), await cache.verify(good)]).toEqual([true, data.length, true]);
    expect(seen.at(-1)).toBe(data.length);
  });

  it('stores sha512 blobs under sha512/', async () => {
    const { createHash } = await import('node:crypto');
    const digest = `sha512:${createHash('sha512').update(data).digest('hex')}`;
    await cache.putBytes(digest, data);
    expect(await files()).toEqual([`sha512/${digest.slice(7)}`]);
  });

  it.each([
    { name: 'a digest mismatch', digest: other, source: () => chunks(data, 1 << 20), code: 'DIGEST', message: [`layer 1 does not match its digest: expected ${other}, got ${good}`] },
    { name: 'a source that fails midway', digest: good, source: () => chunks(data, 1 << 20, { failAt: 2 << 20 }), code: undefined, message: ['connection reset by peer'] },
    { name: 'a source longer than maxBytes', digest: good, source: () => chunks(data, 1 << 20), maxBytes: 2 << 20, code: 'DIGEST', message: ['layer 1', good, `${2 << 20} bytes`] },
    { name: 'an empty source', digest: good, source: () => chunks(new Uint8Array(0), 1), code: 'DIGEST', message: [sha256(new Uint8Array(0))] },
  ])('leaves no entry and no temp file after $name', async ({ digest, source, code, message, ...rest }) => {
    const err = await cache.put(digest, source(), { what: 'layer 1', maxBytes: rest.maxBytes }).then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    if (code) expect((err as WasmboxError).code).toBe(code);
    for (const part of message) expect(err!.message).toContain(part);
    expect(await files()).toEqual([]);
    expect(await cache.has(digest)).toBe(false);
  });

  it('a mismatch names what, the expected and the actual digest, with a hint', async () => {
    const err = await rejection(cache.putBytes(other, data, 'the config of docker.io/library/alpine:3.19'));
    expect(err.format()).toMatch(new RegExp(`the config of docker.io/library/alpine:3.19 does not match.*${other}.*${good}[^]*hint: .*nothing was cached`));
  });

  it('keeps the stored blob when the same digest is put again', async () => {
    await cache.putBytes(good, data);
    await cache.putBytes(good, data);
    expect(await files()).toEqual([`sha256/${good.slice(7)}`]);
  });
});

describe('reads', () => {
  it('say CACHE for a missing blob and undefined/false from the probes', async () => {
    expect((await rejection(cache.read(good))).code).toBe('CACHE');
    expect((await rejection(cache.open(good))).code).toBe('CACHE');
    expect([await cache.has(good), await cache.size(good), await cache.verify(good)]).toEqual([false, undefined, false]);
  });

  it('verify finds a blob damaged on disk', async () => {
    await cache.putBytes(good, data);
    const damaged = Buffer.from(data);
    damaged[12345] ^= 1;
    await writeFile(cache.path(good), damaged);
    expect(await cache.verify(good)).toBe(false);
  });

  it('do not follow a symlink planted under a blob name', async () => {
    const outside = join(work.dir, `secret-${n}`);
    await writeFile(outside, data);
    await mkdir(join(cache.root, 'sha256'), { recursive: true });
    await symlink(outside, cache.path(good));
    expect([await cache.has(good), await cache.size(good), await cache.verify(good)]).toEqual([false, undefined, false]);
    expect((await rejection(cache.read(good))).code).toBe('CACHE');
    // A put replaces the link with a real blob and leaves its target alone.
    await cache.putBytes(good, data);
    expect(await cache.has(good)).toBe(true);
    expect(Buffer.compare(await readFile(outside), data)).toBe(0);
  });
});

describe('hostile digests', () => {
  const hex = 'a'.repeat(64);
  it.each([
    'sha256:../../x',
    `sha256:../${hex.slice(3)}`,
    `sha256:${hex}/../../x`,
    `sha256:${hex.toUpperCase()}`,
    `sha256:${hex}:extra`,
    `../sha256/${hex}`,
    `md5:${'a'.repeat(32)}`,
    `constructor:${hex}`,
    `__proto__:${hex}`,
    'sha256:',
    '',
  ])('%j is refused by every method before any I/O', async (digest) => {
    expect(() => cache.path(digest)).toThrow(WasmboxError);
    expect(() => cache.boxPath(digest)).toThrow(WasmboxError);
    const attempts: (() => Promise<unknown>)[] = [
      () => cache.has(digest),
      () => cache.size(digest),
      () => cache.read(digest),
      () => cache.open(digest),
      () => cache.verify(digest),
      () => cache.putBytes(digest, data),
      () => cache.put(digest, chunks(data, 1 << 20)),
      () => cache.setTag('example.com/app:1', digest),
    ];
    for (const attempt of attempts) {
      const err = await Promise.resolve().then(attempt).then(() => undefined, (e: unknown) => e);
      expect((err as WasmboxError)?.code).toBe('DIGEST');
    }
    expect(await readdir(join(cache.root, '..')).catch(() => [])).toEqual([]);
  });
});
