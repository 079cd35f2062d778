// The registry client against Debian's real docker-registry (no auth, htpasswd, token), directly and through
// the fault-injecting proxy: push with our client, read back with it and with skopeo, and every failure mode.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmboxError } from '../../src/errors.js';
import { MAX_JSON_BYTES } from '../../src/image/blobs.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/client.js';
import { parseRegistryRef, type RegistryRef } from '../../src/registry/reference.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { fixture, missingReason } from '../helpers/fixtures.js';
import { pushWithSkopeo, registryMissing, skopeo, startRegistry, type RegistryAuth, type TestRegistry } from '../helpers/registry.js';

const why = registryMissing();
const skipped = why ? ` (skipped: ${why})` : '';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Blob {
  digest: string;
  bytes: Uint8Array;
}
const blob = (bytes: Uint8Array): Blob => ({ bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` });
const json = (value: unknown) => blob(Buffer.from(JSON.stringify(value)));

/** A small image: a config, one random layer of `size` bytes, and its OCI manifest. */
function image(size = 1000) {
  const layer = blob(randomBytes(size));
  const config = json({ architecture: 'wasm', os: 'wasi', rootfs: { type: 'layers', diff_ids: [layer.digest] } });
  const descriptor = (b: Blob, mediaType: string) => ({ mediaType, digest: b.digest, size: b.bytes.length });
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(config, 'application/vnd.oci.image.config.v1+json'),
    layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
  });
  return { layer, config, manifest };
}

/** A source that hands the bytes over in uneven pieces, as a file stream would. */
const source = (bytes: Uint8Array) =>
  async function* () {
    for (let at = 0; at < bytes.length; at += 7777) yield bytes.subarray(at, at + 7777);
  };

async function push(client: RegistryClient, ref: RegistryRef, img = image(), tag = 'v1'): Promise<string> {
  for (const b of [img.config, img.layer]) await client.uploadBlob(ref, b.digest, b.bytes.length, source(b.bytes));
  return client.putManifest(ref, tag, img.manifest.bytes, OCI_MANIFEST);
}

async function readBlob(client: RegistryClient, ref: RegistryRef, digest: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of await client.openBlob(ref, digest)) parts.push(chunk);
  return Buffer.concat(parts);
}

async function failure(promise: Promise<unknown>): Promise<WasmboxError> {
  return promise.then(() => { throw new Error('expected a failure'); }, (error: WasmboxError) => error);
}

/** A docker config dir holding `user:password` for `host`, removed after the file's tests. */
const homes: string[] = [];
afterAll(() => Promise.all(homes.map((d) => rm(d, { recursive: true, force: true }))));
async function clientFor(reg: TestRegistry, login?: string, opts: RegistryClientOptions = {}): Promise<RegistryClient> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmbox-client-'));
  homes.push(dir);
  const auths = login ? { [reg.host]: { auth: Buffer.from(login).toString('base64') } } : {};
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }));
  return new RegistryClient({ backoffMs: 1, ...opts, env: { DOCKER_CONFIG: dir, PATH: process.env.PATH } });
}

describe.skipIf(why)(`RegistryClient against docker-registry${skipped}`, () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const ref = (text: string) => parseRegistryRef(`${reg.host}/${text}`);
  beforeAll(async () => {
    reg = await startRegistry();
    client = await clientFor(reg);
  });
  afterAll(() => reg?.stop());

  it('pushes blobs and a manifest, then reads them back by tag and digest', async () => {
    const img = image();
    const app = ref('org/app:v1');
    const digest = await push(client, app, img);
    expect(digest).toBe(img.manifest.digest);
    const byTag = await client.getManifest(app, 'v1');
    expect(byTag).toEqual({ bytes: expect.anything(), mediaType: OCI_MANIFEST, digest });
    expect(Buffer.from(byTag.bytes).equals(img.manifest.bytes)).toBe(true);
    expect((await client.getManifest(app, digest)).digest).toBe(digest);
    expect(await client.headManifest(app, 'v1')).toEqual({ digest, mediaType: OCI_MANIFEST });
    expect((await readBlob(client, app, img.layer.digest)).equals(img.layer.bytes)).toBe(true);
    expect(await client.hasBlob(app, img.config.digest)).toBe(true);
    expect(await client.hasBlob(app, blob(Buffer.from('absent')).digest)).toBe(false);
    // Another tool sees exactly what we pushed.
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/org/app:v1`]);
    expect(raw).toBe(Buffer.from(img.manifest.bytes).toString());
  });

  it('reads an image pushed by skopeo, every blob matching its digest', async (ctx) => {
    const layers = fixture('layers');
    const reason = missingReason(layers);
    if (reason) return ctx.skip(reason);
    await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'fixtures/layers:latest', { format: 'v2s2' });
    const fixtureRef = ref('fixtures/layers');
    const got = await client.getManifest(fixtureRef, 'latest');
    expect(got.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const manifest = JSON.parse(Buffer.from(got.bytes).toString()) as { config: { digest: string }; layers: { digest: string }[] };
    for (const { digest } of [manifest.config, ...manifest.layers]) expect(blob(await readBlob(client, fixtureRef, digest)).digest).toBe(digest);
  });

  it('uploads large blobs in chunks of chunkSize, reporting progress', async () => {
    const proxy = await startFaultProxy(reg.host);
    try {
      const big = blob(randomBytes(300_000));
      const target = parseRegistryRef(`${proxy.host}/org/chunked:v1`);
      const progress: number[] = [];
      await client.uploadBlob(target, big.digest, big.bytes.length, source(big.bytes), { chunkSize: 65536, onProgress: (n) => progress.push(n) });
      expect(progress).toEqual([65536, 131072, 196608, 262144, 300000]);
      expect(proxy.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 202', ...Array(5).fill('PATCH 202'), 'PUT 201']);
      expect((await readBlob(client, target, big.digest)).equals(big.bytes)).toBe(true);
    } finally {
      await proxy.stop();
    }
  });

  it('mounts a blob from another repository, and says false when it cannot', async () => {
    const img = image();
    await push(client, ref('org/base:v1'), img);
    const other = ref('org/derived:v1');
    expect(await client.hasBlob(other, img.layer.digest)).toBe(false);
    expect(await client.mountBlob(other, img.layer.digest, 'org/base')).toBe(true);
    expect(await client.hasBlob(other, img.layer.digest)).toBe(true);
    expect(await client.mountBlob(other, blob(Buffer.from('nowhere')).digest, 'org/base')).toBe(false);
  });

  it('refuses a blob whose source does not match its digest, before committing it', async () => {
    const good = blob(Buffer.from('promised bytes'));
    const error = await failure(client.uploadBlob(ref('org/app:v1'), good.digest, good.bytes.length, source(Buffer.from('other bytes!!!'))));
    expect(error).toMatchObject({ code: 'DIGEST' });
    expect(await client.hasBlob(ref('org/app:v1'), good.digest)).toBe(false);
  });

  // One row per missing thing: how to ask, and what the message must name.
  it.each([
    ['a tag', (c: RegistryClient, r: RegistryRef) => c.getManifest(r, 'nope'), 'org/app:nope'],
    ['a repository', (c: RegistryClient, r: RegistryRef) => c.getManifest({ ...r, repository: 'no/such' }, 'v1'), 'no/such:v1'],
    ['a blob', (c: RegistryClient, r: RegistryRef) => c.openBlob(r, blob(Buffer.from('gone')).digest), 'org/app'],
  ] as [string, (c: RegistryClient, r: RegistryRef) => Promise<unknown>, string][])('answers a missing %s with IMAGE_NOT_FOUND', async (_, ask, named) => {
    await push(client, ref('org/app:v1'));
    const error = await failure(ask(client, ref('org/app:v1')));
    expect(error).toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    expect(error.message).toContain(named);
    expect(error.message).toContain(reg.host);
    expect(await client.headManifest(ref('org/app:v1'), 'nope')).toBeUndefined();
  });

  describe('through the fault proxy', () => {
    let proxy: FaultProxy;
    let img: ReturnType<typeof image>;
    const via = () => parseRegistryRef(`${proxy.host}/org/faulty:v1`);
    beforeAll(async () => {
      proxy = await startFaultProxy(reg.host);
      img = image(50_000);
      await push(client, via(), img);
    });
    afterAll(() => proxy?.stop());

    it('retries 503, 429 and resets, honouring Retry-After', async () => {
      const lines: string[] = [];
      const c = await clientFor(reg, undefined, { log: (l) => lines.push(l) });
      proxy.add(
        { method: 'GET', path: /manifests\/v1$/, times: 2, action: { status: 503, retryAfter: 0 } },
        { method: 'GET', path: /blobs\/sha256:/, action: { reset: true } },
        { method: 'HEAD', path: /blobs\/sha256:/, action: { status: 429, retryAfter: 1 } },
      );
      const started = Date.now();
      expect((await c.getManifest(via(), 'v1')).digest).toBe(img.manifest.digest);
      expect((await readBlob(c, via(), img.layer.digest)).equals(img.layer.bytes)).toBe(true);
      expect(await c.hasBlob(via(), img.layer.digest)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(lines.map((l) => l.replace(/ in .*/, ''))).toEqual([
        `retrying GET http://${proxy.host}/v2/org/faulty/manifests/v1: 503 (2/5)`,
        `retrying GET http://${proxy.host}/v2/org/faulty/manifests/v1: 503 (3/5)`,
        expect.stringMatching(new RegExp(`^retrying GET http://${proxy.host}/v2/org/faulty/blobs/sha256:\\w+: .*(ECONNRESET|socket|closed).* \\(2/5\\)$`)),
        `retrying HEAD http://${proxy.host}/v2/org/faulty/blobs/${img.layer.digest}: 429 (2/5)`,
      ]);
    });

    it('names the registry, the reference and the status after the last try', async () => {
      const c = await clientFor(reg, undefined, { retries: 2 });
      proxy.add({ method: 'GET', path: /manifests\/v1$/, times: 3, action: { status: 502 } });
      const error = await failure(c.getManifest(via(), 'v1'));
      expect(error).toMatchObject({ code: 'REGISTRY', status: 502 });
      for (const part of [proxy.host, `${proxy.host}/org/faulty:v1`, 'GET', 'HTTP 502', 'after 3 tries']) expect(error.message).toContain(part);
    });

    it('restarts an upload whose chunk failed', async () => {
      const big = blob(randomBytes(200_000));
      proxy.add({ method: 'PATCH', path: /blobs\/uploads\//, action: { status: 503 } });
      const first = proxy.requests.length;
      await client.uploadBlob(via(), big.digest, big.bytes.length, source(big.bytes), { chunkSize: 100_000 });
      expect(proxy.requests.slice(first).map((r) => `${r.method} ${r.status}`)).toEqual(['POST 202', 'PATCH 503', 'POST 202', 'PATCH 202', 'PATCH 202', 'PUT 201']);
      expect((await readBlob(client, via(), big.digest)).equals(big.bytes)).toBe(true);
    });

    it.each([
      ['by tag (Docker-Content-Digest)', 'v1'],
      ['by digest', 'digest'],
    ])('refuses a corrupted manifest asked %s', async (_, reference) => {
      proxy.add({ method: 'GET', path: /manifests\//, action: { corrupt: true } });
      const error = await failure(client.getManifest(via(), reference === 'digest' ? img.manifest.digest : reference));
      expect(error).toMatchObject({ code: 'DIGEST' });
      expect(error.message).toContain(img.manifest.digest);
    });

    it('hands a blob cut short to its reader as a retriable error', async () => {
      proxy.add({ method: 'GET', path: /blobs\/sha256:/, action: { truncateAfter: 1000 } });
      const error = await failure(readBlob(client, via(), img.layer.digest));
      expect(error).toMatchObject({ code: 'REGISTRY', retriable: true });
      expect(error.message).toMatch(/cut off after \d+ of 50000 bytes/);
    });
  });
});

describe.skipIf(why).each(['htpasswd', 'token'] as RegistryAuth[])(`RegistryClient with %s auth${skipped}`, (auth) => {
  let reg: TestRegistry;
  const ref = (text: string) => parseRegistryRef(`${reg.host}/${text}`);
  beforeAll(async () => {
    reg = await startRegistry({ auth });
  });
  afterAll(() => reg?.stop());

  it('pushes, pulls and mounts with the stored login', async () => {
    const client = await clientFor(reg, `${reg.username}:${reg.password}`);
    const img = image();
    const tokensBefore = reg.token?.tokenRequests ?? 0;
    expect(await push(client, ref('team/app:v1'), img)).toBe(img.manifest.digest);
    expect((await client.getManifest(ref('team/app:v1'), 'v1')).digest).toBe(img.manifest.digest);
    expect((await readBlob(client, ref('team/app:v1'), img.layer.digest)).equals(img.layer.bytes)).toBe(true);
    expect(await client.hasBlob(ref('team/app:v1'), img.config.digest)).toBe(true);
    expect(await client.mountBlob(ref('team/copy:v1'), img.layer.digest, 'team/app')).toBe(true);
    expect(await client.hasBlob(ref('team/copy:v1'), img.layer.digest)).toBe(true);
    if (reg.token) {
      // One token per scope: push on team/app, pull on team/app, push+mount on team/copy, pull on team/copy.
      expect(reg.token.tokenRequests - tokensBefore).toBe(4);
    }
  });

  it('checks a login before it is saved, as docker login does', async () => {
    const client = await clientFor(reg);
    await client.checkLogin(reg.host, { username: reg.username, password: reg.password });
    const error = await failure((await clientFor(reg)).checkLogin(reg.host, { username: reg.username, password: 'nope' }));
    expect(error).toMatchObject({ code: 'REGISTRY_AUTH' });
    expect(error.message).toContain(`"${reg.username}"`);
    expect(error.hint).toContain(`wasmbox login ${reg.host}`);
  });

  // One row per bad login: the stored login (undefined = none) and what the message must name.
  it.each([
    ['a wrong password', 'wrong', ['"tester"']],
    ['no login', undefined, []],
  ] as [string, string | undefined, string[]][])('refuses %s with a clear REGISTRY_AUTH error', async (_, password, parts) => {
    const client = await clientFor(reg, password === undefined ? undefined : `${reg.username}:${password}`);
    const error = await failure(client.getManifest(ref('team/app:v1'), 'v1'));
    expect(error).toMatchObject({ code: 'REGISTRY_AUTH' });
    for (const part of [reg.host, ...parts]) expect(error.message).toContain(part);
    expect(error.hint).toContain(`wasmbox login ${reg.host}`);
    expect(error.message).not.toContain(reg.password);
  });
});

// A registry that answers a manifest too large to hold in memory must be refused, however it sends it.
describe('RegistryClient refuses oversized manifests', () => {
  it.each([
    ['declared by Content-Length', true],
    ['streamed without a length', false],
  ])('%s', async (_, declare) => {
    const server = createServer((req, res) => {
      if (declare) return void res.writeHead(200, { 'content-length': String(MAX_JSON_BYTES + 1) }).flushHeaders();
      res.writeHead(200, { 'content-type': OCI_MANIFEST });
      const piece = Buffer.alloc(1 << 20, 0x20);
      const more = (n: number): void => {
        while (n-- > 0) if (!res.write(piece)) return void res.once('drain', () => more(n));
        res.end();
      };
      more(40);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const error = await failure(new RegistryClient({ retries: 0 }).getManifest(parseRegistryRef(`${host}/big/app:v1`), 'v1'));
      expect(error).toMatchObject({ code: 'IMAGE_INVALID' });
      expect(error.message).toContain(`${host}/big/app:v1`);
      expect(error.message).toContain(`larger than ${MAX_JSON_BYTES} bytes`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
