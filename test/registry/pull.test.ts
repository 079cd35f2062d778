// The pull path as a library against Debian's real docker-registry: every auth mode and manifest/compression
// variant flattens to what the local OCI layout does; platform choice from indexes; the cache's pull policies,
// offline reuse, concurrent pulls and prune; and faults injected by the proxy (retries, cut and damaged bodies).
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BlobCache } from '../../src/cache/blob-cache.js';
import { flattenImage } from '../../src/fs/flatten.js';
import { contentBytes } from '../../src/fs/spill.js';
import type { FileNode } from '../../src/fs/tree.js';
import { digestOf } from '../../src/image/blobs.js';
import { DEFAULT_PLATFORM, parsePlatform } from '../../src/image/platform.js';
import { boxFromRegistry } from '../../src/registry/box.js';
import { parseRegistryRef } from '../../src/registry/reference.js';
import { openRegistryImage, type PullPolicy, type RegistryImage } from '../../src/registry/source.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../helpers/fault-proxy.js';
import { scratchDir } from '../helpers/fixtures.js';
import { listing } from '../helpers/listing.js';
import { pushWithSkopeo, startRegistry, type RegistryAuth, type TestRegistry } from '../helpers/registry.js';
import { REPOS, VARIANTS, asInBox, blobFiles, boxListing, clientFor, layers, localListing, manifestOf, pullMissing, pushDuplicateLayer, pushLayers, pushPlatforms, wasi, writeDockerConfig } from './pull-fixtures.js';

const why = pullMissing;
if (why) console.warn(`skipping the pull tests: ${why}`);

let work: { dir: string; remove: () => Promise<void> };
let want: string[];
let caches = 0;
beforeAll(async () => {
  work = await scratchDir('wasmbox-pull-');
  if (!why) want = await localListing(layers.path);
});
afterAll(() => work?.remove());

/** A new empty directory under the work dir. */
const dirIn = (prefix: string) => mkdtemp(join(work.dir, prefix));

/** An empty cache of its own under the work dir. */
const freshCache = () => BlobCache.open(join(work.dir, `cache${caches++}`, 'blobs'));

/** Opens `host/repo` with a fresh client reading logins from `config`. */
function pull(text: string, cache: BlobCache, config: string, opts: { platform?: string; pull?: PullPolicy; log?: (m: string) => void } = {}): Promise<RegistryImage> {
  const platform = opts.platform ? parsePlatform(opts.platform) : DEFAULT_PLATFORM;
  return openRegistryImage(parseRegistryRef(text), { client: clientFor(config, opts.log), cache, platform, platformExplicit: !!opts.platform, pull: opts.pull, log: opts.log });
}

async function flat(image: RegistryImage): Promise<string[]> {
  return listing(await flattenImage(await image.layers()));
}

const MODES: RegistryAuth[] = ['none', 'htpasswd', 'token'];

