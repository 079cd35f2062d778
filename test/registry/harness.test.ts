// The registry test harness itself: real docker-registry in each auth mode, skopeo pushes and pulls through
// it, the token server's keys, the fault proxy's actions, and the registry fixture images in their variants.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type Fault, type FaultProxy } from '../helpers/fault-proxy.js';
import { fixture, missingReason, scratchDir } from '../helpers/fixtures.js';
import { pushWithSkopeo, registryMissing, skopeo, startRegistry, type RegistryAuth, type TestRegistry } from '../helpers/registry.js';
import { makeSigningCert, startTokenServer } from '../helpers/token-server.js';

const layers = fixture('layers');
const multiarch = fixture('multiarch');
const wasi = fixture('wasi');
const why = registryMissing() ?? missingReason(layers);
const skipped = (reason?: string) => (reason ? ` (skipped: ${reason})` : '');
if (why) console.warn(`skipping the registry harness tests: ${why}`);

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const creds = (reg: TestRegistry, flag: string, password = reg.password) => (reg.auth === 'none' ? [] : [flag, `${reg.username}:${password}`]);

/** `skopeo inspect --raw` of a pushed image, parsed, with the raw text. */
async function inspectRaw(reg: TestRegistry, repoTag: string, password?: string): Promise<{ text: string; json: any }> {
  const text = await skopeo(['inspect', '--raw', '--tls-verify=false', ...creds(reg, '--creds', password), `docker://${reg.host}/${repoTag}`]);
  return { text, json: JSON.parse(text) };
}

const localRaw = async (layout: string, tag = 'latest') => skopeo(['inspect', '--raw', `oci:${layout}:${tag}`]);

const MODES: { auth: RegistryAuth; anonymous: number; challenge?: RegExp }[] = [
  { auth: 'none', anonymous: 200 },
  { auth: 'htpasswd', anonymous: 401, challenge: /^Basic realm="wasmbox-test"$/ },
  { auth: 'token', anonymous: 401, challenge: /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="wasmbox-test-registry"/ },
];

