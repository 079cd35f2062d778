/**
 * The worker and deno bundles on the real hosts: boxes built with the CLI, bundled through the targets
 * table, served by `workerd serve DIST/workerd.capnp` and `deno serve DIST/server.js` on 127.0.0.1, and
 * asked over HTTP, so the CGI mapping (variables, stdin, Status, headers, exit codes) is checked where it
 * runs. Each host is skipped, saying why, when its binary is missing.
 */
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGETS } from '../../src/bundle/targets.js';
import { WasmboxError } from '../../src/errors.js';
import { scratchDir } from '../helpers/fixtures.js';
import { type Compiled, compileWasmbox } from '../runtime/hosts/compiled.js';
import { type Boxes, NO_CLANG, buildBoxes } from './edge-boxes.js';
import { type Host, MISSING, startDeno, startWorkerd } from './edge-hosts.js';

let cli: Compiled;
let tmp: { dir: string; remove: () => Promise<void> };
let boxes: Boxes;

beforeAll(async () => {
  [cli, tmp] = await Promise.all([compileWasmbox(), scratchDir('wasmbox-edge-')]);
  boxes = await buildBoxes(cli, tmp.dir);
}, 180_000);
afterAll(async () => Promise.all([cli?.remove(), tmp?.remove()]));

/** Bundle `box` for `target` into a fresh directory. */
async function bundle(target: 'worker' | 'deno', box: string, name: string): Promise<string> {
  const dist = join(tmp.dir, `${target}-${name}`);
  await (await TARGETS[target]())(box, dist, {});
  return dist;
}

interface CgiCase {
  name: string;
  path: string;
  init?: RequestInit;
  status: number;
  exit: number;
  type?: string;
  /** Exact body, or patterns it must match. */
  body: string | RegExp[];
  /** Patterns the body must not match. */
  not?: RegExp[];
  check?: (body: string, host: Host, res: Response) => void;
}

const CGI_CASES: CgiCase[] = [
  {
    name: 'request line, headers and body become CGI variables and stdin',
    path: '/env/a%20b?x=1&y=two',
    init: { method: 'POST', body: 'ping', headers: { 'X-Test': 'real', 'X_Test': 'spoof', Proxy: 'http://evil.example', Accept: 'text/x-test', 'Content-Type': 'text/x-foo' } },
    status: 200,
    exit: 0,
    type: 'text/plain',
    body: [/^REQUEST_METHOD=POST$/m, /^PATH_INFO=\/env\/a b$/m, /^QUERY_STRING=x=1&y=two$/m, /^REQUEST_URI=\/env\/a%20b\?x=1&y=two$/m,
      /^CONTENT_TYPE=text\/x-foo$/m, /^CONTENT_LENGTH=4$/m, /^SERVER_PROTOCOL=HTTP\/1.1$/m, /^GATEWAY_INTERFACE=CGI\/1.1$/m,
      /^SERVER_NAME=127.0.0.1$/m, /^SCRIPT_NAME=$/m, /^HTTP_X_TEST=real$/m, /^HTTP_ACCEPT=text\/x-test$/m, /^HTTP_PROXY=$/m,
      /^GREETING=hi$/m, /^STDIN=ping$/m],
  },
  { name: 'a GET has no body and no CONTENT_LENGTH', path: '/env', status: 200, exit: 0, body: [/^REQUEST_METHOD=GET$/m, /^CONTENT_LENGTH=$/m, /^QUERY_STRING=$/m, /^STDIN=$/m] },
  { name: 'the server port is the one the host listens on', path: '/env', status: 200, exit: 0, body: [], check: (body, host) => expect(body).toMatch(new RegExp(`^SERVER_PORT=${new URL(host.url).port}$`, 'm')) },
  {
    name: 'Status and other header lines set the response',
    path: '/missing',
    status: 404,
    exit: 0,
    type: 'text/html',
    body: '<p>no page</p>\n',
    check: (body, host, res) => expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']),
  },
  { name: 'Location alone redirects with 302', path: '/moved', init: { redirect: 'manual' }, status: 302, exit: 0, body: '', check: (body, host, res) => expect(res.headers.get('location')).toBe('/env') },
  { name: 'output without a header block is a text/plain 200', path: '/plain', status: 200, exit: 0, type: 'text/plain; charset=utf-8', body: 'plain /plain\n' },
  {
    name: 'a non-zero exit without a header block is a 500 with the tail of stderr',
    path: '/fail',
    status: 500,
    exit: 3,
    body: [/^the box's command failed with exit code 3\n/, /something broke\n$/],
    not: [/partial output/],
  },
  { name: 'a bad Status line is a 502 naming it', path: '/bad-status', status: 502, exit: 0, body: [/"Status: 999 Nope"/] },
  { name: 'HEAD gets the headers and no body', path: '/env', init: { method: 'HEAD' }, status: 200, exit: 0, type: 'text/plain', body: '' },
];

// REMOTE_ADDR: Deno says who connected; workerd takes CF-Connecting-IP, which Cloudflare's edge sets.
const HOSTS = [
  { name: 'workerd', target: 'worker' as const, start: startWorkerd, missing: MISSING.workerd, remote: { headers: { 'CF-Connecting-IP': '203.0.113.9' } }, remoteAddr: '203.0.113.9' },
  { name: 'deno', target: 'deno' as const, start: startDeno, missing: MISSING.deno, remote: {}, remoteAddr: '127.0.0.1' },
];

for (const h of HOSTS) {
  if (h.missing) console.warn(`edge bundles: skipping ${h.name}: ${h.missing}`);
  describe.skipIf(h.missing)(`${h.name} serves the ${h.target} bundle`, () => {
    let cgi: Host;
    let hello: Host | undefined;
    beforeAll(async () => {
      cgi = await h.start(await bundle(h.target, boxes.cgi, 'cgi'));
      if (boxes.hello) hello = await h.start(await bundle(h.target, boxes.hello, 'hello'));
    }, 120_000);
    afterAll(async () => Promise.all([cgi?.stop(), hello?.stop()]));

    it.for(CGI_CASES)('$name', async (c) => {
      const res = await fetch(cgi.url + c.path, c.init);
      const body = new TextDecoder().decode(await res.arrayBuffer());
      const where = `${h.name} ${c.path}: ${body}\n${cgi.logs()}`;
      expect(res.status, where).toBe(c.status);
      expect(res.headers.get('x-wasmbox-exit-code'), where).toBe(String(c.exit));
      if (c.type) expect(res.headers.get('content-type')).toBe(c.type);
      if (typeof c.body === 'string') expect(body).toBe(c.body);
      else for (const p of c.body) expect(body, where).toMatch(p);
      for (const p of c.not ?? []) expect(body).not.toMatch(p);
      c.check?.(body, cgi, res);
    });

    it(`sets REMOTE_ADDR (${h.remoteAddr})`, async () => {
      const res = await fetch(`${cgi.url}/env`, h.remote);
      expect(await res.text()).toMatch(new RegExp(`^REMOTE_ADDR=${h.remoteAddr.replaceAll('.', '\\.')}$`, 'm'));
    });

    it('gives binary request bodies to stdin byte for byte', async () => {
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const res = await fetch(`${cgi.url}/echo`, { method: 'PUT', body: bytes });
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    });

    it('runs a compiled C program (hello-c)', async ({ skip }) => {
      if (!hello) skip(NO_CLANG!);
      const res = await fetch(`${hello!.url}/`);
      expect(await res.text(), hello!.logs()).toBe('hello, world\nrunning in /work as wasmbox\n');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-wasmbox-exit-code')).toBe('0');
    });

    it('runs Ruby (the built-in ruby.wasm, passed in as a module)', async () => {
      const host = await h.start(await bundle(h.target, boxes.ruby, 'ruby'));
      try {
        const res = await fetch(`${host.url}/`);
        expect(await res.text(), host.logs()).toMatch(/^ruby 3\.4\.\d+\n3: box\n4: wasm, node, edge, ruby\n7: browser\nwrote 44 bytes to \/app\/groups.txt\n$/);
        expect(res.status).toBe(200);
      } finally {
        await host.stop();
      }
    }, 120_000);

    it('refuses a WASIX box at bundle time, saying why', async ({ skip }) => {
      if (!boxes.wasix) skip(NO_CLANG!);
      const err = await bundle(h.target, boxes.wasix!, 'wasix').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WasmboxError);
      expect((err as WasmboxError).code).toBe('BUNDLE_UNSUPPORTED');
      expect((err as WasmboxError).message).toBe(`/bin/guest is a WASIX module; the ${h.target} target cannot run it`);
      expect((err as WasmboxError).hint).toMatch(/@wasmer\/sdk\b.*; use the node target/);
    });

    it('refuses a Python box at bundle time, saying why', async () => {
      const err = await bundle(h.target, boxes.python, 'python').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WasmboxError);
      expect((err as WasmboxError).code).toBe('BUNDLE_UNSUPPORTED');
      expect((err as WasmboxError).message).toMatch(/runs Python \(\/usr\/(local\/)?bin\/python\S*/);
      expect((err as WasmboxError).hint).toMatch(/web or node target/);
    });
  });
}

