import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { lookup } from 'node:dns/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { WasmboxError } from '../../src/errors.js';
import { Transport, retryDelay, schemeFor, type HttpRequest } from '../../src/registry/transport.js';

/** A tiny HTTP server on 127.0.0.1 whose answers come from `handler`; records what it was asked. */
interface Stub {
  host: string;
  seen: { method: string; url: string; headers: IncomingMessage['headers']; at: number }[];
  close(): Promise<void>;
}

const stubs: Stub[] = [];
afterEach(async () => {
  await Promise.all(stubs.splice(0).map((s) => s.close()));
});

async function stub(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void, bind = '127.0.0.1'): Promise<Stub> {
  const seen: Stub['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, at: Date.now() });
    req.resume();
    req.once('end', () => handler(req, res, seen.length));
  });
  await new Promise<void>((resolve) => server.listen(0, bind, resolve));
  const s: Stub = {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  stubs.push(s);
  return s;
}

const get = (url: string, extra: Partial<HttpRequest> = {}): HttpRequest => ({ method: 'GET', url, what: 'example/app:1', maxBytes: 1 << 20, ...extra });

async function failure(promise: Promise<unknown>): Promise<WasmboxError> {
  try {
    await promise;
  } catch (error) {
    return error as WasmboxError;
  }
  throw new Error('expected a failure');
}

describe('schemeFor', () => {
  it.each([
    ['localhost', [], 'http'],
    ['localhost:5000', [], 'http'],
    ['127.0.0.1:5000', [], 'http'],
    ['127.8.9.10', [], 'http'],
    ['[::1]:5000', [], 'http'],
    ['ghcr.io', [], 'https'],
    ['registry.local:5000', [], 'https'],
    ['registry.local:5000', ['registry.local:5000'], 'http'],
    ['registry.local:5000', ['registry.local'], 'http'],
    ['registry.local:5000', ['registry.local:6000'], 'https'],
    ['Registry.Local:5000', ['http://registry.local:5000/'], 'http'],
    ['10.0.0.1:5000', ['10.0.0.2:5000'], 'https'],
    ['localhost.evil.com', [], 'https'],
    ['127.0.0.1.nip.io', [], 'https'],
  ] as [string, string[], string][])('%s with %j → %s', (host, insecure, want) => {
    expect(schemeFor(host, insecure)).toBe(want);
  });
});

describe('retryDelay', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');
  it.each([
    ['Retry-After seconds win', 1, '2', 0.5, 2000],
    ['Retry-After 0', 3, '0', 0.5, 0],
    ['Retry-After HTTP date', 1, 'Mon, 01 Jan 2024 00:00:05 GMT', 0.5, 5000],
    ['Retry-After date in the past', 1, 'Sun, 31 Dec 2023 00:00:00 GMT', 0.5, 0],
    ['Retry-After is capped', 1, '3600', 0.5, 30_000],
    ['garbage falls back to backoff', 1, 'soon', 0, 125],
    ['first backoff, no jitter drawn', 1, null, 0, 125],
    ['first backoff, most jitter', 1, null, 1, 250],
    ['third backoff', 3, null, 0.5, 750],
    ['backoff is capped', 20, null, 1, 30_000],
  ] as [string, number, string | null, number, number][])('%s', (_, attempt, header, random, want) => {
    expect(retryDelay(attempt, 250, header, now, () => random)).toBe(want);
  });
});