describe.skipIf(why)(`test registries${skipped(why)}`, () => {
  describe.each(MODES)('auth $auth', ({ auth, anonymous, challenge }) => {
    let reg: TestRegistry;
    beforeAll(async () => {
      reg = await startRegistry({ auth });
      await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/layers:v1');
    });
    afterAll(() => reg?.stop());

    it('takes a skopeo push and gives the same manifest back to skopeo copy', async () => {
      const pushed = await inspectRaw(reg, 'wasmbox/layers:v1');
      expect(pushed.text).toBe(await localRaw(layers.path));
      const back = await scratchDir('wasmbox-pulled-');
      try {
        await skopeo(['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', ...creds(reg, '--src-creds'), `docker://${reg.host}/wasmbox/layers:v1`, `oci:${back.dir}:back`]);
        expect(await localRaw(back.dir, 'back')).toBe(pushed.text);
      } finally {
        await back.remove();
      }
    });

    it(`answers ${anonymous} to anonymous clients`, async () => {
      const res = await fetch(`http://${reg.host}/v2/wasmbox/layers/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      await res.arrayBuffer();
      expect(res.status).toBe(anonymous);
      if (challenge) expect(res.headers.get('www-authenticate')).toMatch(challenge);
    });

    it.skipIf(auth === 'none')('refuses wrong credentials', async () => {
      await expect(inspectRaw(reg, 'wasmbox/layers:v1', 'wrong-password')).rejects.toThrow(/unauthorized|authentication required|401/i);
      const pushAgain = skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', `${reg.username}:nope`, `oci:${layers.path}:latest`, `docker://${reg.host}/wasmbox/other:v1`]);
      await expect(pushAgain).rejects.toThrow(/unauthorized|authentication required|401/i);
    });
  });

  describe('token server', () => {
    /** Fetches a token from `realm` for pull access to wasmbox/layers, optionally with Basic credentials. */
    const tokenFor = async (realm: string, authorization?: string) => {
      const res = await fetch(`${realm}?service=wasmbox-test-registry&scope=repository:wasmbox/layers:pull`, { headers: authorization ? { authorization } : {} });
      return { status: res.status, token: ((await res.json()) as { token?: string }).token };
    };
    const manifestStatus = async (reg: TestRegistry, token?: string) => {
      const headers: Record<string, string> = { accept: 'application/vnd.oci.image.manifest.v1+json' };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(`http://${reg.host}/v2/wasmbox/layers/manifests/v1`, { headers });
      await res.arrayBuffer();
      return res.status;
    };

    it.each(['x5c', 'kid'] as const)('signs tokens the registry accepts when the key is named by %s', async (tokenHeader) => {
      const reg = await startRegistry({ auth: 'token', tokenHeader });
      try {
        await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/layers:v1');
        const before = reg.token!.tokenRequests;
        const good = await tokenFor(reg.token!.realm, basic(reg.username, reg.password));
        expect(await manifestStatus(reg, good.token)).toBe(200);
        const anonymous = await tokenFor(reg.token!.realm);
        expect(anonymous.status).toBe(200);
        expect(await manifestStatus(reg, anonymous.token)).toBe(401);
        expect((await tokenFor(reg.token!.realm, basic(reg.username, 'wrong'))).status).toBe(401);
        expect(reg.token!.tokenRequests - before).toBe(3);
      } finally {
        await reg.stop();
      }
    });

    it('is refused by the registry when the token is signed by a key outside its rootcertbundle', async () => {
      const reg = await startRegistry({ auth: 'token' });
      const other = await scratchDir('wasmbox-otherkey-');
      const rogue = await startTokenServer({ ...(await makeSigningCert(other.dir)), username: 'u', password: 'p', service: 'wasmbox-test-registry', issuer: 'wasmbox-test-issuer' });
      try {
        await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/layers:v1');
        expect(await manifestStatus(reg, (await tokenFor(rogue.realm, basic('u', 'p'))).token)).toBe(401);
        expect(await manifestStatus(reg, (await tokenFor(reg.token!.realm, basic(reg.username, reg.password))).token)).toBe(200);
      } finally {
        await Promise.all([rogue.stop(), reg.stop(), other.remove()]);
      }
    });
  });

  describe('fault proxy', () => {
    let reg: TestRegistry;
    let proxy: FaultProxy;
    let blob: { digest: string; bytes: Buffer; url: () => string };
    beforeAll(async () => {
      reg = await startRegistry();
      await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/layers:v1');
      proxy = await startFaultProxy(reg.host);
      const manifest = (await inspectRaw(reg, 'wasmbox/layers:v1')).json;
      const { digest } = manifest.layers[0];
      const bytes = await readFile(join(layers.path, 'blobs', digest.replace(':', '/')));
      blob = { digest, bytes, url: () => `http://${proxy.host}/v2/wasmbox/layers/blobs/${digest}` };
    });
    afterAll(async () => {
      await proxy?.stop();
      await reg?.stop();
    });

    /** Reads a body chunk by chunk, keeping what arrived before any error. */
    const readAll = async (res: Response) => {
      const chunks: Uint8Array[] = [];
      let error: unknown;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
      } catch (err) {
        error = err;
      }
      return { bytes: Buffer.concat(chunks), error };
    };

    const CASES: { name: string; fault: Omit<Fault, 'path'>; check: (res: Response | Error) => Promise<void> }[] = [
      {
        name: '503 with Retry-After',
        fault: { action: { status: 503, retryAfter: 7 } },
        check: async (res) => {
          expect(res).toBeInstanceOf(Response);
          expect([(res as Response).status, (res as Response).headers.get('retry-after')]).toEqual([503, '7']);
          expect(await (res as Response).json()).toMatchObject({ errors: [{ code: 'INJECTED' }] });
        },
      },
      {
        name: 'truncated body',
        fault: { action: { truncateAfter: 100 } },
        check: async (res) => {
          expect((res as Response).headers.get('content-length')).toBe(String(blob.bytes.length));
          const { bytes, error } = await readAll(res as Response);
          expect(error).toBeDefined();
          expect(bytes).toEqual(blob.bytes.subarray(0, 100));
        },
      },
      {
        name: 'corrupted body',
        fault: { action: { corrupt: true } },
        check: async (res) => {
          const { bytes, error } = await readAll(res as Response);
          expect(error).toBeUndefined();
          expect(bytes.length).toBe(blob.bytes.length);
          expect(sha256(bytes)).not.toBe(blob.digest);
          expect([...bytes].filter((b, i) => b !== blob.bytes[i])).toHaveLength(1);
        },
      },
      {
        name: 'socket reset',
        fault: { action: { reset: true } },
        check: async (res) => {
          expect(res).toBeInstanceOf(Error);
          expect(String((res as Error & { cause?: unknown }).cause)).toMatch(/ECONNRESET/);
        },
      },
    ];

    it.each(CASES)('injects a $name once, then forwards unchanged', async ({ fault, check }) => {
      proxy.add({ ...fault, method: 'GET', path: /\/blobs\/sha256:/ });
      const first = proxy.requests.length;
      await check(await fetch(blob.url()).catch((err: Error) => err));
      const clean = await fetch(blob.url());
      expect(sha256((await readAll(clean)).bytes)).toBe(blob.digest);
      const expectedStatus = 'status' in fault.action ? fault.action.status : 'reset' in fault.action ? 0 : 200;
      expect(proxy.requests.slice(first)).toEqual([
        { method: 'GET', path: `/v2/wasmbox/layers/blobs/${blob.digest}`, status: expectedStatus },
        { method: 'GET', path: `/v2/wasmbox/layers/blobs/${blob.digest}`, status: 200 },
      ]);
    });

    it('matches faults by method and counts `times`', async () => {
      proxy.add({ method: 'HEAD', path: /\/blobs\//, times: 2, action: { status: 429 } });
      const statuses = [];
      for (const method of ['GET', 'HEAD', 'HEAD', 'HEAD']) {
        const res = await fetch(blob.url(), { method });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 429, 429, 200]);
    });

    it('carries skopeo pushes and pulls (streamed uploads, Location headers) unchanged', async () => {
      const res = await fetch(`http://${proxy.host}/v2/wasmbox/upload-probe/blobs/uploads/`, { method: 'POST' });
      await res.arrayBuffer();
      expect(res.status).toBe(202);
      expect(new URL(res.headers.get('location')!, `http://${proxy.host}/`).host).toBe(proxy.host);
      const viaProxy = { ...reg, host: proxy.host };
      await pushWithSkopeo(viaProxy, `oci:${layers.path}:latest`, 'wasmbox/through-proxy:v1');
      const direct = await inspectRaw(reg, 'wasmbox/through-proxy:v1');
      expect((await inspectRaw(viaProxy, 'wasmbox/through-proxy:v1')).text).toBe(direct.text);
      expect(proxy.requests.some((r) => r.method === 'PUT' && r.path.startsWith('/v2/wasmbox/through-proxy/manifests/') && r.status === 201)).toBe(true);
    });
  });

  describe('fixture variants', () => {
    let reg: TestRegistry;
    beforeAll(async () => {
      reg = await startRegistry();
    });
    afterAll(() => reg?.stop());

    it.skipIf(!multiarch.built)(`pushes the multi-platform index with --all${skipped(missingReason(multiarch))}`, async () => {
      await pushWithSkopeo(reg, `oci:${multiarch.path}:latest`, 'wasmbox/multiarch:v1', { all: true });
      const { text, json: index } = await inspectRaw(reg, 'wasmbox/multiarch:v1');
      expect(text).toBe(await localRaw(multiarch.path));
      expect(index.manifests.map((m: any) => Object.values(m.platform).join('/'))).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
      for (const m of index.manifests) {
        const config = JSON.parse(await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/wasmbox/multiarch@${m.digest}`]));
        expect([config.os, config.architecture]).toEqual([m.platform.os, m.platform.architecture]);
      }
      await pushWithSkopeo(reg, `oci:${multiarch.path}:latest`, 'wasmbox/multiarch-v2s2:v1', { all: true, format: 'v2s2' });
      const list = (await inspectRaw(reg, 'wasmbox/multiarch-v2s2:v1')).json;
      expect(list.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
      expect(list.manifests.map((m: any) => m.platform.architecture)).toEqual(['amd64', 'arm64', 'arm']);
    });

    it('pushes a Docker schema 2 copy', async () => {
      await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/layers-v2s2:v1', { format: 'v2s2' });
      const manifest = (await inspectRaw(reg, 'wasmbox/layers-v2s2:v1')).json;
      expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
      expect(manifest.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
      for (const layer of manifest.layers) expect(layer.mediaType).toMatch(/^application\/vnd\.docker\.image\.rootfs\.diff\.tar/);
    });

    it('pushes a zstd copy', async () => {
      await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/layers-zstd:v1', { compress: 'zstd' });
      const manifest = (await inspectRaw(reg, 'wasmbox/layers-zstd:v1')).json;
      expect(manifest.layers.map((l: any) => l.mediaType)).toEqual(manifest.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+zstd'));
      const res = await fetch(`http://${reg.host}/v2/wasmbox/layers-zstd/blobs/${manifest.layers[0].digest}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect([sha256(bytes), bytes.subarray(0, 4).toString('hex')]).toEqual([manifest.layers[0].digest, '28b52ffd']);
    });

    it('keeps a plain push exact in a registry that already holds other compressions of its layers', async () => {
      await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/layers-zstd:v1', { compress: 'zstd' });
      await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/layers-gzip:v1', { compress: 'gzip' });
      await pushWithSkopeo(reg, `oci:${layers.path}:latest`, 'wasmbox/layers-plain:v1');
      expect((await inspectRaw(reg, 'wasmbox/layers-plain:v1')).text).toBe(await localRaw(layers.path));
      const gzip = (await inspectRaw(reg, 'wasmbox/layers-gzip:v1')).json;
      expect(gzip.layers.map((l: any) => l.mediaType)).toEqual(gzip.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+gzip'));
    });

    it.skipIf(!wasi.built)(`pushes the wasi/wasm image${skipped(missingReason(wasi))}`, async () => {
      await pushWithSkopeo(reg, `oci:${wasi.path}:latest`, 'wasmbox/wasi:v1');
      expect((await inspectRaw(reg, 'wasmbox/wasi:v1')).text).toBe(await localRaw(wasi.path));
      const config = JSON.parse(await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/wasmbox/wasi:v1`]));
      expect([config.os, config.architecture, config.config.Entrypoint]).toEqual(['wasi', 'wasm', ['/usr/bin/hello']]);
    });
  });
});
