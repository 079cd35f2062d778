import { fail } from '../errors.js';
import type { Challenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { statusError } from './failures.js';
import type { HttpRequest, Transport } from './transport.js';

/** A bearer token and when to stop using it (ms since the epoch). */
export interface Token {
  token: string;
  expiresAt: number;
}

/** What a token request needs: the registry, its Bearer challenge, the scopes, and the login if any. */
export interface TokenRequest {
  host: string;
  challenge: Challenge;
  scopes: string[];
  login?: Credentials;
  /** The image reference the token is for, for messages. */
  what: string;
}

const MAX_TOKEN_BYTES = 1 << 20;
// The distribution token spec: a token without expires_in lives 60 seconds.
const DEFAULT_EXPIRES_S = 60;

/** Asks the challenge's realm for a token: GET with Basic credentials, or the OAuth2 refresh flow for identity tokens. */
export async function fetchToken(transport: Transport, r: TokenRequest): Promise<Token> {
  const realm = realmOf(r);
  // Our own scopes, not the challenge's: a host's challenge is remembered, but its scope named one past request.
  const req = r.login && 'identityToken' in r.login ? oauthRequest(realm, r, r.scopes) : getRequest(realm, r, r.scopes);
  const reply = await transport.send(req);
  if (reply.status === 401 || reply.status === 403) return rejected(realm, r, reply.status);
  if (reply.status !== 200) throw statusError(reply.status, req.method, reply.url, req.what);
  return parseToken(reply.bytes, realm, r);
}

function realmOf(r: TokenRequest): URL {
  try {
    return new URL(r.challenge.params.realm ?? '');
  } catch {
    return fail('REGISTRY_AUTH', `registry ${r.host} sent a token realm that is not a URL for ${r.what}`, {
      value: r.challenge.params.realm ?? '',
      hint: 'the registry is misconfigured (auth.token.realm); tell its operator',
    });
  }
}

function getRequest(realm: URL, r: TokenRequest, scopes: string[]): HttpRequest {
  const url = new URL(realm);
  if (r.challenge.params.service) url.searchParams.set('service', r.challenge.params.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (r.login && 'password' in r.login) {
    headers.authorization = `Basic ${Buffer.from(`${r.login.username}:${r.login.password}`).toString('base64')}`;
  }
  return { method: 'GET', url, headers, what: `a token for ${r.what}`, maxBytes: MAX_TOKEN_BYTES };
}

function oauthRequest(realm: URL, r: TokenRequest, scopes: string[]): HttpRequest {
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: (r.login as { identityToken: string }).identityToken,
    client_id: 'wasmbox',
    ...(r.challenge.params.service && { service: r.challenge.params.service }),
    ...(scopes.length && { scope: scopes.join(' ') }),
  });
  return {
    method: 'POST',
    url: realm,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new TextEncoder().encode(form.toString()),
    what: `a token for ${r.what}`,
    maxBytes: MAX_TOKEN_BYTES,
  };
}

function parseToken(bytes: Uint8Array, realm: URL, r: TokenRequest): Token {
  let body: { token?: unknown; access_token?: unknown; expires_in?: unknown } = {};
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof body;
  } catch {
    // Reported below.
  }
  const token = typeof body?.token === 'string' && body.token ? body.token : body?.access_token;
  if (typeof token !== 'string' || !token) {
    fail('REGISTRY_AUTH', `token server ${realm.host} for registry ${r.host} answered without a token for ${r.what}`, {
      value: realm.href,
      hint: 'the token server is misconfigured; tell its operator',
    });
  }
  const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_S;
  // Stop using a token a little before it expires, so a request in flight does not carry a dead one.
  const lifetime = seconds * 1000;
  return { token, expiresAt: Date.now() + lifetime - Math.min(10_000, lifetime / 10) };
}

function rejected(realm: URL, r: TokenRequest, status: number): never {
  const user = r.login ? ('password' in r.login ? r.login.username : (r.login.username ?? 'identity token')) : undefined;
  if (!user) {
    return fail('REGISTRY_AUTH', `token server ${realm.host} for registry ${r.host} refused anonymous access to ${r.what} (HTTP ${status})`, {
      value: r.host,
      hint: `log in with \`wasmbox login ${r.host}\``,
    });
  }
  return fail('REGISTRY_AUTH', `token server ${realm.host} for registry ${r.host} rejected the login of user "${user}" for ${r.what} (HTTP ${status})`, {
    value: r.host,
    hint: `check the user name and password, and log in again with \`wasmbox login ${r.host}\``,
  });
}
