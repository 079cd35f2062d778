/**
 * The pull path through the real command line against Debian's docker-registry: `wasmbox login/logout`,
 * `pull` (every auth mode, format and compression; platforms), `run REF` with its pull policies, the cache
 * commands, concurrent pulls, faults from the proxy, and `build` with registry images in FROM and COPY --from.
 * Each test gets an empty cache (WASMBOX_CACHE_DIR) and a docker config dir (DOCKER_CONFIG) of its own.
 */
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBox } from '../../src/box/pack.js';
import { treeFromFsImage } from '../../src/box/box-tree.js';
import { BlobCache } from '../../src/cache/blob-cache.js';
import { digestOf } from '../../src/image/blobs.js';
import type { FileNode } from '../../src/fs/tree.js';
import { startFaultProxy, type Fault } from '../helpers/fault-proxy.js';
import { scratchDir } from '../helpers/fixtures.js';
import { pushWithSkopeo, startRegistry, type RegistryAuth, type TestRegistry } from '../helpers/registry.js';
import { type Compiled, type Run, compileWasmbox } from '../runtime/hosts/compiled.js';
import { REPOS, VARIANTS, asInBox, blobFiles, boxListing, layers, localListing, manifestOf, pullMissing, pushLayers, pushPlatforms, wasi, writeDockerConfig } from '../registry/pull-fixtures.js';

const why = pullMissing;
if (why) console.warn(`skipping the registry CLI tests: ${why}`);

const HELLO = 'hello from a wasi/wasm registry image\n';
const BLOB = /^sha256\/[0-9a-f]{64}$/;

let wb: Compiled;
let work: { dir: string; remove: () => Promise<void> };
let want: string[];
beforeAll(async () => {
  if (why) return;
  [wb, work] = await Promise.all([compileWasmbox(), scratchDir('wasmbox-registry-e2e-')]);
  want = asInBox(await localListing(layers.path));
}, 120_000);
afterAll(async () => Promise.all([wb?.remove(), work?.remove()]));

/** A fresh environment: an empty cache and a docker config dir, both under the work dir. */
async function env(): Promise<{ cache: string; docker: string; vars: NodeJS.ProcessEnv }> {
  const cache = await mkdtemp(join(work.dir, 'cache-'));
  const docker = await mkdtemp(join(work.dir, 'docker-'));
  return { cache, docker, vars: { WASMBOX_CACHE_DIR: cache, DOCKER_CONFIG: docker } };
}

/** Asserts a failed run: non-zero, one `error:` message matching `message`, no stack trace. */
function expectFailure(run: Run, message: RegExp): void {
  expect(run.code, run.stderr).not.toBe(0);
  expect(run.stderr).toMatch(/^error: /m);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(run.stderr).not.toMatch(/internal error/);
}

const expectOk = (run: Run): Run => {
  expect(run.code, run.stderr).toBe(0);
  return run;
};

/** The text of a file in a box. */
async function boxText(dir: string, path: string): Promise<string> {
  return new TextDecoder().decode((treeFromFsImage((await readBox(dir)).fs).get(path) as FileNode).data);
}

const MODES: RegistryAuth[] = ['none', 'htpasswd', 'token'];

