// The WASIX engine in real headless Chromium (Debian's `chromium`): a cross-origin-isolated page runs a
// guest over the box filesystem; a page that is not isolated is refused up front, where the bare sdk
// would report its guest as run with exit 0 and no output. The page loads the engine transpiled to
// JavaScript and the sdk's browser build through an import map, and posts its findings back.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { guests } from './guests.js';
import { transpileRuntime } from './transpiled.js';

const CHROMIUM = '/usr/bin/chromium';
const why = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (apt-get install chromium)` : guests.missing;
const SDK = resolve('node_modules/@wasmer/sdk');
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };

const PAGE = `<!doctype html>
<script type="importmap">{"imports":{"@wasmer/sdk":"/sdk/dist/index.js","@wasmer/sdk/browser":"/sdk/dist/index.js"}}</script>
<script type="module">
const found = { isolated: self.crossOriginIsolated };
const enc = (s) => new TextEncoder().encode(s);
try {
  const { runWasmer, closeWasmerEngine } = await import('/js/runtime/core/engines/wasmer.js');
  const { Vfs } = await import('/js/runtime/core/vfs.js');
  const { bufferInput, collectOutput } = await import('/js/runtime/core/process.js');
  const guest = new Uint8Array(await (await fetch('/guest.wasm')).arrayBuffer());
  const vfs = Vfs.empty();
  vfs.mkdir('/etc');
  vfs.writeFile('/etc/motd', enc('hello from the box\\n'));
  const out = collectOutput();
  try {
    const argv = ['guest', 'read:/etc/motd', 'cat', 'write:/workspace/kept=yes', 'exit:5'];
    found.code = await runWasmer(guest, { argv, env: [], cwd: '/', vfs, stdin: bufferInput(enc('stdin\\n')), stdout: out.sink, stderr: out.sink });
    found.output = new TextDecoder().decode(out.bytes());
    found.kept = new TextDecoder().decode(vfs.get('/workspace/kept').bytes());
    await closeWasmerEngine();
  } catch (e) { found.error = e.name + ': ' + e.message; }
  if (!self.crossOriginIsolated) {
    const { Wasmer } = await import('@wasmer/sdk/browser');
    const wasmer = new Wasmer({ cache: false });
    const pkg = await wasmer.packages.load(guest);
    const sandbox = await wasmer.sandboxes.create({ packages: [pkg] });
    const o = await sandbox.command(pkg, ['err:must-show', 'exit:3']).run({ check: false });
    found.bareSdk = { code: o.exitCode, output: o.stdout.text() + o.stderr.text() };
  }
} catch (e) { found.pageError = String(e && e.stack || e); }
await fetch('/found', { method: 'POST', body: JSON.stringify(found) });
</script>`;

const js = transpileRuntime([]);
afterAll(() => js.remove());

/** Serve the page, the engine and the sdk (isolated or not), open it in Chromium, return what it posts. */
async function visit(isolated: boolean): Promise<Record<string, unknown>> {
  let report!: (found: Record<string, unknown>) => void;
  const found = new Promise<Record<string, unknown>>((r) => (report = r));
  const server = createServer((req, res) => void respond(req, res, isolated ? ISOLATION : {}, report));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const profile = mkdtempSync(join(tmpdir(), 'wasmbox-chromium-'));
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
  const chromium = spawn(CHROMIUM, [...flags, `http://127.0.0.1:${(server.address() as { port: number }).port}/`], { stdio: 'ignore', env: { ...process.env, TMPDIR: profile }, detached: true });
  try {
    return await found;
  } finally {
    // Chromium's helper processes share its process group; end them all before removing their profile.
    const exited = once(chromium, 'exit');
    process.kill(-chromium.pid!, 'SIGTERM');
    await exited;
    server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

async function respond(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, report: (found: Record<string, unknown>) => void): Promise<void> {
  const path = new URL(req.url!, 'http://page').pathname;
  if (path === '/found') {
    let body = '';
    for await (const chunk of req) body += chunk;
    res.end();
    return report(JSON.parse(body));
  }
  const file = path.startsWith('/sdk/') ? join(SDK, path.slice(5)) : path.startsWith('/js/') ? js.path(path.slice(4)) : undefined;
  const body = path === '/' ? PAGE : path === '/guest.wasm' ? guests.wasi! : file && existsSync(file) ? readFileSync(file) : undefined;
  const type = path === '/' ? 'text/html' : TYPES[extname(path)] ?? 'application/octet-stream';
  res.writeHead(body === undefined ? 404 : 200, { ...headers, 'content-type': type });
  res.end(body);
}

describe.skipIf(why)(`the WASIX engine in Chromium${why ? ` (skipped: ${why})` : ''}`, () => {
  it('runs a guest on a cross-origin-isolated page: box files, stdin, stdout, exit status, /workspace kept', async () => {
    expect(await visit(true)).toEqual({ isolated: true, code: 5, output: 'hello from the box\nstdin\n', kept: 'yes' });
  }, 60_000);

  it('refuses a page that is not isolated, where the bare sdk would report exit 0 and no output', async () => {
    expect(await visit(false)).toEqual({
      isolated: false,
      error: expect.stringMatching(/^WasixHostError: the WASIX engine needs a cross-origin-isolated page .*this page is not cross-origin isolated$/),
      bareSdk: { code: 0, output: '' },
    });
  }, 60_000);
});
