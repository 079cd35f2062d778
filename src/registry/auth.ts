import { fail } from '../errors.js';
import { parseChallenge, type Challenge } from './challenge.js';
import { loadCredentials, type Credentials } from './credentials.js';
import { fetchToken, type Token } from './token.js';
import type { HttpRequest, Reply, Transport } from './transport.js';

export { parseChallenge, type Challenge } from './challenge.js';
export type { Credentials } from './credentials.js';

/** What a request is allowed to do, in token-scope form: `repository:org/app:pull` or `…:pull,push`. */
export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

/**
 * Adds credentials to registry requests: anonymous until a host answers 401, then Basic or Bearer as the
 * host's challenge asks. Bearer tokens are cached per (host, scope) until they expire and fetched again
 * when a cached one is refused.
 */
export class Authenticator {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, Promise<Token>>();
  private readonly logins = new Map<string, Promise<Credentials | undefined>>();

  constructor(
    private readonly transport: Transport,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Sends `req` to registry `host` (a reference domain) with credentials for `scopes`; answers one 401 challenge. */
  async send(host: string, scopes: string[], req: HttpRequest): Promise<Reply> {
    const first = await this.authorize(host, scopes, req);
    const reply = await this.transport.send(first.req);
    if (reply.status !== 401) return reply;
    await reply.discard();
    this.learn(host, reply.headers.get('www-authenticate'), req.what);
    if (first.token) await this.forget(tokenKey(host, scopes), first.token);
    const second = await this.transport.send((await this.authorize(host, scopes, req, true)).req);
    if (second.status !== 401) return second;
    await second.discard();
    return this.denied(host, req, second.status);
  }

  /** The credentials for `host` from docker's config, loaded once per client. */
  credentials(host: string): Promise<Credentials | undefined> {
    let found = this.logins.get(host);
    if (!found) this.logins.set(host, (found = loadCredentials(host, this.env)));
    return found;
  }

  /** Uses `login` for `host` instead of docker's config (for `wasmbox login`, before the login is saved). */
  useCredentials(host: string, login: Credentials | undefined): void {
    this.logins.set(host, Promise.resolve(login));
  }

  /** `req` with an Authorization header when the host's challenge is known (none before the first 401), and the token used. */
  private async authorize(host: string, scopes: string[], req: HttpRequest, mustHave = false): Promise<{ req: HttpRequest; token?: string }> {
    const challenge = this.challenges.get(host);
    if (!challenge) return { req };
    const login = await this.credentials(host);
    if (challenge.scheme === 'basic') {
      if (!login || !('password' in login)) return mustHave ? this.needsLogin(host, req) : { req };
      return { req: withAuth(req, `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`) };
    }
    const { token } = await this.token(host, challenge, scopes, login, req.what);
    return { req: withAuth(req, `Bearer ${token}`), token };
  }

  /** Remembers the challenge a 401 carried, preferring Bearer (Docker Hub offers both). */
  private learn(host: string, header: string | null, what: string): void {
    const offered = parseChallenge(header ?? '');
    const chosen = offered.find((c) => c.scheme === 'bearer' && c.params.realm) ?? offered.find((c) => c.scheme === 'basic');
    if (!chosen) {
      const names = offered.map((c) => c.scheme).join(', ') || 'none';
      fail('REGISTRY_AUTH', `registry ${host} asked for authentication wasmbox does not support (${names}) for ${what}`, {
        value: host,
        hint: 'wasmbox speaks Basic and Bearer token authentication; check the registry configuration',
      });
    }
    this.challenges.set(host, chosen);
  }

  /** A cached token for (host, scopes), or a fresh one; concurrent requests share one token request. */
  private async token(host: string, challenge: Challenge, scopes: string[], login: Credentials | undefined, what: string): Promise<Token> {
    const key = tokenKey(host, scopes);
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached;
      if (token.expiresAt > Date.now()) return token;
      this.forget(key, token.token);
      return this.token(host, challenge, scopes, login, what);
    }
    const pending = fetchToken(this.transport, { host, challenge, scopes, login, what });
    this.tokens.set(key, pending);
    pending.catch(() => this.tokens.get(key) === pending && this.tokens.delete(key));
    return pending;
  }

  /** Drops the cached token for `key` if it is still `token`: a concurrent request may have replaced it already. */
  private async forget(key: string, token: string): Promise<void> {
    const cached = this.tokens.get(key);
    if (cached && (await cached.catch(() => undefined))?.token === token && this.tokens.get(key) === cached) this.tokens.delete(key);
  }

  private async needsLogin(host: string, req: HttpRequest): Promise<never> {
    return fail('REGISTRY_AUTH', `registry ${host} requires a login for ${req.what}, and there are no credentials for it`, {
      value: host,
      hint: `log in with \`wasmbox login ${host}\``,
    });
  }

  private async denied(host: string, req: HttpRequest, status: number): Promise<never> {
    const login = await this.credentials(host);
    const user = login && 'password' in login ? login.username : login ? (login.username ?? 'with an identity token') : undefined;
    const who = user ? `user "${user}"` : 'anonymous access';
    return fail('REGISTRY_AUTH', `registry ${host} refused ${who} for ${req.method} ${req.what} (HTTP ${status})`, {
      value: host,
      hint: user
        ? `check that ${user} may access this repository, or log in again with \`wasmbox login ${host}\``
        : `log in with \`wasmbox login ${host}\``,
    });
  }
}

function withAuth(req: HttpRequest, value: string): HttpRequest {
  return { ...req, headers: { ...req.headers, authorization: value } };
}

function tokenKey(host: string, scopes: string[]): string {
  return `${host} ${[...scopes].sort().join(' ')}`;
}