describe.skipIf(why)(`wasmbox and docker-registry${why ? ` (skipped: ${why})` : ''}`, () => {
  describe.each(MODES)('auth %s', (auth) => {
    let reg: TestRegistry;
    beforeAll(async () => {
      reg = await startRegistry({ auth });
      await pushLayers(reg, auth === 'none');
    });
    afterAll(() => reg?.stop());

    /** Logs in through the CLI, reading the password from stdin. */
    const login = (e: { vars: NodeJS.ProcessEnv }, password = reg.password) => wb.run(['login', reg.host, '-u', reg.username, '--password-stdin'], { env: e.vars, input: `${password}\n` });

    it.each(auth === 'none' ? VARIANTS : VARIANTS.slice(0, 1))('pulls $name into an empty cache and writes the same tree as a box', async ({ repo }) => {
      const e = await env();
      if (auth !== 'none') expectOk(await login(e));
      const box = join(e.cache, 'box');
      const pulled = expectOk(await wb.run(['pull', `${reg.host}/${repo}`, '-o', box], { env: e.vars }));
      expect(pulled.stdout).toMatch(/^Status: Downloaded 4 of 4 layer\(s\) for /m);
      expect(await boxListing(box)).toEqual(want);
      expect(await blobFiles(e.cache)).toHaveLength(6);
    });

    it.skipIf(auth === 'none')('logs in and out: the config entry is written 0600 and removed again', async () => {
      const e = await env();
      const config = join(e.docker, 'config.json');
      expect(expectOk(await login(e)).stdout).toContain('Login Succeeded');
      expect((await stat(config)).mode & 0o777).toBe(0o600);
      const saved = JSON.parse(await readFile(config, 'utf8')).auths[reg.host];
      expect(Buffer.from(saved.auth, 'base64').toString()).toBe(`${reg.username}:${reg.password}`);
      expect(expectOk(await wb.run(['logout', reg.host], { env: e.vars })).stdout).toContain(`Removing login credentials for ${reg.host}`);
      expect(JSON.parse(await readFile(config, 'utf8')).auths ?? {}).not.toHaveProperty(reg.host);
      expect((await stat(config)).mode & 0o777).toBe(0o600);
      expect(expectOk(await wb.run(['logout', reg.host], { env: e.vars })).stdout).toContain(`Not logged in to ${reg.host}`);
    });

    it.skipIf(auth === 'none')('refuses a wrong password at login and saves nothing', async () => {
      const e = await env();
      const run = await login(e, 'wrong-password');
      expectFailure(run, new RegExp(`^error: login to ${reg.host} as "tester" failed: the registry refused the user name or password\n\\s+hint: check them and try again; nothing was saved`));
      await expect(stat(join(e.docker, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it.skipIf(auth === 'none')('fails a pull with wrong saved credentials, pointing at wasmbox login', async () => {
      const e = await env();
      await writeDockerConfig(e.docker, reg, [reg.host], 'wrong-password');
      expectFailure(await wb.run(['pull', `${reg.host}/${REPOS.layers}`], { env: e.vars }), new RegExp(`hint: .*wasmbox login ${reg.host.replace(/\./g, '\\.')}`));
      expect(await blobFiles(e.cache)).toEqual([]);
    });
  });

  describe('an open registry', () => {
    let reg: TestRegistry;
    beforeAll(async () => {
      reg = await startRegistry();
      await pushLayers(reg, false);
      await pushPlatforms(reg, await mkdtemp(join(work.dir, 'docker-')));
    });
    afterAll(() => reg?.stop());

    const PLATFORMS: { name: string; args: string[]; arch: string }[] = [
      { name: 'an index gives linux/amd64 by default', args: [], arch: 'linux/amd64' },
      { name: '--platform linux/arm64 gives arm64', args: ['--platform', 'linux/arm64'], arch: 'linux/arm64' },
    ];
    it.each(PLATFORMS)('$name', async ({ args, arch }) => {
      const e = await env();
      const box = join(e.cache, 'box');
      expectOk(await wb.run(['pull', '-q', `${reg.host}/${REPOS.multiarch}`, ...args, '-o', box], { env: e.vars }));
      expect(await boxText(box, '/etc/arch')).toBe(`${arch}\n`);
      expect(JSON.parse(await readFile(join(box, 'config.json'), 'utf8')).architecture).toBe(arch.split('/')[1]);
    });

    it('takes --insecure-registry before the reference (repeatable options take one value each)', async () => {
      const e = await env();
      const run = expectOk(await wb.run(['pull', '--insecure-registry', reg.host, '-q', `${reg.host}/${REPOS.layers}`, '--insecure-registry', 'other:5000'], { env: e.vars }));
      expect(run.stdout).toMatch(/^127\.0\.0\.1:\d+\/wasmbox\/layers@sha256:[0-9a-f]{64}\n$/);
    });

    it('lists the index\'s platforms when the asked one is missing', async () => {
      const e = await env();
      const run = await wb.run(['pull', `${reg.host}/${REPOS.multiarch}`, '--platform', 'linux/s390x'], { env: e.vars });
      expectFailure(run, /has no image for linux\/s390x\n\s+hint: it offers linux\/amd64, linux\/arm64, linux\/arm\/v7/);
    });

    it('runs the wasi/wasm entry of an index by default, and a wasi image with arguments', async () => {
      const e = await env();
      expect(expectOk(await wb.run(['run', `${reg.host}/${REPOS.mixed}`], { env: e.vars })).stdout).toBe(HELLO);
      expect(expectOk(await wb.run(['run', `${reg.host}/${REPOS.wasi}`, 'a b', 'c'], { env: e.vars })).stdout).toBe(`${HELLO}arg 1: a b\narg 2: c\n`);
    });

    it('run reuses the pulled image without asking the registry, and runs offline once the registry is gone', async () => {
      const e = await env();
      const own = await startRegistry();
      try {
        await pushWithSkopeo(own, `oci:${wasi.path}:latest`, REPOS.wasi);
        const proxy = await startFaultProxy(own.host);
        const viaProxy = `${proxy.host}/${REPOS.wasi}`;
        expect(expectOk(await wb.run(['run', viaProxy], { env: e.vars })).stdout).toBe(HELLO);
        const asked = proxy.requests.length;
        expect(asked).toBeGreaterThan(0);
        expect(expectOk(await wb.run(['run', '--pull', 'missing', viaProxy], { env: e.vars })).stdout).toBe(HELLO);
        expect(proxy.requests.length).toBe(asked);
        await proxy.stop();
        expect(expectOk(await wb.run(['run', `${own.host}/${REPOS.wasi}`], { env: e.vars })).stdout).toBe(HELLO);
        await own.stop();
        expect(expectOk(await wb.run(['run', `${own.host}/${REPOS.wasi}`], { env: e.vars })).stdout).toBe(HELLO);
        expectFailure(await wb.run(['run', '--pull', 'always', `${own.host}/${REPOS.wasi}`], { env: e.vars }), new RegExp(own.host.replace(/\./g, '\\.')));
      } finally {
        await own.stop();
      }
    });

    it('refuses --pull never on an empty cache, saying how to pull', async () => {
      const e = await env();
      const run = await wb.run(['run', '--pull', 'never', `${reg.host}/${REPOS.wasi}`], { env: e.vars });
      expectFailure(run, new RegExp(`not in the cache, and --pull=never forbids asking the registry\n\\s+hint: pull it first \\(wasmbox pull ${reg.host}/${REPOS.wasi}\\)`));
    });

    it('builds FROM and COPY --from registry images; pull and run --pull always see a re-pushed tag, plain run does not', async () => {
      const e = await env();
      const ctx = join(e.cache, 'ctx');
      await mkdir(ctx);
      await writeFile(join(ctx, 'Dockerfile'), `FROM ${reg.host}/${REPOS.wasi}\nCOPY --from=${reg.host}/${REPOS.layers} /etc/passwd /etc/from-layers\nCMD ["second"]\n`);
      const box = join(e.cache, 'built');
      expectOk(await wb.run(['build', '-q', '-o', box, ctx], { env: e.vars }));
      expect(await boxText(box, '/etc/from-layers')).toBe(await boxText(await pulledBox(e.vars), '/etc/passwd'));
      expect(expectOk(await wb.run(['run', box], { env: e.vars })).stdout).toBe(`${HELLO}arg 1: second\n`);

      // The tag moves: wasi, then the built box (wasmbox push), then wasi again (skopeo). Runs reuse the tag as
      // resolved before; `wasmbox pull` and `run --pull always` ask the registry again.
      const moving = `${reg.host}/wasmbox/moving:v1`;
      const runMoving = async (...flags: string[]) => expectOk(await wb.run(['run', ...flags, moving], { env: e.vars })).stdout;
      const pullMoving = async () => expectOk(await wb.run(['pull', '-q', moving], { env: e.vars })).stdout;
      await pushWithSkopeo(reg, `oci:${wasi.path}:latest`, 'wasmbox/moving:v1');
      expect(await runMoving()).toBe(HELLO);
      const first = await pullMoving();
      expectOk(await wb.run(['push', '-q', box, moving], { env: e.vars }));
      expect(await runMoving()).toBe(HELLO);
      const second = await pullMoving();
      expect(second).toMatch(/^127\.0\.0\.1:\d+\/wasmbox\/moving@sha256:[0-9a-f]{64}\n$/);
      expect(second).not.toBe(first);
      expect(await runMoving()).toBe(`${HELLO}arg 1: second\n`);
      await pushWithSkopeo(reg, `oci:${wasi.path}:latest`, 'wasmbox/moving:v1');
      expect(await runMoving()).toBe(`${HELLO}arg 1: second\n`);
      expect(await runMoving('--pull', 'always')).toBe(HELLO);
      expect(await runMoving()).toBe(HELLO);
    });

    it('builds FROM --platform on a one-image repository of another platform with a warning naming the line, as BuildKit does', async () => {
      const e = await env();
      const ctx = join(e.cache, 'ctx-platform');
      await mkdir(ctx);
      await writeFile(join(ctx, 'Dockerfile'), `# a base for arm64\nFROM --platform=linux/arm64 ${reg.host}/${REPOS.layers}\n`);
      const run = expectOk(await wb.run(['build', '-o', join(e.cache, 'built-platform'), ctx], { env: e.vars }));
      expect(run.stdout + run.stderr).toMatch(/warning: .*Dockerfile:2: FROM 127\.0\.0\.1:\d+\/wasmbox\/layers:v1: the image is linux\/amd64, not linux\/arm64/);
    });

    /** Pulls the layers image as a box and returns its directory. */
    async function pulledBox(vars: NodeJS.ProcessEnv): Promise<string> {
      const dir = join(vars.WASMBOX_CACHE_DIR!, 'layers-box');
      expectOk(await wb.run(['pull', '-q', `${reg.host}/${REPOS.layers}`, '-o', dir], { env: vars }));
      return dir;
    }

    it('lets two pull processes share one cache, each blob stored once', async () => {
      const e = await env();
      const runs = await Promise.all([0, 1].map(() => wb.run(['pull', '-q', `${reg.host}/${REPOS.layers}`], { env: e.vars })));
      for (const run of runs) expect(expectOk(run).stdout).toMatch(/wasmbox\/layers@sha256:/);
      const files = await blobFiles(e.cache);
      expect(files).toHaveLength(6);
      expect(files.filter((f) => !BLOB.test(f))).toEqual([]);
    });

    it('shows a pulled image in cache ls, and cache prune keeps the blobs and box it reaches', async () => {
      const e = await env();
      expectOk(await wb.run(['pull', '-q', `${reg.host}/${REPOS.layers}`], { env: e.vars }));
      expect(expectOk(await wb.run(['run', `${reg.host}/${REPOS.wasi}`], { env: e.vars })).stdout).toBe(HELLO);
      const ls = expectOk(await wb.run(['cache', 'ls'], { env: e.vars })).stdout;
      for (const repo of [REPOS.layers, REPOS.wasi]) expect(ls).toMatch(new RegExp(`^${reg.host}/${repo} +[0-9a-f]{12} `, 'm'));
      expect(ls).toMatch(/^Boxes +1 +1 /m);
      const junk = new TextEncoder().encode('reachable from nothing');
      await BlobCache.open(join(e.cache, 'blobs')).putBytes(digestOf(junk), junk);
      const kept = (await blobFiles(e.cache)).filter((f) => f !== `sha256/${digestOf(junk).slice(7)}`);
      expect(kept).toHaveLength(9);
      expect(expectOk(await wb.run(['cache', 'prune', '--filter', 'until=0s'], { env: e.vars })).stdout).toMatch(/^Deleted 1 file\n/m);
      expect(await blobFiles(e.cache)).toEqual(kept);
      expect(expectOk(await wb.run(['cache', 'ls'], { env: e.vars })).stdout).toMatch(/^Boxes +1 +1 /m);
      expect(expectOk(await wb.run(['run', '--pull', 'never', `${reg.host}/${REPOS.wasi}`], { env: e.vars })).stdout).toBe(HELLO);
    });

    describe('faults', () => {
      const layerDigests = async (): Promise<string[]> => (await manifestOf(layers.path)).layers.map((l) => l.digest);
      const blob = (digest: string) => new RegExp(`/blobs/${digest}$`);
      // `blobs`: how many the cache holds after (undefined: it depends on which downloads had finished).
      const CASES: { name: string; faults: (layer: string[]) => Fault[]; code: number; stderr?: RegExp; blobs?: number }[] = [
        { name: '503 with Retry-After, then success', faults: () => [{ method: 'GET', path: /\/manifests\/v1$/, action: { status: 503, retryAfter: 1 } }], code: 0, blobs: 6 },
        { name: 'a layer cut short, fetched again', faults: (l) => [{ method: 'GET', path: blob(l[2]), action: { truncateAfter: 1000 } }], code: 0, blobs: 6 },
        { name: 'a damaged layer: DIGEST, nothing cached', faults: (l) => [{ method: 'GET', path: blob(l[0]), times: 5, action: { corrupt: true } }], code: 1, stderr: /does not match its digest: expected sha256:/ },
        { name: '503 on every try: the registry, the reference and the status', faults: () => [{ method: 'GET', path: /\/manifests\/v1$/, times: 10, action: { status: 503, retryAfter: 0 } }], code: 1, stderr: /wasmbox\/layers:v1[^]*503|503[^]*wasmbox\/layers:v1/, blobs: 0 },
      ];

      it.each(CASES)('$name', async ({ faults, code, stderr, blobs }) => {
        const e = await env();
        const proxy = await startFaultProxy(reg.host);
        try {
          const digests = await layerDigests();
          proxy.add(...faults(digests));
          const run = await wb.run(['pull', `${proxy.host}/${REPOS.layers}`], { env: e.vars });
          if (code === 0) expect(expectOk(run).stdout).toMatch(/^Status: Downloaded 4 of 4 layer/m);
          else expectFailure(run, stderr!);
          if (code !== 0) expect(run.stderr).toContain(proxy.host);
          const files = await blobFiles(e.cache);
          expect(files.filter((f) => !BLOB.test(f))).toEqual([]);
          if (blobs !== undefined) expect(files).toHaveLength(blobs);
          if (code !== 0) expect(files).not.toContain(`sha256/${digests[0].slice(7)}`);
        } finally {
          await proxy.stop();
        }
      });
    });

    describe('faults while running (layers read as they download)', () => {
      const wasiLayer = async (): Promise<string> => (await manifestOf(wasi.path)).layers[0].digest;
      const CASES: { name: string; action: Fault['action']; code: number; stdout: string; stderr?: RegExp; blobs: number }[] = [
        { name: 'a layer cut short is fetched again', action: { truncateAfter: 20_000 }, code: 0, stdout: HELLO, blobs: 3 },
        { name: 'a damaged layer fails and is not cached', action: { corrupt: true }, code: 125, stdout: '', stderr: /layer sha256:[0-9a-f]{64}/, blobs: 2 },
      ];

      it.each(CASES)('$name', async ({ action, code, stdout, stderr, blobs }) => {
        const e = await env();
        const proxy = await startFaultProxy(reg.host);
        try {
          const layer = await wasiLayer();
          proxy.add({ method: 'GET', path: new RegExp(`/blobs/${layer}$`), times: code === 0 ? 1 : 5, action });
          const run = await wb.run(['run', `${proxy.host}/${REPOS.wasi}`], { env: e.vars });
          if (code === 0) expect(expectOk(run).stdout).toBe(stdout);
          else expectFailure(run, stderr!);
          expect(run.code).toBe(code);
          const files = await blobFiles(e.cache);
          expect(files.filter((f) => !BLOB.test(f))).toEqual([]);
          expect(files).toHaveLength(blobs);
          expect(files.includes(`sha256/${layer.slice(7)}`)).toBe(code === 0);
        } finally {
          await proxy.stop();
        }
      });
    });

    const FAILURES: { name: string; args: () => string[]; stderr: () => RegExp }[] = [
      { name: 'a tag the registry does not have', args: () => ['pull', `${reg.host}/wasmbox/layers:nope`], stderr: () => new RegExp(`${reg.host}/wasmbox/layers:nope was not found on registry ${reg.host}`) },
      { name: 'a repository the registry does not have (run)', args: () => ['run', `${reg.host}/wasmbox/nothing:v1`], stderr: () => new RegExp(`${reg.host}/wasmbox/nothing:v1 was not found on registry ${reg.host}`) },
      { name: 'an invalid reference', args: () => ['pull', `${reg.host}/Wasmbox/Layers:v1`], stderr: () => /Wasmbox\/Layers/ },
      { name: 'a bad --pull value', args: () => ['run', '--pull', 'sometimes', `${reg.host}/${REPOS.wasi}`], stderr: () => /--pull must be missing, always or never/ },
      { name: 'a bad --platform', args: () => ['pull', '--platform', 'linux/', `${reg.host}/${REPOS.multiarch}`], stderr: () => /is not a platform/ },
      { name: '--platform naming another platform than a one-image repository has (pull)', args: () => ['pull', '--platform', 'linux/arm64', `${reg.host}/${REPOS.layers}`], stderr: () => /--platform: 127\.0\.0\.1:\d+\/wasmbox\/layers:v1 is a linux\/amd64 image, not linux\/arm64\n\s+hint: .*--platform linux\/amd64/ },
      { name: '--platform naming another platform than a one-image repository has (run)', args: () => ['run', '--platform', 'linux/amd64', `${reg.host}/${REPOS.wasi}`], stderr: () => /wasmbox\/wasi:v1 is a wasi\/wasm image, not linux\/amd64/ },
      { name: 'a bad --insecure-registry', args: () => ['pull', '--insecure-registry', 'http://x/y', `${reg.host}/${REPOS.layers}`], stderr: () => /--insecure-registry: "http:\/\/x\/y" is not a registry host/ },
    ];

    it.each(FAILURES)('fails clearly on $name', async ({ args, stderr }) => {
      const e = await env();
      expectFailure(await wb.run(args(), { env: e.vars }), stderr());
    });
  });
});