describe('Transport retries', () => {
  it.each([
    [503, '1'],
    [429, '1'],
  ])('waits out %d with Retry-After %s, then succeeds', async (status, after) => {
    const s = await stub((_, res, n) => {
      if (n === 1) res.writeHead(status, { 'retry-after': after }).end('busy');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    const lines: string[] = [];
    const t = new Transport({ backoffMs: 10, log: (l) => lines.push(l) });
    const reply = await t.send(get(`http://${s.host}/v2/app/manifests/1`));
    expect(Buffer.from(reply.bytes).toString()).toBe('ok');
    const waited = s.seen[1].at - s.seen[0].at;
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(3000);
    expect(lines).toEqual([`retrying GET http://${s.host}/v2/app/manifests/1: ${status} (2/5) in 1.0 s`]);
  });

  it('backs off exponentially with jitter when there is no Retry-After', async () => {
    const s = await stub((_, res, n) => res.writeHead(n < 4 ? 502 : 200).end());
    const t = new Transport({ backoffMs: 100 });
    expect((await t.send(get(`http://${s.host}/v2/`))).status).toBe(200);
    const gaps = s.seen.slice(1).map((r, i) => r.at - s.seen[i].at);
    // Equal jitter: each wait is between half and all of 100, 200, 400 ms.
    [100, 200, 400].forEach((full, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(full / 2 - 5);
      expect(gaps[i]).toBeLessThan(full + 300);
    });
  });

  it('gives up after the last try with an error naming the registry, reference and status', async () => {
    const s = await stub((_, res) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'down for maintenance' }] })));
    const t = new Transport({ retries: 2, backoffMs: 1 });
    const error = await failure(t.send(get(`http://${s.host}/v2/app/manifests/1`)));
    expect(s.seen).toHaveLength(3);
    expect(error).toMatchObject({ code: 'REGISTRY', status: 503, retriable: true });
    for (const part of [s.host, 'example/app:1', 'GET', '503', 'down for maintenance', 'after 3 tries']) expect(error.message).toContain(part);
    expect(error.hint).toContain('try again later');
  });

  it('does not retry other statuses or requests marked retry: false', async () => {
    const s = await stub((req, res) => res.writeHead(req.url === '/404' ? 404 : 500).end());
    const t = new Transport({ backoffMs: 1 });
    expect((await t.send(get(`http://${s.host}/404`))).status).toBe(404);
    const error = await failure(t.send(get(`http://${s.host}/500`, { method: 'PATCH', retry: false })));
    expect(error).toMatchObject({ code: 'REGISTRY', status: 500, retriable: true });
    expect(s.seen.map((r) => r.url)).toEqual(['/404', '/500']);
  });

  it('retries connection resets and bodies cut short', async () => {
    const s = await stub((_, res, n) => {
      if (n === 1) return void res.socket?.resetAndDestroy();
      if (n === 2) {
        res.writeHead(200, { 'content-length': '100' });
        res.write('x'.repeat(10));
        return void res.socket?.end(() => res.socket?.destroy());
      }
      res.writeHead(200, { 'content-length': '4' }).end('done');
    });
    const t = new Transport({ backoffMs: 1 });
    const reply = await t.send(get(`http://${s.host}/v2/x`));
    expect(Buffer.from(reply.bytes).toString()).toBe('done');
    expect(s.seen).toHaveLength(3);
  });

  it('reports a stream cut short to its reader as a retriable REGISTRY error', async () => {
    const s = await stub((_, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('y'.repeat(300));
      res.socket?.end(() => res.socket?.destroy());
    });
    const reply = await new Transport().send(get(`http://${s.host}/blob`, { maxBytes: undefined }));
    const error = await failure((async () => {
      for await (const _ of reply.body()) void _;
    })());
    expect(error).toMatchObject({ code: 'REGISTRY', retriable: true });
    expect(error.message).toMatch(/cut off after \d+ of 1000 bytes/);
  });

  it('gives up on a silent server after the idle timeout', async () => {
    const s = await stub(() => undefined);
    const t = new Transport({ retries: 1, backoffMs: 1, timeoutMs: 200 });
    const error = await failure(t.send(get(`http://${s.host}/slow`)));
    expect(error.message).toMatch(/ETIMEDOUT.*after 2 tries/);
    expect(s.seen).toHaveLength(2);
  });

  it('refuses bodies larger than maxBytes without retrying', async () => {
    const s = await stub((_, res) => res.writeHead(200).end('z'.repeat(2000)));
    const error = await failure(new Transport({ backoffMs: 1 }).send(get(`http://${s.host}/big`, { maxBytes: 1000 })));
    expect(error).toMatchObject({ code: 'IMAGE_INVALID' });
    expect(error.message).toContain('larger than 1000 bytes');
    expect(s.seen).toHaveLength(1);
  });
});

