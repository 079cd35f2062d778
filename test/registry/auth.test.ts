import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WasmboxError } from '../../src/errors.js';
import { Authenticator, parseChallenge } from '../../src/registry/auth.js';
import { Transport } from '../../src/registry/transport.js';

// One row per header: the text, then the challenges it holds.
const challenges: [string, { scheme: string; params: Record<string, string> }[]][] = [
  ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
  [
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } }],
  ],
  ['bearer Realm=http://a/t , Service=svc', [{ scheme: 'bearer', params: { realm: 'http://a/t', service: 'svc' } }]],
  ['Bearer realm="a,b=c", error="insufficient_scope"', [{ scheme: 'bearer', params: { realm: 'a,b=c', error: 'insufficient_scope' } }]],
  ['Basic realm="say \\"hi\\" \\\\ bye"', [{ scheme: 'basic', params: { realm: 'say "hi" \\ bye' } }]],
  [
    'Basic realm="r1", Bearer realm="https://t/token",service="s"',
    [{ scheme: 'basic', params: { realm: 'r1' } }, { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } }],
  ],
  ['Negotiate abc123==, Basic realm="x"', [{ scheme: 'negotiate', params: {} }, { scheme: 'basic', params: { realm: 'x' } }]],
  ['Negotiate, NTLM', [{ scheme: 'negotiate', params: {} }, { scheme: 'ntlm', params: {} }]],
  ['Bearer', [{ scheme: 'bearer', params: {} }]],
  ['Bearer realm="unterminated', [{ scheme: 'bearer', params: { realm: 'unterminated' } }]],
  ['', []],
  [' , ,', []],
];

describe('parseChallenge', () => {
  it.each(challenges)('%j', (header, want) => expect(parseChallenge(header)).toEqual(want));
});

/** A fake registry plus token server on one node:http port: tokens `t1`, `t2`… valid until revoked. */
interface FakeRegistry {
  host: string;
  tokenRequests: string[][];
  /** The OAuth2 form posts (identity-token logins), as parsed fields. */
  forms: Record<string, string>[];
  registryAuth: (string | undefined)[];
  valid: Set<string>;
  close(): Promise<void>;
}

async function fakeRegistry(opts: { scheme?: string; expiresIn?: number; realm?: string } = {}): Promise<FakeRegistry> {
  const f = { tokenRequests: [] as string[][], forms: [] as Record<string, string>[], registryAuth: [] as (string | undefined)[], valid: new Set<string>() };
  const user = `Basic ${Buffer.from('ann:pw').toString('base64')}`;
  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      f.tokenRequests.push(url.searchParams.getAll('scope'));
      if (req.method === 'POST') f.forms.push(Object.fromEntries(new URLSearchParams(body)));
      const refused = req.method === 'POST' ? f.forms.at(-1)?.refresh_token !== 'idt' : req.headers.authorization && req.headers.authorization !== user;
      if (refused) return void res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      const token = `t${f.tokenRequests.length}`;
      f.valid.add(token);
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: opts.expiresIn }));
    }
    f.registryAuth.push(req.headers.authorization);
    const ok = opts.scheme === 'basic' ? req.headers.authorization === user : f.valid.has(req.headers.authorization?.replace(/^Bearer /, '') ?? '');
    if (ok) return void res.writeHead(200).end('ok');
    const realm = opts.realm ?? `http://${host}/token`;
    const challenge = opts.scheme === 'basic' ? 'Basic realm="fake"' : opts.scheme ?? `Bearer realm="${realm}",service="fake",scope="repository:${url.pathname.replace(/^\/v2\/|\/manifests\/.*$/g, '')}:pull"`;
    res.writeHead(401, { 'www-authenticate': challenge }).end();
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return { host, ...f, close };
}

let home: string;
let fake: FakeRegistry | undefined;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'wasmbox-auth-'));
});
afterAll(() => rm(home, { recursive: true, force: true }));
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** An authenticator whose docker config holds `user:password` for `host` (or nothing). */
async function authFor(host: string, login?: string): Promise<Authenticator> {
  const dir = await mkdtemp(join(home, 'cfg-'));
  const auths = login ? { [host]: { auth: Buffer.from(login).toString('base64') } } : {};
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }));
  return new Authenticator(new Transport({ retries: 0 }), { DOCKER_CONFIG: dir });
}

const get = (f: FakeRegistry, repo: string) => ({ method: 'GET', url: `http://${f.host}/v2/${repo}/manifests/1`, what: `${f.host}/${repo}:1`, maxBytes: 1000 });
const scope = (repo: string) => [`repository:${repo}:pull`];

async function failure(promise: Promise<unknown>): Promise<WasmboxError> {
  return promise.then(() => { throw new Error('expected a failure'); }, (error: WasmboxError) => error);
}

