/**
 * The build cache: entries survive only whole (checksummed, written by rename), RUN results are replayed
 * instead of run when nothing they depend on changed, and anything they depend on (an ENV, a copied file,
 * a bind-mounted file, the user) makes them run again. The guest here is the scripted stand-in, counted;
 * real guests are in run.test.ts.
 */
import { chmod, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheRoot, decodeEntry, diskCache, encodeEntry } from '../../src/build/cache.js';
import { scratchDir } from '../helpers/fixtures.js';
import { type TestBuild, buildIn, counting, scriptedGuest } from './run-helpers.js';

let work: { dir: string; remove: () => Promise<void> };
let n = 0;
beforeAll(async () => {
  work = await scratchDir('wasmbox-cache-');
});
afterAll(async () => work?.remove());

/** A fresh context folder and cache folder. */
async function fresh(): Promise<{ context: string; cacheDir: string }> {
  const context = join(work.dir, `ctx-${++n}`);
  await mkdir(context);
  return { context, cacheDir: join(work.dir, `cache-${n}`) };
}

describe('cache entries', () => {
  const entry = encodeEntry({ output: [] }, new Uint8Array([1, 2, 3]));

  it('round-trip', () => {
    expect(decodeEntry(entry)).toEqual({ header: { output: [] }, body: Buffer.from([1, 2, 3]) });
  });

  it.each([
    ['a flipped body byte', (b: Buffer) => { b[b.length - 33] ^= 1; }],
    ['a flipped checksum byte', (b: Buffer) => { b[b.length - 1] ^= 1; }],
    ['a wrong magic', (b: Buffer) => { b[0] = 0x58; }],
  ])('are ignored with %s', (_name, damage) => {
    const copy = Buffer.from(entry);
    damage(copy);
    expect(decodeEntry(copy)).toBeUndefined();
  });

  it('are ignored when cut short', () => {
    for (let len = 0; len < entry.length; len += 7) expect(decodeEntry(entry.subarray(0, len))).toBeUndefined();
  });

  it('live under WASMBOX_CACHE_DIR, else XDG_CACHE_HOME/wasmbox, else ~/.cache/wasmbox', () => {
    expect(cacheRoot({ WASMBOX_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x' })).toBe('/x/wasmbox');
    expect(cacheRoot({})).toMatch(/\/\.cache\/wasmbox$/);
  });

  it('are written by rename: no temporary file is left, and a damaged entry reads as missing', async () => {
    const { cacheDir } = await fresh();
    const cache = diskCache(cacheDir);
    const key = 'ab'.repeat(32);
    await cache.putRun(key, { layer: new Uint8Array([9]), output: [{ stream: 'stdout', text: 'hi\n' }] });
    expect(await readdir(join(cacheDir, 'runs', 'ab'))).toEqual([key]);
    expect(await cache.getRun(key)).toEqual({ layer: Buffer.from([9]), output: [{ stream: 'stdout', text: 'hi\n' }] });
    const path = join(cacheDir, 'runs', 'ab', key);
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 5));
    expect(await cache.getRun(key)).toBeUndefined();
  });
});

const APPEND = `FROM scratch
ENV GREETING=hello
COPY a.txt /a.txt
RUN ["append", "/log", "one"]
COPY b.txt /b.txt
RUN ["append", "/log", "two"]
`;

describe('RUN results from the cache', () => {
  it('the second build of an unchanged Dockerfile runs nothing and gives the same bytes', async () => {
    const { context, cacheDir } = await fresh();
    const spec = (launcher = counting(scriptedGuest)): TestBuild => ({ dockerfile: APPEND, files: { 'a.txt': 'a', 'b.txt': 'b' }, launcher, cache: diskCache(cacheDir), epoch: 1_700_000_000 });
    const first = spec();
    const one = await buildIn(context, first);
    expect((first.launcher as ReturnType<typeof counting>).runs).toHaveLength(2);
    const second = counting(scriptedGuest);
    const two = await buildIn(context, spec(second));
    expect(second.runs).toHaveLength(0);
    expect(two.cached).toEqual(['RUN ["append", "/log", "one"]', 'RUN ["append", "/log", "two"]']);
    expect(two.diffId).toBe(one.diffId);
    expect(JSON.stringify(two.config)).toBe(JSON.stringify(one.config));
    expect(new TextDecoder().decode((two.tree.get('/log') as { data: Uint8Array }).data)).toBe('onetwo');
  });

  it.each([
    ['an ENV before both RUNs changes', { dockerfile: APPEND.replace('hello', 'bye') }, 2],
    ['a file copied between them changes', { files: { 'a.txt': 'a', 'b.txt': 'B' } }, 1],
    ['a file copied before both changes', { files: { 'a.txt': 'A', 'b.txt': 'b' } }, 2],
    ['a context file nobody copies changes', { files: { 'a.txt': 'a', 'b.txt': 'b', 'unused.txt': 'x' } }, 0],
    ['the user changes', { dockerfile: APPEND.replace('FROM scratch\n', 'FROM scratch\nUSER 1000\n') }, 2],
    ['SOURCE_DATE_EPOCH changes', { epoch: 1_700_000_001 }, 2],
    ['--no-cache is given', { noCache: true }, 2],
  ])('RUNs run again when %s', async (_name, change: Partial<TestBuild>, runs) => {
    const { context, cacheDir } = await fresh();
    const base: TestBuild = { dockerfile: APPEND, files: { 'a.txt': 'a', 'b.txt': 'b' }, cache: diskCache(cacheDir), epoch: 1_700_000_000, launcher: scriptedGuest };
    await buildIn(context, base);
    const second = counting(scriptedGuest);
    await buildIn(context, { ...base, ...change, launcher: second });
    expect(second.runs).toHaveLength(runs);
  });

  it.each([
    ['a copied file gets a new mtime (a fresh clone, the same bytes rewritten)', (ctx: string) => utimes(join(ctx, 'a.txt'), 1_600_000_000, 1_600_000_000), 0],
    ['a copied file becomes executable', (ctx: string) => chmod(join(ctx, 'a.txt'), 0o755), 2],
  ])('RUNs are replayed or run again when %s, as in Docker', async (_name, change: (ctx: string) => Promise<void>, runs) => {
    const { context, cacheDir } = await fresh();
    const base: TestBuild = { dockerfile: APPEND, files: { 'a.txt': 'a', 'b.txt': 'b' }, cache: diskCache(cacheDir), launcher: scriptedGuest };
    await buildIn(context, base);
    await change(context);
    const second = counting(scriptedGuest);
    await buildIn(context, { ...base, files: {}, launcher: second });
    expect(second.runs).toHaveLength(runs);
  });

  it('a damaged entry is run again and replaced', async () => {
    const { context, cacheDir } = await fresh();
    const base: TestBuild = { dockerfile: 'FROM scratch\nRUN ["write", "/f", "x"]\n', cache: diskCache(cacheDir), launcher: scriptedGuest };
    await buildIn(context, base);
    const runs = join(cacheDir, 'runs');
    const [prefix] = await readdir(runs);
    const [key] = await readdir(join(runs, prefix));
    await writeFile(join(runs, prefix, key), 'garbage');
    const again = counting(scriptedGuest);
    await buildIn(context, { ...base, launcher: again });
    expect(again.runs).toHaveLength(1);
    const third = counting(scriptedGuest);
    await buildIn(context, { ...base, launcher: third });
    expect(third.runs).toHaveLength(0);
  });

  it('a failed RUN is not cached', async () => {
    const { context, cacheDir } = await fresh();
    const base: TestBuild = { dockerfile: 'FROM scratch\nRUN ["fail", "3", "boom\\n"]\n', cache: diskCache(cacheDir), launcher: scriptedGuest };
    await expect(buildIn(context, base)).rejects.toThrow(/exit code 3/);
    const again = counting(scriptedGuest);
    await expect(buildIn(context, { ...base, launcher: again })).rejects.toThrow(/exit code 3/);
    expect(again.runs).toHaveLength(1);
  });
});

describe('RUN --mount and the cache', () => {
  it('a cache mount keeps its files between builds, and they never reach the box', async () => {
    const { context, cacheDir } = await fresh();
    const dockerfile = (n: number) => `FROM scratch\nRUN --mount=type=cache,target=/var/cache/app ["append", "/var/cache/app/count", "${n}"]\nRUN --mount=type=cache,target=/var/cache/app ["cat", "/var/cache/app/count"]\n`;
    const one = await buildIn(context, { dockerfile: dockerfile(1), cache: diskCache(cacheDir), launcher: scriptedGuest });
    expect(one.output).toBe('1');
    const two = await buildIn(context, { dockerfile: dockerfile(2), cache: diskCache(cacheDir), launcher: scriptedGuest });
    expect(two.output).toBe('12');
    expect([...two.tree.walk()].map(([p]) => p)).toEqual([]);
  });

  it('a cache mount directory starts with the mode and owner asked for', async () => {
    const { context } = await fresh();
    const built = await buildIn(context, { dockerfile: 'FROM scratch\nRUN --mount=type=cache,target=/c,uid=1000,gid=1001,mode=0700 ["stat", "/c"]\n', launcher: scriptedGuest });
    expect(built.output).toBe('dir 700 1000:1001\n');
  });

  it('a bind mount from the context reruns the RUN when the mounted file changes, not when another does', async () => {
    const { context, cacheDir } = await fresh();
    const base: TestBuild = {
      dockerfile: 'FROM scratch\nRUN --mount=type=bind,source=src,target=/src ["cat", "/src/in.txt"]\n',
      files: { 'src/in.txt': 'v1', 'other.txt': 'o' }, cache: diskCache(cacheDir), launcher: scriptedGuest,
    };
    expect((await buildIn(context, base)).output).toBe('v1');
    const same = counting(scriptedGuest);
    await buildIn(context, { ...base, files: { 'other.txt': 'changed' }, launcher: same });
    expect(same.runs).toHaveLength(0);
    const changed = counting(scriptedGuest);
    const out = await buildIn(context, { ...base, files: { 'src/in.txt': 'v2' }, launcher: changed });
    expect(changed.runs).toHaveLength(1);
    expect(out.output).toBe('v2');
  });
});
