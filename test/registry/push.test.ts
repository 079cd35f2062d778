// Pushing boxes to Debian's real docker-registry in each auth mode: what skopeo sees (an index for wasi/wasm),
// a skopeo pull flattening back to the same box files, blobs found or mounted instead of uploaded, chunked
// uploads, and `wasmbox push` itself (its output, its mount record, its errors).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { treeDiffId } from '../../src/box/canonical-tar.js';
import { BOX_PLATFORM } from '../../src/box/oci-image.js';
import { writeBox } from '../../src/box/pack.js';
import { runPush } from '../../src/cli/push.js';
import { WasmboxError } from '../../src/errors.js';
import { flattenImage } from '../../src/fs/flatten.js';
import { IMPLICIT_DIR, type Tree } from '../../src/fs/tree.js';
import { dirStore } from '../../src/image/blobs.js';
import { openOciLayout } from '../../src/image/oci-layout.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pushBox, type PushEvent } from '../../src/registry/push.js';
import { parseRegistryRef } from '../../src/registry/reference.js';
import { file, sampleConfig, sampleTree } from '../box/sample-tree.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { scratchDir } from '../helpers/fixtures.js';
import { registryMissing, skopeo, startRegistry, type RegistryAuth, type TestRegistry } from '../helpers/registry.js';

const why = registryMissing();
const skipped = why ? ` (skipped: ${why})` : '';
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const BOX_FILES = ['box.json', 'config.json', 'rootfs.wbfs'];

let work: string;
let remove: () => Promise<void>;
let small: string;
let large: string;
beforeAll(async () => {
  ({ dir: work, remove } = await scratchDir('wasmbox-push-'));
  // The layer's temporary file goes under TMPDIR: a private one shows whether a push leaves anything behind.
  process.env.TMPDIR = join(work, 'tmp');
  await mkdir(process.env.TMPDIR);
  small = await makeBox('small', sampleTree());
  // Random bytes do not compress: a layer of ~300 kB, many chunks at a small chunk size.
  const tree = sampleTree();
  tree.put('/data/random.bin', file(randomBytes(300_000)));
  large = await makeBox('large', tree);
});
afterAll(async () => remove());

async function makeBox(name: string, tree: Tree): Promise<string> {
  // canonicalTar has no root entry, so only the implicit root comes back byte for byte (see test/box/oci-image.test.ts).
  Object.assign(tree.root, IMPLICIT_DIR);
  const config = sampleConfig();
  config.rootfs.diff_ids = [await treeDiffId(tree)];
  await writeBox(join(work, name), tree, config);
  return join(work, name);
}

/** A docker config dir with the registry's credentials for each host (the registry and proxies in front of it). */
async function dockerConfig(reg: TestRegistry, hosts: string[] = [reg.host]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmbox-push-docker-'));
  const auth = { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') };
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: reg.auth === 'none' ? {} : Object.fromEntries(hosts.map((h) => [h, auth])) }));
  return dir;
}

const clientWith = (config: string) => new RegistryClient({ backoffMs: 1, env: { DOCKER_CONFIG: config, PATH: process.env.PATH } });
const creds = (reg: TestRegistry, flag: string) => (reg.auth === 'none' ? [] : [flag, `${reg.username}:${reg.password}`]);
const statuses = (events: PushEvent[]) => events.flatMap((e) => (e.kind === 'blob' ? [`${e.what} ${e.status}${e.from ? ` ${e.from}` : ''}`] : []));

async function boxFiles(dir: string): Promise<string[]> {
  return Promise.all(BOX_FILES.map(async (n) => (n === 'box.json' ? readFile(join(dir, n), 'utf8') : sha(await readFile(join(dir, n))))));
}

const MODES: RegistryAuth[] = ['none', 'htpasswd', 'token'];

