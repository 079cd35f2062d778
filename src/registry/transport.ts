import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryHttpError, networkCause, networkError, registryErrorText, retriableStatus, statusError } from './failures.js';
import { readAll, streamBody, idleTimer, type IdleTimer } from './body.js';
import { HttpHeaders, noBody, release, request, wireHeaders } from './http.js';

export { HttpHeaders } from './http.js';

/** How requests reach registries: which hosts may use plain HTTP, retries, timeouts, and a log line per retry. */
export interface TransportOptions {
  /** Hosts (host[:port]) allowed over plain HTTP besides loopback ones (--insecure-registry). */
  insecure?: string[];
  /** Extra tries after the first for 429/5xx/network failures; default 4. */
  retries?: number;
  /** Base of exponential backoff with jitter, default 250; Retry-After wins (capped at 30 s). */
  backoffMs?: number;
  /** Per-request idle timeout: the longest wait for headers or for the next body chunk; default 60 s. */
  timeoutMs?: number;
  /** Called with a line per retry: "retrying GET …: 503 (2/5) in 0.5 s". */
  log?: (message: string) => void;
}

/** One HTTP request to a registry; `what` names the image reference for messages. */
export interface HttpRequest {
  method: string;
  url: string | URL;
  headers?: Record<string, string>;
  /** Bodies are whole buffers so that a retry can send them again. */
  body?: Uint8Array;
  what: string;
  /** False for requests that must not be repeated blindly (upload chunks): one try, errors say `retriable`. */
  retry?: boolean;
  /** Read the whole body inside the retry loop (a cut-off body is retried), refusing more than this many bytes. */
  maxBytes?: number;
}

/** An HTTP answer: status and headers, the final URL after redirects, and the body read whole or streamed. */
export interface Reply {
  status: number;
  headers: HttpHeaders;
  url: URL;
  /** The body when `maxBytes` was given, or the start of an error body (status >= 400); else empty. */
  bytes: Uint8Array;
  /** The body as a stream (idle timeout, length check); only once, and not after `bytes` was read. */
  body(): AsyncIterable<Uint8Array>;
  /** Releases the connection without reading the body. */
  discard(): Promise<void>;
}

const MAX_DELAY_MS = 30_000;
const MAX_REDIRECTS = 10;
const ERROR_BODY_BYTES = 64 << 10;

/** True for localhost, 127.0.0.0/8 and [::1] (with or without a port): hosts plain HTTP cannot leave. */
export function isLoopback(host: string): boolean {
  const name = hostname(host);
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name ?? '');
}

/** 'http' for loopback hosts (localhost, 127.0.0.0/8, [::1]) and insecure ones, else 'https'. */
export function schemeFor(host: string, insecure: string[] = []): 'http' | 'https' {
  return isLoopback(host) || insecure.some((entry) => matchesHost(entry, host)) ? 'http' : 'https';
}

/** An --insecure-registry entry names `host` exactly, or its host name when the entry has no port. */
function matchesHost(entry: string, host: string): boolean {
  const clean = entry.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '').toLowerCase();
  if (clean === host.toLowerCase()) return true;
  return !/:\d+$/.test(clean) && hostname(clean) !== undefined && hostname(clean) === hostname(host);
}

