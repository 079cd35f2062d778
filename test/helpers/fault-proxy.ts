/**
 * A fault-injecting HTTP proxy for registry tests: node:http on 127.0.0.1 in front of a registry. Requests are
 * forwarded unchanged (bodies streamed both ways, the client's Host header kept so the registry builds URLs
 * that point back at the proxy, absolute `Location`s to the target rewritten as a safety net) unless a queued
 * fault matches: then it answers a status instead, cuts or corrupts the body, or resets the socket. Every
 * request is recorded. In token mode the registry's challenge realm names the token server directly.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a matching fault does to the request. */
export type FaultAction =
  /** Answer this instead of forwarding. */
  | { status: number; retryAfter?: number /* seconds */; body?: string }
  /** Forward, but cut the body after N bytes (headers keep the full Content-Length) and close the socket. */
  | { truncateAfter: number }
  /** Forward, flipping one byte of the body: the middle one when the length is known, else the first. */
  | { corrupt: true }
  /** Reset the connection (TCP RST) without answering. */
  | { reset: true };

/** A queued fault: applies to the next `times` (default 1) requests whose method and path (with query) match. */
export interface Fault {
  method?: string;
  path: RegExp;
  times?: number;
  action: FaultAction;
}

/** A running proxy. `requests[i].status` is 0 for a reset (or while the answer is pending). */
export interface FaultProxy {
  /** '127.0.0.1:PORT'; forwards everything else to the target unchanged. */
  host: string;
  add(...faults: Fault[]): void;
  requests: { method: string; path: string; status: number }[];
  stop(): Promise<void>;
}

type Recorded = FaultProxy['requests'][number];

/** Starts a proxy on a random port of 127.0.0.1 forwarding to `target` (host:port). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const queue: (Fault & { left: number })[] = [];
  const requests: Recorded[] = [];
  let host = '';

  const take = (req: IncomingMessage): FaultAction | undefined => {
    const matches = (f: Fault) => (!f.method || f.method === req.method) && ((f.path.lastIndex = 0), f.path.test(req.url ?? ''));
    const at = queue.findIndex(matches);
    if (at < 0) return undefined;
    const fault = queue[at];
    if (--fault.left <= 0) queue.splice(at, 1);
    return fault.action;
  };

  const server = createServer((req, res) => {
    const entry: Recorded = { method: req.method ?? '', path: req.url ?? '', status: 0 };
    requests.push(entry);
    const action = take(req);
    if (action && 'reset' in action) {
      req.socket.resetAndDestroy();
    } else if (action && 'status' in action) {
      entry.status = action.status;
      answerFault(req, res, action);
    } else {
      forward(req, res, entry, target, host, action);
    }
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    requests,
    add: (...faults) => queue.push(...faults.map((f) => ({ ...f, left: f.times ?? 1 }))),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers an injected status after draining the request body (so uploads do not stall the socket). */
function answerFault(req: IncomingMessage, res: ServerResponse, action: { status: number; retryAfter?: number; body?: string }): void {
  const body = Buffer.from(action.body ?? JSON.stringify({ errors: [{ code: 'INJECTED', message: `fault proxy: ${action.status}` }] }));
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
  if (action.retryAfter !== undefined) headers['retry-after'] = action.retryAfter;
  req.resume();
  req.once('end', () => {
    res.writeHead(action.status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

/** Forwards one request to the target and streams the answer back, applying a body fault if given. */
function forward(req: IncomingMessage, res: ServerResponse, entry: Recorded, target: string, self: string, fault?: FaultAction): void {
  const [hostname, port] = splitHost(target);
  const upstream = httpRequest({ hostname, port, method: req.method, path: req.url, headers: req.headers }, (up) => {
    entry.status = up.statusCode ?? 0;
    const headers = { ...up.headers };
    if (typeof headers.location === 'string') headers.location = rewriteLocation(headers.location, target, self);
    res.writeHead(up.statusCode ?? 502, up.statusMessage, headers);
    if (fault && 'truncateAfter' in fault) truncate(up, res, fault.truncateAfter);
    else if (fault && 'corrupt' in fault) corrupt(up, res, Number(up.headers['content-length'] ?? 0));
    else up.pipe(res);
  });
  upstream.on('error', (err) => {
    if (res.headersSent) return void res.destroy();
    entry.status = 502;
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`fault proxy: ${target} unreachable: ${err.message}`);
  });
  req.pipe(upstream);
}

/** Streams `up` into `res` through `edit` (which sees each chunk and its body offset), keeping backpressure. */
function relay(up: IncomingMessage, res: ServerResponse, edit: (chunk: Buffer, offset: number) => Buffer): void {
  let offset = 0;
  up.on('data', (chunk: Buffer) => {
    const out = edit(chunk, offset);
    offset += chunk.length;
    if (!res.write(out)) {
      up.pause();
      res.once('drain', () => up.resume());
    }
  });
  up.on('end', () => res.end());
}

/** Sends the first `limit` body bytes, then closes the socket so the client sees the body end early. */
function truncate(up: IncomingMessage, res: ServerResponse, limit: number): void {
  const socket = res.socket;
  let sent = 0;
  const cut = () => {
    up.destroy();
    // end() rather than destroy() so the bytes already written leave before the close; never res.end(),
    // which would leave a keep-alive socket open and the client waiting for the rest.
    socket?.end(() => socket.destroy());
  };
  up.on('data', (chunk: Buffer) => {
    if (sent >= limit) return;
    const part = chunk.subarray(0, limit - sent);
    sent += part.length;
    if (!res.write(part)) {
      up.pause();
      res.once('drain', () => up.resume());
    }
    if (sent >= limit) cut();
  });
  up.on('end', () => sent < limit && res.end());
  if (limit <= 0) {
    res.flushHeaders();
    cut();
  }
}

/** Streams the body with one byte flipped (XOR 0xff): the middle one when the length is known, else the first. */
function corrupt(up: IncomingMessage, res: ServerResponse, length: number): void {
  const victim = Math.floor(length / 2);
  relay(up, res, (chunk, offset) => {
    if (victim < offset || victim >= offset + chunk.length) return chunk;
    const copy = Buffer.from(chunk);
    copy[victim - offset] ^= 0xff;
    return copy;
  });
}

function splitHost(hostPort: string): [string, number] {
  const colon = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, colon).replace(/^\[|\]$/g, ''), Number(hostPort.slice(colon + 1))];
}

/** Keeps a redirect on the proxy when it names the target absolutely. */
function rewriteLocation(location: string, target: string, self: string): string {
  for (const scheme of ['http://', 'https://']) {
    if (location.startsWith(scheme + target + '/') || location === scheme + target) return 'http://' + self + location.slice(scheme.length + target.length);
  }
  return location;
}
