/**
 * `wasmbox bundle` and `wasmbox serve` as the CLI runs them (runBundle, runServe), without a browser: the
 * bundle is replaced atomically and only over a bundle, the report lists sizes, the server answers on
 * loopback with the types browsers require, isolation headers only when asked, nothing outside the
 * bundle, and it cleans up when stopped.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeBox } from '../../src/box/pack.js';
import { BUNDLE_MARKER, runBundle } from '../../src/cli/bundle.js';
import { runServe } from '../../src/cli/serve.js';
import { startStaticServer } from '../../src/cli/static-server.js';
import { sampleTree } from '../box/sample-tree.js';
import { scratchDir } from '../helpers/fixtures.js';

const CONFIG = { architecture: 'wasm', os: 'wasi', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers' as const, diff_ids: [] } };
let tmp: { dir: string; remove: () => Promise<void> };
let box: string;

beforeAll(async () => {
  tmp = await scratchDir('wasmbox-web-cli-');
  box = join(tmp.dir, 'box');
  await writeBox(box, sampleTree(), CONFIG);
});
afterAll(() => tmp?.remove());

/** GET (or another method) of a raw path, as sent: fetch() would normalise `..` away. */
function get(base: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('latin1')));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

describe('wasmbox bundle', () => {
  it('writes a web bundle, prints its files and sizes, and replaces it on the next run', async () => {
    const out = join(tmp.dir, 'dist');
    const lines: string[] = [];
    const report = await runBundle({ box, target: 'web', output: out, wasix: true, print: (l) => lines.push(l) });
    expect(report).toMatchObject({ target: 'web', boxBytes: expect.any(Number) });
    expect(report.runtimeGzipBytes).toBeLessThan(100 * 1024);
    expect(lines[0]).toBe(`web bundle written to ${out}: ${report.files} files`);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}index\.html +\d+ (bytes|KB)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}runtime\/ +[\d.]+ (KB|MB) {2}\(\d+ files\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}vendor\/wasmer-sdk\/ +[\d.]+ MB {2}\(\d+ files\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^runtime: \d+ KB gzipped; box: /));
    expect(lines).toContainEqual(expect.stringMatching(/^note: includes the WASIX engine \(@wasmer\/sdk\), asked for with --wasix/));
    expect(JSON.parse(await readFile(join(out, BUNDLE_MARKER), 'utf8'))).toEqual({ target: 'web' });
    await writeFile(join(out, 'stale.txt'), 'from before');
    await runBundle({ box, target: 'web', output: out, quiet: true, print: (l) => lines.push(l) });
    expect(lines.at(-1)).toBe(out);
    expect(existsSync(join(out, 'stale.txt'))).toBe(false);
    expect(existsSync(join(out, 'vendor'))).toBe(false);
    expect((await readdir(tmp.dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  }, 60_000);

  it.each([
    { name: 'an unknown target', target: 'wbe', output: 'x', error: /unknown bundle target "wbe"/, hint: 'did you mean "web"?' },
    { name: 'a directory that is not a bundle', target: 'web', output: 'mine', error: /holds files that are not a wasmbox bundle, so it is not replaced/, hint: /name a new directory/ },
    { name: 'a missing box', target: 'web', output: 'y', error: /no box at .*nowhere/, hint: /wasmbox build -o/, box: 'nowhere' },
  ])('refuses $name, saying what to do', async (c) => {
    const mine = join(tmp.dir, 'mine');
    await mkdir(mine, { recursive: true });
    await writeFile(join(mine, 'keep.txt'), 'precious');
    const run = runBundle({ box: c.box ? join(tmp.dir, c.box) : box, target: c.target, output: join(tmp.dir, c.output), print: () => undefined });
    await expect(run).rejects.toMatchObject({ name: 'WasmboxError', message: expect.stringMatching(c.error), hint: typeof c.hint === 'string' ? c.hint : expect.stringMatching(c.hint) });
    expect(await readFile(join(mine, 'keep.txt'), 'utf8')).toBe('precious');
  });
});