function hostname(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Refuses URLs that would send registry traffic (and credentials) over plain HTTP to a TLS host. */
export function assertSafeUrl(url: URL, insecure: string[] | undefined, what: string): void {
  if (url.protocol === 'https:' || (url.protocol === 'http:' && schemeFor(url.host, insecure) === 'http')) return;
  const plain = url.protocol === 'http:';
  throw new RegistryHttpError(plain ? 'REGISTRY_INSECURE' : 'REGISTRY', `refusing ${url.href} for ${what}: ${plain ? `${url.host} is not a loopback or insecure host, so it must use HTTPS` : 'only http and https URLs are allowed'}`, {
    value: url.href,
    hint: plain ? `if you trust ${url.host} over plain HTTP, pass --insecure-registry ${url.host}` : 'the registry sent a bad URL; report it to its operator',
  });
}

/** The wait before try `attempt + 1`: Retry-After (seconds or HTTP date) when given, else backoff with jitter; capped at 30 s. */
export function retryDelay(attempt: number, baseMs: number, retryAfter?: string | null, now = Date.now(), random = Math.random): number {
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return Math.min(asked, MAX_DELAY_MS);
  const full = baseMs * 2 ** (attempt - 1);
  // "Equal jitter": at least half the backoff, so clients that failed together spread out but still wait.
  return Math.min(MAX_DELAY_MS, full / 2 + random() * (full / 2));
}

function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Sends registry requests: scheme policy, redirects without leaking Authorization, retries with backoff, idle timeouts. */
export class Transport {
  readonly insecure: string[];
  readonly retries: number;
  readonly backoffMs: number;
  readonly timeoutMs: number;
  readonly log?: (message: string) => void;

  constructor(opts: TransportOptions = {}) {
    this.insecure = opts.insecure ?? [];
    this.retries = opts.retries ?? 4;
    this.backoffMs = opts.backoffMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.log = opts.log;
  }

  /** The API URL of `path` (starting with /v2/) on a registry host, with the scheme policy applied. */
  url(host: string, path: string): URL {
    return new URL(`${schemeFor(host, this.insecure)}://${host}${path}`);
  }

  /** Sends `req`, retrying 429/5xx/network failures; any other status is returned for the caller to judge. */
  async send(req: HttpRequest): Promise<Reply> {
    const tries = req.retry === false ? 1 : this.retries + 1;
    for (let attempt = 1; ; attempt++) {
      let failure: RegistryHttpError;
      let retryAfter: string | null = null;
      try {
        const reply = await this.once(req);
        if (!retriableStatus(reply.status)) return reply;
        retryAfter = reply.headers.get('retry-after');
        failure = statusError(reply.status, req.method, reply.url, req.what, registryErrorText(reply.bytes), attempt);
      } catch (error) {
        failure = networkError(error, req.method, new URL(req.url), req.what, attempt);
        if (!failure.retriable) throw failure;
      }
      if (attempt >= tries) throw failure;
      await this.pause(req, failure, attempt, tries, retryAfter);
    }
  }

  /** Waits before another try of `req` and says so through `log`. */
  async pause(req: HttpRequest, failure: RegistryHttpError, attempt: number, tries: number, retryAfter: string | null = null): Promise<void> {
    const delay = retryDelay(attempt, this.backoffMs, retryAfter);
    const cause = failure.cause === undefined ? undefined : networkCause(failure.cause);
    const why = failure.status ?? (cause ? [cause.code, cause.message.split('\n')[0]].filter(Boolean).join(': ') : failure.message);
    this.log?.(`retrying ${req.method} ${new URL(req.url).href}: ${why} (${attempt + 1}/${tries}) in ${(delay / 1000).toFixed(1)} s`);
    await sleep(delay);
  }

  /** One try: follows redirects itself so Authorization never reaches another origin. */
  private async once(req: HttpRequest): Promise<Reply> {
    let url = new URL(req.url);
    let method = req.method;
    let body = req.body;
    let headers = wireHeaders(req.headers, method, body);
    for (let hop = 0; ; hop++) {
      assertSafeUrl(url, this.insecure, req.what);
      const timer = idleTimer(this.timeoutMs);
      const res = await request(url, method, headers, body, timer).catch((error: unknown) => {
        timer.clear();
        throw error;
      });
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status < 300 || status > 399 || status === 304 || !location) return this.reply(res, url, timer, req);
      release(res);
      timer.clear();
      if (hop >= MAX_REDIRECTS) throw statusError(status, method, url, req.what, `more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) delete headers.authorization;
      if (status === 303 || (status <= 302 && method === 'POST')) {
        [method, body] = ['GET', undefined];
        headers = wireHeaders(headers, method, body);
      }
      url = next;
    }
  }

  private async reply(res: IncomingMessage, url: URL, timer: IdleTimer, req: HttpRequest): Promise<Reply> {
    timer.touch();
    const status = res.statusCode ?? 0;
    const what = `${req.method} ${url.href} for ${req.what}`;
    let bytes: Uint8Array = new Uint8Array(0);
    let used = false;
    const empty = noBody(req.method, res);
    if (empty) {
      // Nothing to read: free the connection now, whatever the caller does with the reply.
      timer.clear();
      res.resume();
    } else if (req.maxBytes !== undefined || status >= 400) {
      const max = status >= 400 ? ERROR_BODY_BYTES : (req.maxBytes as number);
      bytes = await readAll(res, max, what, timer, status < 400);
      used = true;
    }
    return {
      status,
      headers: new HttpHeaders(res.headers),
      url,
      bytes,
      body: () => {
        if (used) throw new Error(`the body of ${what} was already read`);
        used = true;
        return empty ? noChunks() : streamBody(res, what, timer);
      },
      discard: async () => {
        timer.clear();
        if (!used) release(res);
        used = true;
      },
    };
  }
}

async function* noChunks(): AsyncGenerator<Uint8Array> {}