describe('Authenticator with Bearer tokens', () => {
  it('learns the challenge once and caches a token per scope', async () => {
    fake = await fakeRegistry();
    const auth = await authFor(fake.host, 'ann:pw');
    for (const repo of ['a/app', 'a/app', 'b/app', 'a/app']) expect((await auth.send(fake.host, scope(repo), get(fake, repo))).status).toBe(200);
    expect(fake.tokenRequests).toEqual([['repository:a/app:pull'], ['repository:b/app:pull']]);
    expect(fake.registryAuth).toEqual([undefined, 'Bearer t1', 'Bearer t1', 'Bearer t2', 'Bearer t1']);
  });

  it('shares one token request between concurrent requests', async () => {
    fake = await fakeRegistry();
    const auth = await authFor(fake.host, 'ann:pw');
    const replies = await Promise.all(Array.from({ length: 5 }, () => auth.send(fake!.host, scope('a/app'), get(fake!, 'a/app'))));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(fake.tokenRequests).toHaveLength(1);
  });

  it('fetches a new token when the cached one expires', async () => {
    fake = await fakeRegistry({ expiresIn: 1 });
    const auth = await authFor(fake.host);
    await auth.send(fake.host, scope('a/app'), get(fake, 'a/app'));
    await auth.send(fake.host, scope('a/app'), get(fake, 'a/app'));
    expect(fake.tokenRequests).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await auth.send(fake.host, scope('a/app'), get(fake, 'a/app'));
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.registryAuth.at(-1)).toBe('Bearer t2');
  });

  it('refreshes a token the registry stops accepting', async () => {
    fake = await fakeRegistry();
    const auth = await authFor(fake.host, 'ann:pw');
    await auth.send(fake.host, scope('a/app'), get(fake, 'a/app'));
    fake.valid.clear();
    expect((await auth.send(fake.host, scope('a/app'), get(fake, 'a/app'))).status).toBe(200);
    expect(fake.registryAuth).toEqual([undefined, 'Bearer t1', 'Bearer t1', 'Bearer t2']);
  });

  it('trades an identity token through the OAuth2 refresh-token flow', async () => {
    fake = await fakeRegistry();
    const dir = await mkdtemp(join(home, 'cfg-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [fake.host]: { identitytoken: 'idt' } } }));
    const auth = new Authenticator(new Transport({ retries: 0 }), { DOCKER_CONFIG: dir });
    expect((await auth.send(fake.host, scope('a/app'), get(fake, 'a/app'))).status).toBe(200);
    expect(fake.forms).toEqual([{ grant_type: 'refresh_token', refresh_token: 'idt', client_id: 'wasmbox', service: 'fake', scope: 'repository:a/app:pull' }]);
  });

  it('names the host and user when the token server rejects the login', async () => {
    fake = await fakeRegistry();
    const error = await failure((await authFor(fake.host, 'ann:wrong')).send(fake.host, scope('a/app'), get(fake, 'a/app')));
    expect(error).toMatchObject({ code: 'REGISTRY_AUTH' });
    expect(error.message).toContain(fake.host);
    expect(error.message).toContain('"ann"');
    expect(error.hint).toContain(`wasmbox login ${fake.host}`);
  });

  it('refuses a token realm over plain HTTP to a non-loopback host', async () => {
    fake = await fakeRegistry({ realm: 'http://auth.example.com/token' });
    const error = await failure((await authFor(fake.host, 'ann:pw')).send(fake.host, scope('a/app'), get(fake, 'a/app')));
    expect(error).toMatchObject({ code: 'REGISTRY_INSECURE' });
    expect(error.hint).toContain('--insecure-registry auth.example.com');
  });
});

describe('Authenticator with Basic and other schemes', () => {
  it('sends Basic credentials after the first challenge, then up front', async () => {
    fake = await fakeRegistry({ scheme: 'basic' });
    const auth = await authFor(fake.host, 'ann:pw');
    await auth.send(fake.host, scope('a/app'), get(fake, 'a/app'));
    await auth.send(fake.host, scope('b/app'), get(fake, 'b/app'));
    const basic = `Basic ${Buffer.from('ann:pw').toString('base64')}`;
    expect(fake.registryAuth).toEqual([undefined, basic, basic]);
  });

  // One row per failing login: the stored login, the scheme, and fragments the message and hint must hold.
  it.each([
    ['ann:wrong', 'basic', ['refused user "ann"'], 'wasmbox login'],
    [undefined, 'basic', ['requires a login', 'no credentials'], 'wasmbox login'],
    ['ann:pw', 'Negotiate', ['does not support (negotiate)'], 'Basic and Bearer'],
  ] as [string | undefined, string, string[], string][])('login %s with %s fails clearly', async (login, scheme, parts, hint) => {
    fake = await fakeRegistry({ scheme });
    const error = await failure((await authFor(fake.host, login)).send(fake.host, scope('a/app'), get(fake, 'a/app')));
    expect(error).toMatchObject({ code: 'REGISTRY_AUTH' });
    for (const part of [fake.host, ...parts]) expect(error.message).toContain(part);
    expect(error.hint).toContain(hint);
  });
});