describe('wasmbox serve', () => {
  it('bundles a box into a temporary directory, serves it on loopback with COOP/COEP, and cleans up on stop', async () => {
    const before = (await readdir(tmpdir())).filter((n) => n.startsWith('wasmbox-serve-'));
    const lines: string[] = [];
    const stop = new AbortController();
    const serving = runServe({ box, port: 0, coop: true, log: (l) => lines.push(l), signal: stop.signal });
    await vi.waitFor(() => expect(lines.some((l) => l.startsWith('serving'))).toBe(true), { timeout: 30_000 });
    const base = /at (http:\/\/127\.0\.0\.1:\d+\/) \(cross-origin isolated: the WASIX engine can run\); Ctrl-C stops$/.exec(lines.at(-1)!)![1];
    const TYPES: [string, number, string][] = [
      ['/', 200, 'text/html; charset=utf-8'],
      ['/wasmbox.js', 200, 'text/javascript; charset=utf-8'],
      ['/runtime/index.js', 200, 'text/javascript; charset=utf-8'],
      ['/xterm.css', 200, 'text/css; charset=utf-8'],
      ['/wasmbox.json', 200, 'application/json; charset=utf-8'],
      ['/box/rootfs.wbfs', 200, 'application/octet-stream'],
      ['/no-such-file', 404, 'text/plain; charset=utf-8'],
      ['/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 404, 'text/plain; charset=utf-8'],
      ['/..%2f..%2f..%2fetc%2fpasswd', 404, 'text/plain; charset=utf-8'],
    ];
    for (const [path, status, type] of TYPES) {
      const res = await get(base, path);
      expect([path, res.status, res.headers['content-type']]).toEqual([path, status, type]);
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['cross-origin-embedder-policy']).toBe('require-corp');
      if (path.includes('passwd')) expect(res.body).toBe('not found\n');
    }
    expect((await get(base, '/', 'POST')).status).toBe(405);
    stop.abort();
    await serving;
    expect((await readdir(tmpdir())).filter((n) => n.startsWith('wasmbox-serve-'))).toEqual(before);
    await expect(get(base, '/')).rejects.toThrow();
  }, 60_000);

  it('serves a web bundle as it is, Wasm as application/wasm, without isolation headers unless asked', async () => {
    const dist = join(tmp.dir, 'served');
    await runBundle({ box, target: 'web', output: dist, wasix: true, print: () => undefined });
    const stop = new AbortController();
    const lines: string[] = [];
    const serving = runServe({ box: dist, port: 0, log: (l) => lines.push(l), signal: stop.signal });
    await vi.waitFor(() => expect(lines.length).toBe(1));
    const base = /at (\S+)\/; Ctrl-C stops$/.exec(lines[0])![1];
    const wasm = await get(base, '/vendor/wasmer-sdk/pkg/wasmer_sdk_js_bg.wasm', 'HEAD');
    expect([wasm.status, wasm.headers['content-type'], wasm.headers['cross-origin-opener-policy']]).toEqual([200, 'application/wasm', undefined]);
    stop.abort();
    await serving;
    expect(existsSync(join(dist, 'index.html'))).toBe(true);
  }, 60_000);

  it.each([
    { name: 'a directory that is neither a box nor a bundle', box: 'nowhere', port: 0, error: /is neither a box nor a web bundle/ },
    { name: 'a port that is taken', port: -1, error: /cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/ },
    { name: 'a port that is not a number', port: 70000, error: /--port 70000 is not a port number/ },
  ])('refuses $name', async (c) => {
    const taken = await startStaticServer(tmp.dir, { host: '127.0.0.1', port: 0 });
    try {
      const port = c.port === -1 ? Number(new URL(taken.url).port) : c.port;
      await expect(runServe({ box: c.box ? join(tmp.dir, c.box) : box, port, log: () => undefined })).rejects.toMatchObject({ name: 'WasmboxError', message: expect.stringMatching(c.error) });
    } finally {
      await taken.close();
    }
  }, 60_000);
});