describe.skipIf(why)(`pushBox to docker-registry${skipped}`, () => {
  describe.each(MODES)('auth %s', (auth) => {
    let reg: TestRegistry;
    let config: string;
    beforeAll(async () => {
      reg = await startRegistry({ auth });
      config = await dockerConfig(reg);
    });
    afterAll(async () => {
      await reg?.stop();
      await rm(config, { recursive: true, force: true });
    });

    it('pushes an index for wasi/wasm that skopeo reads and copies back to the same box', async () => {
      const events: PushEvent[] = [];
      const ref = parseRegistryRef(`${reg.host}/boxes/small:v1`);
      const result = await pushBox(small, ref, clientWith(config), { onProgress: (e) => events.push(e) });
      expect(statuses(events)).toEqual(['layer pushing', 'layer pushed', 'config pushing', 'config pushed']);
      expect(events.filter((e) => e.kind === 'manifest').map((e) => (e as { what: string }).what)).toEqual(['manifest', 'index']);

      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', ...creds(reg, '--creds'), `docker://${reg.host}/boxes/small:v1`]);
      expect(sha(Buffer.from(raw))).toBe(result.digest);
      const index = JSON.parse(raw);
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      expect(index.manifests).toEqual([expect.objectContaining({ digest: result.manifestDigest, platform: { architecture: 'wasm', os: 'wasi' } })]);

      const back = join(work, `pulled-${auth}`);
      await skopeo(['copy', '--quiet', '--all', '--src-tls-verify=false', ...creds(reg, '--src-creds'), `docker://${reg.host}/boxes/small:v1`, `oci:${back}:v1`]);
      const source = await openOciLayout(dirStore(back), back, { tag: 'v1', platform: { ...BOX_PLATFORM }, platformExplicit: true });
      await writeBox(join(work, `unpacked-${auth}`), await flattenImage(await source.layers()), await source.config());
      expect(await boxFiles(join(work, `unpacked-${auth}`))).toEqual(await boxFiles(small));
    });

    it('finds every blob already there on a second push', async () => {
      const events: PushEvent[] = [];
      const ref = parseRegistryRef(`${reg.host}/boxes/small:v2`);
      const again = await pushBox(small, ref, clientWith(config), { onProgress: (e) => events.push(e) });
      expect(statuses(events)).toEqual(['layer exists', 'config exists']);
      expect(again.blobs.map((b) => b.status)).toEqual(['exists', 'exists']);
    });
  });

  describe('through a recording proxy (no auth)', () => {
    let reg: TestRegistry;
    let proxy: FaultProxy;
    let config: string;
    beforeAll(async () => {
      reg = await startRegistry();
      proxy = await startFaultProxy(reg.host);
      config = await dockerConfig(reg);
    });
    afterAll(async () => {
      await proxy?.stop();
      await reg?.stop();
      await rm(config, { recursive: true, force: true });
    });
    afterEach(() => {
      proxy.requests.length = 0;
    });

    it('uploads a large layer in chunks of the size asked for', async () => {
      const ref = parseRegistryRef(`${proxy.host}/boxes/large:v1`);
      const result = await pushBox(large, ref, clientWith(config), { chunkSize: 64 << 10 });
      const patches = proxy.requests.filter((r) => r.method === 'PATCH');
      const layer = result.blobs[0];
      expect(layer.size).toBeGreaterThan(300_000);
      expect(patches.length).toBe(Math.ceil(layer.size / (64 << 10)));
      expect(patches.every((r) => r.status === 202)).toBe(true);
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/boxes/large:v1`]);
      expect(sha(Buffer.from(raw))).toBe(result.digest);
    });

    it('mounts blobs from another repository instead of uploading them', async () => {
      const first = await pushBox(small, parseRegistryRef(`${proxy.host}/team-a/app:v1`), clientWith(config));
      proxy.requests.length = 0;
      const events: PushEvent[] = [];
      const second = await pushBox(small, parseRegistryRef(`${proxy.host}/team-b/app:v1`), clientWith(config), {
        onProgress: (e) => events.push(e),
        mountFrom: () => 'team-a/app',
      });
      expect(second.digest).toBe(first.digest);
      expect(statuses(events)).toEqual(['layer mounted team-a/app', 'config mounted team-a/app']);
      expect(proxy.requests.filter((r) => /\/blobs\/uploads\/\?.*mount=/.test(r.path)).map((r) => r.status)).toEqual([201, 201]);
      expect(proxy.requests.some((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/')))).toBe(false);
    });

    it('uploads when the mount source does not have the blob', async () => {
      const events: PushEvent[] = [];
      await pushBox(large, parseRegistryRef(`${proxy.host}/team-c/app:v1`), clientWith(config), { onProgress: (e) => events.push(e), mountFrom: () => 'nobody/here' });
      expect(statuses(events)).toEqual(['layer pushing', 'layer pushed', 'config pushing', 'config pushed']);
      expect(proxy.requests.filter((r) => /mount=/.test(r.path)).map((r) => r.status)).toEqual([202, 202]);
    });

    it('fails with the registry named when it keeps failing, leaving no temporary file', async () => {
      proxy.add({ method: 'PUT', path: /\/manifests\//, times: 10, action: { status: 500 } });
      const ref = parseRegistryRef(`${proxy.host}/boxes/failing:v1`);
      const err = await pushBox(small, ref, new RegistryClient({ backoffMs: 1, retries: 1, env: { DOCKER_CONFIG: config, PATH: process.env.PATH } })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WasmboxError);
      expect([(err as WasmboxError).code, (err as WasmboxError).message]).toEqual(['REGISTRY', expect.stringContaining(proxy.host)]);
      expect((await readdir(process.env.TMPDIR!)).filter((n) => n.startsWith('wasmbox-layer-'))).toEqual([]);
    });

    it('refuses a digest reference that is not the box', async () => {
      const ref = parseRegistryRef(`${proxy.host}/boxes/small@sha256:${'0'.repeat(64)}`);
      const err = await pushBox(small, ref, clientWith(config)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WasmboxError);
      expect((err as WasmboxError).message).toMatch(/names digest sha256:0000.* but this box's image index is sha256:/);
    });
  });
});

describe.skipIf(why)(`wasmbox push${skipped}`, () => {
  let reg: TestRegistry;
  let config: string;
  let cache: string;
  const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, WASMBOX_CACHE_DIR: process.env.WASMBOX_CACHE_DIR };
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
    config = await dockerConfig(reg);
    cache = await mkdtemp(join(tmpdir(), 'wasmbox-push-cache-'));
    Object.assign(process.env, { DOCKER_CONFIG: config, WASMBOX_CACHE_DIR: cache });
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
    await reg?.stop();
    await Promise.all([config, cache].map((d) => rm(d, { recursive: true, force: true })));
  });

  /** Runs `wasmbox push` in this process, capturing what it writes. */
  async function push(box: string, ref: string): Promise<{ stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => (out.push(String(c)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => (err.push(String(c)), true));
    try {
      await runPush({ box, ref, insecureRegistry: [], quiet: false });
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    return { stdout: out.join(''), stderr: err.join('') };
  }

  it('prints progress on stderr and the pinned reference on stdout, then mounts into another repository', async () => {
    const first = await push(small, `${reg.host}/cli/app:1.0`);
    expect(first.stdout).toMatch(new RegExp(`^${reg.host}/cli/app@sha256:[0-9a-f]{64}\\n$`));
    expect(first.stderr).toMatch(/^pushing sha256:[0-9a-f]{12}… \d+(\.\d)? k?B \(layer\)$/m);
    expect(first.stderr).toMatch(/^pushed sha256:[0-9a-f]{12}… \(config\)$/m);
    expect(first.stderr).toMatch(/^index sha256:[0-9a-f]{64}, tagged 1\.0$/m);
    const again = await push(small, `${reg.host}/cli/app:1.1`);
    expect(again.stderr).toMatch(/^exists sha256:[0-9a-f]{12}… \(layer\)$/m);
    const other = await push(small, `${reg.host}/cli/other:1.0`);
    expect(other.stderr).toMatch(/^mounted sha256:[0-9a-f]{12}… from cli\/app \(layer\)$/m);
    expect(other.stdout.split('@')[1]).toBe(first.stdout.split('@')[1]);
    // skopeo sees the pushed reference as printed.
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', `${reg.username}:${reg.password}`, `docker://${first.stdout.trim()}`]);
    expect(sha(Buffer.from(raw))).toBe(first.stdout.trim().split('@')[1]);
  });

  it.each([
    ['a missing box', () => join(work, 'missing'), () => `${reg.host}/x:1`, /missing does not exist/, /wasmbox build -o/],
    ['a directory that is not a box', () => work, () => `${reg.host}/x:1`, /has no box.json, so it is not a box/, /wasmbox build -o/],
    ['the arguments swapped', () => `${reg.host}/x:1`, () => small, /does not exist/, /the box comes first: wasmbox push/],
  ])('refuses %s clearly', async (_name, box, ref, message, hint) => {
    const err = await push(box(), ref()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasmboxError);
    expect([(err as WasmboxError).code, (err as WasmboxError).message, (err as WasmboxError).hint]).toEqual(['BOX_NOT_FOUND', expect.stringMatching(message), expect.stringMatching(hint)]);
  });
});
