// A small static file server for web bundles (`wasmbox serve`, and the tests): GET and HEAD of files
// under one directory, with the MIME types browsers insist on (application/wasm for streaming
// compilation, text/javascript for modules and workers) and, when asked, the headers that make a page
// cross-origin isolated. Paths never leave the directory. Browsers revalidate every file (no-cache, with
// an ETag), so a re-bundle shows at once and an unchanged file costs a 304.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

/** Content types by file extension (anything else is application/octet-stream). */
export const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.wbfs': 'application/octet-stream',
  '.zip': 'application/zip',
  '.tar': 'application/x-tar',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, the WASIX engine). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/** Where and how to serve. */
export interface StaticServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Send ISOLATION_HEADERS with every response. */
  isolate?: boolean;
}

/** A running server: its URL (ending in `/`) and a way to stop it. */
export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serve the files under `root`; resolves once listening (rejects if the address is taken). */
export async function startStaticServer(dir: string, options: StaticServerOptions): Promise<StaticServer> {
  const root = resolve(dir);
  const server = createServer((req, res) => void respond(root, req, res, options.isolate ?? false));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => (server.off('error', reject), resolve()));
  });
  const address = server.address() as { port: number; address: string };
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function respond(root: string, req: IncomingMessage, res: ServerResponse, isolate: boolean): Promise<void> {
  const headers: Record<string, string> = { 'cache-control': 'no-cache', ...(isolate ? ISOLATION_HEADERS : {}) };
  if (req.method !== 'GET' && req.method !== 'HEAD') return end(res, 405, { ...headers, allow: 'GET, HEAD' });
  const file = await resolveFile(root, req.url ?? '/');
  if (!file) return end(res, 404, headers, 'not found\n');
  headers['content-type'] = MIME_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
  headers.etag = file.etag;
  if (req.headers['if-none-match'] === file.etag) return void res.writeHead(304, headers).end();
  headers['content-length'] = String(file.size);
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file.path).on('error', () => res.destroy()).pipe(res);
}

/** The file a URL path names under `root` (a directory means its index.html), or undefined. */
async function resolveFile(root: string, url: string): Promise<{ path: string; size: number; etag: string } | undefined> {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url, 'http://host').pathname);
  } catch {
    return undefined;
  }
  if (path.includes('\0')) return undefined;
  const full = join(root, normalize(path));
  if (full !== root && !full.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  const found = await stat(full).catch(() => undefined);
  if (found?.isDirectory()) return resolveFile(root, `${path.replace(/\/?$/, '/')}index.html`);
  return found?.isFile() ? { path: full, size: found.size, etag: `"${found.size.toString(36)}-${Math.floor(found.mtimeMs).toString(36)}"` } : undefined;
}

function end(res: ServerResponse, status: number, headers: Record<string, string>, body = ''): void {
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}