describe.skipIf(why)(`pulling from docker-registry${why ? ` (skipped: ${why})` : ''}`, () => {
  describe.each(MODES)('auth %s', (auth) => {
    let reg: TestRegistry;
    let config: string;
    beforeAll(async () => {
      reg = await startRegistry({ auth });
      config = await writeDockerConfig(await dirIn('docker-'), reg);
      await pushLayers(reg);
    });
    afterAll(() => reg?.stop());

    it.each(VARIANTS)('pulls $name into an empty cache, every blob verified, flattening to the local listing', async ({ repo }) => {
      const cache = freshCache();
      const image = await pull(`${reg.host}/${repo}`, cache, config);
      expect(await image.download()).toBe(4);
      for (const layer of await image.layers()) expect(await cache.verify(layer.digest)).toBe(true);
      expect(await flat(image)).toEqual(want);
      expect((await blobFiles(cache.home)).length).toBe(6);
    });

    it.skipIf(auth === 'none')('refuses wrong credentials with REGISTRY_AUTH naming the host, the user and `wasmbox login`', async () => {
      const wrong = await writeDockerConfig(await dirIn('wrong-'), reg, [reg.host], 'not-the-password');
      const failure = await pull(`${reg.host}/${REPOS.layers}`, freshCache(), wrong).catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: 'REGISTRY_AUTH', message: expect.stringContaining(reg.host) });
      expect((failure as Error).message).toContain('"tester"');
      expect((failure as { hint: string }).hint).toContain(`wasmbox login ${reg.host}`);
    });

    it.skipIf(auth === 'none')('asks anonymous pulls to log in', async () => {
      const failure = await pull(`${reg.host}/${REPOS.layers}`, freshCache(), await dirIn('anon-')).catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: 'REGISTRY_AUTH', hint: expect.stringContaining(`wasmbox login ${reg.host}`) });
    });
  });

  describe('an open registry', () => {
    let reg: TestRegistry;
    let config: string;
    beforeAll(async () => {
      reg = await startRegistry();
      config = await writeDockerConfig(await dirIn('docker-'), reg);
      await pushLayers(reg, false);
      await pushPlatforms(reg, config);
    });
    afterAll(() => reg?.stop());

    describe('platforms', () => {
      const CASES: { name: string; repo: string; platform?: string; os: string; arch?: string }[] = [
        { name: 'an index defaults to linux/amd64', repo: REPOS.multiarch, os: 'linux/amd64', arch: 'linux/amd64' },
        { name: '--platform linux/arm64 picks arm64', repo: REPOS.multiarch, platform: 'linux/arm64', os: 'linux/arm64', arch: 'linux/arm64' },
        { name: '--platform arm (v7 implied) picks arm/v7', repo: REPOS.multiarch, platform: 'linux/arm', os: 'linux/arm', arch: 'linux/arm/v7' },
        { name: 'a wasi/wasm entry wins by default, even listed second', repo: REPOS.mixed, os: 'wasi/wasm' },
        { name: 'an explicit linux/amd64 passes the wasi/wasm entry by', repo: REPOS.mixed, platform: 'linux/amd64', os: 'linux/amd64', arch: 'linux/amd64' },
      ];

      it.each(CASES)('$name', async ({ repo, platform, os, arch }) => {
        const image = await pull(`${reg.host}/${repo}`, freshCache(), config, { platform });
        const cfg = await image.config();
        expect(`${cfg.os}/${cfg.architecture}`).toBe(os);
        const tree = await flattenImage(await image.layers());
        if (arch) expect(new TextDecoder().decode(contentBytes((tree.get('/etc/arch') as FileNode).data))).toBe(`${arch}\n`);
        else expect(listing(tree)).toEqual(await localListing(wasi.path));
      });

      it('says which platforms an index has when the asked one is missing', async () => {
        const failure = pull(`${reg.host}/${REPOS.multiarch}`, freshCache(), config, { platform: 'linux/s390x' });
        await expect(failure).rejects.toMatchObject({
          code: 'PLATFORM',
          message: expect.stringContaining(`${reg.host}/${REPOS.multiarch}`),
          hint: expect.stringContaining('linux/amd64, linux/arm64, linux/arm/v7'),
        });
      });

      it('makes a box of the chosen image once, with the image\'s tree', async () => {
        const cache = freshCache();
        const access = { client: clientFor(config), cache };
        const first = await boxFromRegistry(`${reg.host}/${REPOS.layers}`, { access, platform: DEFAULT_PLATFORM });
        expect(first.dir).toBe(cache.boxPath(first.image.manifestDigest));
        expect(await boxListing(first.dir)).toEqual(asInBox(want));
        const rootfs = await readFile(join(first.dir, 'rootfs.wbfs'));
        const again = await boxFromRegistry(`${reg.host}/${REPOS.layers}`, { access: { ...access, pull: 'never' }, platform: DEFAULT_PLATFORM });
        expect(digestOf(await readFile(join(again.dir, 'rootfs.wbfs')))).toBe(digestOf(rootfs));
      });
    });

    describe('the cache', () => {
      let proxy: FaultProxy;
      beforeAll(async () => {
        proxy = await startFaultProxy(reg.host);
      });
      afterAll(() => proxy?.stop());

      it('reuses a pulled tag without asking the registry, and still works when the registry is gone', async () => {
        const cache = freshCache();
        const text = `${proxy.host}/${REPOS.layers}`;
        expect(await flat(await pull(text, cache, config))).toEqual(want);
        const asked = proxy.requests.length;
        const again = await pull(text, cache, config);
        expect([await again.download(), await flat(again)]).toEqual([0, want]);
        expect(proxy.requests.length).toBe(asked);
        const gone = await startFaultProxy(reg.host);
        const offline = `${gone.host}/${REPOS.layers}`;
        await (await pull(offline, cache, config)).download();
        await gone.stop();
        expect(await flat(await pull(offline, cache, config))).toEqual(want);
      });

      it('pulls by digest, and a digest reference needs no registry once cached', async () => {
        const cache = freshCache();
        const tagged = await pull(`${proxy.host}/${REPOS.layers}`, cache, config);
        const pinned = `${proxy.host}/wasmbox/layers@${tagged.digest}`;
        const other = freshCache();
        expect(await flat(await pull(pinned, other, config))).toEqual(want);
        const asked = proxy.requests.length;
        expect(await flat(await pull(pinned, other, config, { pull: 'never' }))).toEqual(want);
        expect(proxy.requests.length).toBe(asked);
      });

      it('re-resolves a re-pushed tag only with policy always', async () => {
        const cache = freshCache();
        const text = `${proxy.host}/wasmbox/moving:v1`;
        await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/moving:v1');
        const before = await pull(text, cache, config);
        await pushWithSkopeo(reg, `oci:${wasi.path}:latest`, 'wasmbox/moving:v1');
        expect((await pull(text, cache, config)).digest).toBe(before.digest);
        const after = await pull(text, cache, config, { pull: 'always' });
        expect(after.digest).not.toBe(before.digest);
        expect((await after.config()).os).toBe('wasi');
        expect((await pull(text, cache, config, { pull: 'never' })).digest).toBe(after.digest);
      });

      it('downloads a layer an image lists twice once', async () => {
        await pushDuplicateLayer(reg, config);
        const cache = freshCache();
        const asked = proxy.requests.length;
        const image = await pull(`${proxy.host}/wasmbox/dup:v1`, cache, config);
        const listed = await image.layers();
        expect(listed.at(-1)!.digest).toBe(listed.at(-2)!.digest);
        expect(await image.download()).toBe(4);
        expect(proxy.requests.slice(asked).filter((r) => r.path.endsWith(`/blobs/${listed.at(-1)!.digest}`))).toHaveLength(1);
        expect(await flat(image)).toEqual(want);
      });

      it('refuses policy never on an empty cache, naming the image and how to pull it', async () => {
        const asked = proxy.requests.length;
        await expect(pull(`${proxy.host}/${REPOS.layers}`, freshCache(), config, { pull: 'never' })).rejects.toMatchObject({
          code: 'IMAGE_NOT_FOUND',
          message: expect.stringMatching(new RegExp(`${proxy.host}/${REPOS.layers}.*not in the cache`)),
          hint: expect.stringContaining(`wasmbox pull ${proxy.host}/${REPOS.layers}`),
        });
        expect(proxy.requests.length).toBe(asked);
      });

      it('lets two pulls into one cache run at once, storing each blob once', async () => {
        const cache = freshCache();
        const both = await Promise.all([0, 1].map(async () => {
          const image = await pull(`${reg.host}/${REPOS.layers}`, BlobCache.open(cache.root), config);
          await image.download();
          return flat(image);
        }));
        expect(both).toEqual([want, want]);
        const files = await blobFiles(cache.home);
        expect(files).toHaveLength(6);
        expect(files.every((f) => /^sha256\/[0-9a-f]{64}$/.test(f))).toBe(true);
      });

      it('lists the image, and prune keeps every blob it reaches', async () => {
        const cache = freshCache();
        const image = await pull(`${reg.host}/${REPOS.layers}`, cache, config);
        await image.download();
        const junk = new TextEncoder().encode('not reachable from any tag');
        await cache.putBytes(digestOf(junk), junk);
        const listed = await cache.list();
        expect(listed.images.map((i) => [i.reference, i.digest])).toEqual([[`${reg.host}/${REPOS.layers}`, image.digest]]);
        const pruned = await cache.prune({ olderThanMs: 0 });
        expect(pruned.removedFiles).toBe(1);
        expect(await cache.has(digestOf(junk))).toBe(false);
        expect(await blobFiles(cache.home)).toHaveLength(6);
        expect(await flat(await pull(`${reg.host}/${REPOS.layers}`, cache, config, { pull: 'never' }))).toEqual(want);
      });
    });

    describe('faults', () => {
      let layerOf: { digest: string; size: number }[];
      beforeAll(async () => {
        layerOf = (await manifestOf(layers.path)).layers;
      });

      const blob = (i: number) => new RegExp(`/blobs/${layerOf[i].digest}$`);
      const CASES: { name: string; faults: () => Fault[]; retried: () => RegExp; log: RegExp; slow?: boolean }[] = [
        { name: '503 with Retry-After on the manifest', faults: () => [{ method: 'GET', path: /\/manifests\/v1$/, action: { status: 503, retryAfter: 1 } }], retried: () => /\/manifests\/v1$/, log: /retrying GET .*: 503 \(2\/5\) in 1\.0 s/, slow: true },
        { name: '429 with Retry-After on a layer', faults: () => [{ method: 'GET', path: blob(1), action: { status: 429, retryAfter: 1 } }], retried: () => blob(1), log: /retrying GET .*: 429 \(2\/5\) in 1\.0 s/, slow: true },
        { name: 'a connection reset on a layer', faults: () => [{ method: 'GET', path: blob(0), action: { reset: true } }], retried: () => blob(0), log: /retrying GET .*ECONNRESET|retrying GET .*socket/i },
        { name: 'a layer cut short', faults: () => [{ method: 'GET', path: blob(2), action: { truncateAfter: 3000 } }], retried: () => blob(2), log: /the download stopped at \d+ of 7168 bytes; trying again \(2\/3\)/ },
      ];

      // `download` fills the cache first (wasmbox pull); `flatten` reads layers while they download (build, run).
      const VIAS = ['download', 'flatten'] as const;
      const fetchVia = async (image: RegistryImage, via: (typeof VIAS)[number]) => {
        if (via === 'download') await image.download();
        return flat(image);
      };

      describe.each(VIAS)('through %s', (via) => {
        // The waits Retry-After asks for are the transport's, the same on both paths: timed once.
        it.each(CASES.filter((c) => via === 'download' || !c.slow))('recovers from $name', async ({ faults, retried, log, slow }) => {
          const proxy = await startFaultProxy(reg.host);
          try {
            proxy.add(...faults());
            const lines: string[] = [];
            const started = Date.now();
            const cache = freshCache();
            const image = await pull(`${proxy.host}/${REPOS.layers}`, cache, config, { log: (m) => lines.push(m) });
            expect(await fetchVia(image, via)).toEqual(want);
            expect(proxy.requests.filter((r) => retried().test(r.path) && r.method === 'GET')).toHaveLength(2);
            expect(lines.join('\n')).toMatch(via === 'flatten' ? new RegExp(log.source.replace('trying again \\(2\\/3\\)', '(trying again \\(2\\/3\\)|fetching it again)')) : log);
            if (slow) expect(Date.now() - started).toBeGreaterThanOrEqual(900);
            expect(await blobFiles(cache.home)).toHaveLength(6);
          } finally {
            await proxy.stop();
          }
        });

        it.each([0, 2])('fails damaged layer %i (gzip, plain) at once (a whole body is not fetched again) and caches nothing of it', async (i) => {
          const proxy = await startFaultProxy(reg.host);
          try {
            proxy.add({ method: 'GET', path: blob(i), times: 5, action: { corrupt: true } });
            const cache = freshCache();
            const image = await pull(`${proxy.host}/${REPOS.layers}`, cache, config);
            // Read while it downloads, a damaged gzip layer can stop gunzip before the digest is known (LAYER_FORMAT).
            const codes = via === 'flatten' && i === 0 ? ['DIGEST', 'LAYER_FORMAT'] : ['DIGEST'];
            const failure = await fetchVia(image, via).then(() => undefined, (e: unknown) => e);
            expect(failure).toMatchObject({ code: expect.toBeOneOf(codes), message: expect.stringContaining(layerOf[i].digest) });
            expect(await cache.has(layerOf[i].digest)).toBe(false);
            expect(proxy.requests.filter((r) => blob(i).test(r.path))).toHaveLength(1);
            // A download fails only after its temp file is gone; a flatten may fail first and the tee's cleanup follow.
            const noTemp = async () => expect((await blobFiles(cache.home)).filter((f) => !/^sha256\/[0-9a-f]{64}$/.test(f))).toEqual([]);
            await (via === 'download' ? noTemp() : vi.waitFor(noTemp, { timeout: 2000 }));
            const files = await blobFiles(cache.home);
            expect(files).not.toContain(`sha256/${layerOf[i].digest.slice(7)}`);
          } finally {
            await proxy.stop();
          }
        });
      });

      it('names the reference and the registry when a tag does not exist', async () => {
        await expect(pull(`${reg.host}/wasmbox/layers:nope`, freshCache(), config)).rejects.toMatchObject({
          code: 'IMAGE_NOT_FOUND',
          message: expect.stringMatching(new RegExp(`${reg.host}/wasmbox/layers:nope.*registry ${reg.host}`)),
        });
      });
    });
  });
});