describe.skipIf(MISSING.workerd || NO_CLANG)('workerd and declared modules', () => {
  it('runs the C program only because its module is declared (workerd refuses compiling at run time)', async () => {
    const dist = await bundle('worker', boxes.hello!, 'undeclared');
    const worker = await readFile(join(dist, 'worker.js'), 'utf8');
    expect(worker).toMatch(/import m0 from '\.\/wasm\/[0-9a-f]{64}\.wasm';/);
    const stripped = join(tmp.dir, 'worker-undeclared-copy');
    await cp(dist, stripped, { recursive: true });
    await writeFile(join(stripped, 'worker.js'), worker.replace(/^ {2}'[0-9a-f]{64}': m0,$/m, ''));
    const host = await startWorkerd(stripped);
    try {
      const res = await fetch(`${host.url}/`);
      expect(res.status).toBe(500);
      expect(res.headers.get('x-wasmbox-exit-code')).toBe('126');
      expect(await res.text()).toMatch(/not a valid WebAssembly module \(.*(disallowed|not allowed|embedder)/i);
    } finally {
      await host.stop();
    }
  });
});

describe('worker size limit', () => {
  it('refuses a box over 64 MB at bundle time with the sizes, writing nothing', async () => {
    const { buildLargeBox } = await import('./edge-boxes.js');
    const box = await buildLargeBox(cli, tmp.dir, 65 * 2 ** 20);
    const dist = join(tmp.dir, 'worker-large');
    const err = await (await TARGETS.worker())(box, dist, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasmboxError);
    const e = err as WasmboxError;
    expect(e.code).toBe('BUNDLE_TOO_LARGE');
    expect(e.message).toMatch(/the worker would be 6\d\.\d MB \(\d+ bytes\), over the Worker size limit of 64\.0 MB \(67108864 bytes\): rootfs\.wbfs 65\.0 MB/);
    expect(e.hint).toMatch(/developers\.cloudflare\.com\/workers\/platform\/limits/);
    expect(await readdir(dist).catch(() => [])).toEqual([]);
  }, 120_000);
});