describe('Transport redirects and plain HTTP', () => {
  it('follows redirects, keeping Authorization on the same origin and dropping it on another', async () => {
    const storage = await stub((_, res) => res.writeHead(200).end('blob'));
    const registry = await stub((req, res) => {
      if (req.url === '/v2/a') res.writeHead(307, { location: '/v2/b' }).end();
      // 'localhost' is another origin than '127.0.0.1', though the same machine.
      else res.writeHead(302, { location: `http://localhost:${storage.host.split(':')[1]}/data?sig=1` }).end();
    });
    const reply = await new Transport().send(get(`http://${registry.host}/v2/a`, { headers: { authorization: 'Bearer secret' } }));
    expect(Buffer.from(reply.bytes).toString()).toBe('blob');
    expect(reply.url.href).toBe(`http://localhost:${storage.host.split(':')[1]}/data?sig=1`);
    expect(registry.seen.map((r) => r.headers.authorization)).toEqual(['Bearer secret', 'Bearer secret']);
    expect(storage.seen[0].headers.authorization).toBeUndefined();
  });

  it('never tries a plain-HTTP redirect to a host that must use HTTPS', async () => {
    const registry = await stub((_, res) => res.writeHead(302, { location: 'http://storage.example.com/blob' }).end());
    const error = await failure(new Transport({ backoffMs: 1 }).send(get(`http://${registry.host}/v2/a`)));
    expect(error).toMatchObject({ code: 'REGISTRY_INSECURE' });
    expect(error.hint).toContain('--insecure-registry storage.example.com');
    expect(registry.seen).toHaveLength(1);
  });

  it('gives up after too many redirects', async () => {
    const loop = await stub((_, res) => res.writeHead(302, { location: '/again' }).end());
    const error = await failure(new Transport({ retries: 0 }).send(get(`http://${loop.host}/start`)));
    expect(error.message).toContain('more than 10 redirects');
  });

  // The machine's own host name resolves to a local address but is not loopback by name: it must use TLS.
  it('explains --insecure-registry when a non-loopback host does not speak TLS', async (ctx) => {
    const name = hostname();
    const resolved = await lookup(name).catch(() => undefined);
    if (!resolved || resolved.family !== 4) return ctx.skip(`host name ${name} does not resolve to IPv4 here`);
    const s = await stub((_, res) => res.writeHead(200).end('plain'), resolved.address);
    const host = `${name}:${s.host.split(':')[1]}`;
    const t = new Transport({ backoffMs: 1 });
    const error = await failure(t.send(get(t.url(host, '/v2/').href)));
    expect(error).toMatchObject({ code: 'REGISTRY_INSECURE' });
    expect(error.message).toContain(host);
    expect(error.hint).toContain(`--insecure-registry ${host}`);
    const insecure = new Transport({ insecure: [host] });
    expect(Buffer.from((await insecure.send(get(insecure.url(host, '/v2/').href))).bytes).toString()).toBe('plain');
  });
});

describe('Transport wire', () => {
  // fetch (undici) cost the 91 MB pull benchmark ~110 ms of CPU and doubled the GC time of the flatten after it.
  it('never loads undici while it sends, redirects, streams and discards', async () => {
    const s = await stub((req, res) => {
      if (req.url === '/a') res.writeHead(302, { location: '/b' }).end();
      else res.writeHead(req.url === '/b' ? 200 : 202, { 'content-length': '5', location: '/c' }).end('hello');
    });
    const transport = fileURLToPath(new URL('../../src/registry/transport.ts', import.meta.url));
    const script = `
      const { Transport } = await import(${JSON.stringify(transport)});
      const t = new Transport();
      let n = 0;
      for await (const c of (await t.send({ method: 'GET', url: 'http://${s.host}/a', what: 'x' })).body()) n += c.length;
      await (await t.send({ method: 'HEAD', url: 'http://${s.host}/b', what: 'x' })).discard();
      const put = await t.send({ method: 'PUT', url: 'http://${s.host}/u', what: 'x', body: new Uint8Array(3) });
      await put.discard();
      console.log(JSON.stringify({ n, location: put.headers.get('location'), undici: process.moduleLoadList.some((m) => m.includes('undici')) }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual({ n: 5, location: '/c', undici: false });
    expect(s.seen.map((r) => [r.method, r.url, r.headers['content-length']])).toEqual([['GET', '/a', undefined], ['GET', '/b', undefined], ['HEAD', '/b', undefined], ['PUT', '/u', '3']]);
  });
});
