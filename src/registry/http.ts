import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IdleTimer } from './body.js';

/**
 * The wire under the transport: node:http, not fetch. On a 91 MB pull (scripts/bench-pull.ts) fetch (undici)
 * spent ~110 ms more CPU receiving the same bytes, and the flatten after it twice the time in GC (14-18 full
 * collections, not 7); node:http hands over Buffers straight from the socket and never loads undici.
 */

/** Reply headers by lower-case name; `get` answers like fetch's Headers (null when absent, repeats joined by ", "). */
export class HttpHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  /** The header's value, or null when the answer has none. */
  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** Whether the answer has the header. */
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
}

// One pool per scheme, kept alive between requests: a pull makes dozens of requests to one registry. Idle
// sockets are unref'd by the agent (they never keep the process alive) and closed after 5 s, as Node's own do.
const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo', timeout: 5000 } as const;
const AGENTS = { 'http:': new HttpAgent(AGENT_OPTIONS), 'https:': new HttpsAgent(AGENT_OPTIONS) };
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** The request headers we send: the caller's (names lower-cased), fetch's defaults, and the body's exact length. */
export function wireHeaders(headers: Record<string, string> | undefined, method: string, body: Uint8Array | undefined): Record<string, string> {
  const out: Record<string, string> = { accept: '*/*', 'user-agent': 'wasmbox' };
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  // Compressed transfer would make Content-Length disagree with what we read, and blobs are compressed already.
  out['accept-encoding'] = 'identity';
  // An explicit length, also 0 for an empty POST/PUT/PATCH (the upload protocol's closing PUT), never chunked.
  if (body || BODY_METHODS.has(method)) out['content-length'] = String(body?.length ?? 0);
  else delete out['content-length'];
  return out;
}

/**
 * Sends one request and resolves with the answer once its head arrived. `timer` (armed by the caller) destroys
 * the request when the server is silent, and the answer after it arrived; errors after that reach the reader.
 */
export function request(url: URL, method: string, headers: Record<string, string>, body: Uint8Array | undefined, timer: IdleTimer): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const protocol = url.protocol as keyof typeof AGENTS;
    const open = protocol === 'https:' ? httpsRequest : httpRequest;
    const req = open(url, { method, headers, agent: AGENTS[protocol] }, (res) => {
      // The reader sees stream errors through its iterator; this keeps an unread body's error from crashing us.
      res.on('error', () => undefined);
      timer.target = res;
      resolve(res);
    });
    // Socket errors reach the request even after the answer came; only the first one before it matters.
    req.on('error', reject);
    timer.target = req;
    req.end(body);
  });
}

/** Frees an answer's connection: kept for reuse when the body has fully arrived, else closed. */
export function release(res: IncomingMessage): void {
  if (res.complete) res.resume();
  else res.destroy();
}

/** Whether an answer can have no body: HEAD, 204, 304, or Content-Length 0. */
export function noBody(method: string, res: IncomingMessage): boolean {
  return method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304 || res.headers['content-length'] === '0';
}
