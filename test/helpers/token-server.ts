/**
 * A Docker token-auth server for tests (the `auth.token.realm` of a test registry): node:http on 127.0.0.1,
 * `GET /token?service=…&scope=…` answers an ES256 JWT that distribution 2.8 accepts. Basic credentials are
 * checked; anonymous requests get a token with no access (so the registry answers 401 insufficient_scope).
 * The signing key's self-signed certificate, made with openssl, is the registry's `rootcertbundle`.
 */
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * How a token names its signing key. distribution 2.8 accepts both: `x5c` carries the certificate, which must
 * chain to the rootcertbundle; `kid` is the libtrust fingerprint of a key from a certificate in the bundle.
 */
export type TokenKeyHeader = 'x5c' | 'kid';

/** What the token server needs: the key and certificate files, the one valid user, and the names the registry checks. */
export interface TokenServerOptions {
  keyFile: string;
  certFile: string;
  username: string;
  password: string;
  service: string;
  issuer: string;
  header?: TokenKeyHeader;
  /** Token lifetime reported in `expires_in` and the `exp` claim (default 300 s; the registry adds 60 s of leeway). */
  ttlSeconds?: number;
}

/** A running token server. */
export interface TokenServer {
  /** The realm URL the registry sends in its Bearer challenge: 'http://127.0.0.1:PORT/token'. */
  realm: string;
  /** How many token requests were answered (any outcome), for tests of token caching. */
  readonly tokenRequests: number;
  stop(): Promise<void>;
}

/** Makes an ES256 (P-256) key and a self-signed certificate for it in `dir`, with openssl. */
export async function makeSigningCert(dir: string): Promise<{ keyFile: string; certFile: string }> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  await run('openssl', ['req', '-new', '-x509', '-key', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=wasmbox test token issuer']);
  return { keyFile, certFile };
}

/** The libtrust key id distribution uses for `kid`: base32 of the first 240 bits of sha256(SPKI DER), in 4-char groups. */
export function libtrustKeyId(key: KeyObject): string {
  const digest = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of digest) bits += byte.toString(2).padStart(8, '0');
  const text = bits.match(/.{5}/g)!.map((b) => alphabet[parseInt(b, 2)]).join('');
  return text.match(/.{4}/g)!.join(':');
}

/** One requested scope, `type:name:actions` (the name may itself contain ':'). */
export function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Starts the token server on a random port of 127.0.0.1. */
export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(await readFile(opts.keyFile));
  const cert = new X509Certificate(await readFile(opts.certFile));
  const keyHeader =
    (opts.header ?? 'x5c') === 'x5c' ? { x5c: [cert.raw.toString('base64')] } : { kid: libtrustKeyId(createPublicKey(key)) };
  const ttl = opts.ttlSeconds ?? 300;
  let count = 0;

  const issue = (subject: string, scopes: string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const access = subject ? scopes.map(parseScope).filter((s) => s !== undefined) : [];
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', ...keyHeader }));
    const claims = { iss: opts.issuer, sub: subject, aud: opts.service, exp: now + ttl, nbf: now - 1, iat: now, jti: randomUUID(), access };
    const signed = `${header}.${b64url(JSON.stringify(claims))}`;
    // JWS wants ECDSA signatures as raw r||s, not DER.
    return `${signed}.${b64url(sign('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' }))}`;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    count++;
    const url = new URL(req.url ?? '/', 'http://token');
    if (req.method !== 'GET' || url.pathname !== '/token') return answer(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'GET /token only' }] });
    if (url.searchParams.get('service') !== opts.service) return answer(res, 400, { errors: [{ code: 'DENIED', message: `unknown service ${url.searchParams.get('service')}` }] });
    const user = basicUser(req.headers.authorization);
    if (user && (user.name !== opts.username || user.password !== opts.password)) {
      return answer(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: `wrong username or password for ${user.name}` }] });
    }
    const token = issue(user?.name ?? '', url.searchParams.getAll('scope').flatMap((s) => s.split(' ')));
    answer(res, 200, { token, access_token: token, expires_in: ttl, issued_at: new Date().toISOString() });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    get tokenRequests() {
      return count;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function basicUser(header: string | undefined): { name: string; password: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const text = Buffer.from(header.slice(6), 'base64').toString();
  const colon = text.indexOf(':');
  return colon < 0 ? { name: text, password: '' } : { name: text.slice(0, colon), password: text.slice(colon + 1) };
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length });
  res.end(bytes);
}
