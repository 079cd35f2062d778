import { fail } from '../errors.js';
import { MAX_JSON_BYTES, checkDigest, digestOf } from '../image/blobs.js';
import { Authenticator, repositoryScope, type Credentials } from './auth.js';
import { registryErrorText, statusError } from './failures.js';
import { apiHost, makeRef, refWith, type RegistryRef } from './reference.js';
import { Transport, type HttpRequest, type Reply, type TransportOptions } from './transport.js';
import { uploadBlob, type UploadOptions } from './upload.js';

/** Options for a {@link RegistryClient}: transport settings plus the environment credentials are read from. */
export interface RegistryClientOptions extends TransportOptions {
  /** Where DOCKER_CONFIG/HOME and PATH (for credential helpers) come from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The manifest media types we accept, sent in full on every manifest request (registries 404 OCI ones otherwise). */
export const MANIFEST_ACCEPT: string[] = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** A manifest or index as the registry sent it, verified against its digest. */
export interface FetchedManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
}

const TAG = /^[\w][\w.-]{0,127}$/;
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream']);

/** An OCI distribution v2 client: manifests and blobs in both directions, with auth, retries and digest checks. */
export class RegistryClient {
  readonly transport: Transport;
  readonly auth: Authenticator;

  constructor(opts: RegistryClientOptions = {}) {
    this.transport = new Transport(opts);
    this.auth = new Authenticator(this.transport, opts.env ?? process.env);
  }

  /** GET a manifest by tag or digest; verifies bytes against the digest asked for (or Docker-Content-Digest). */
  async getManifest(ref: RegistryRef, reference: string): Promise<FetchedManifest> {
    const what = refWith(ref, checkReference(reference, ref));
    const reply = await this.pull(ref, 'GET', `manifests/${reference}`, what, { accept: MANIFEST_ACCEPT.join(', ') }, MAX_JSON_BYTES);
    await this.expect(reply, ref, 'GET', what, `manifest ${what}`);
    const digest = verifyManifest(reply.bytes, reference, reply.headers.get('docker-content-digest'), what, ref.domain);
    return { bytes: reply.bytes, mediaType: mediaTypeOf(reply.bytes, reply.headers), digest };
  }

  /** HEAD a manifest: its digest, or undefined on 404 (for `--pull` re-resolution). */
  async headManifest(ref: RegistryRef, reference: string): Promise<{ digest: string; mediaType: string } | undefined> {
    const what = refWith(ref, checkReference(reference, ref));
    const reply = await this.pull(ref, 'HEAD', `manifests/${reference}`, what, { accept: MANIFEST_ACCEPT.join(', ') });
    if (reply.status === 404) return undefined;
    await this.expect(reply, ref, 'HEAD', what);
    const header = reply.headers.get('docker-content-digest');
    // Without the header the digest is only known from the bytes, so fetch them.
    if (!header) return getDigestAndType(await this.getManifest(ref, reference));
    const digest = checkDigest(header, `the Docker-Content-Digest of ${what}`);
    if (reference.includes(':') && digest !== reference) mismatch(`manifest ${what}`, ref.domain, reference, digest);
    return { digest, mediaType: baseType(reply.headers.get('content-type')) };
  }

  /** A fresh stream of a blob (redirects followed; auth not forwarded cross-host). Caller verifies the digest. */
  async openBlob(ref: RegistryRef, digest: string): Promise<AsyncIterable<Uint8Array>> {
    const what = `blob ${checkDigest(digest, `a blob of ${ref.canonical}`)} of ${ref.domain}/${ref.repository}`;
    const reply = await this.pull(ref, 'GET', `blobs/${digest}`, what);
    await this.expect(reply, ref, 'GET', what, what);
    return reply.body();
  }

  /** Whether the repository has the blob (HEAD 200) or not (404). */
  async hasBlob(ref: RegistryRef, digest: string): Promise<boolean> {
    const what = `blob ${checkDigest(digest, `a blob of ${ref.canonical}`)} of ${ref.domain}/${ref.repository}`;
    const reply = await this.pull(ref, 'HEAD', `blobs/${digest}`, what);
    if (reply.status === 404) return false;
    await this.expect(reply, ref, 'HEAD', what);
    return true;
  }

  /** Cross-repo mount; true when the registry mounted it (201), false when it opened an upload instead. */
  async mountBlob(ref: RegistryRef, digest: string, from: string): Promise<boolean> {
    const what = `blob ${checkDigest(digest, `a blob of ${ref.canonical}`)} mounted from ${from} into ${ref.domain}/${ref.repository}`;
    const url = this.url(ref, 'blobs/uploads/');
    url.search = new URLSearchParams({ mount: digest, from }).toString();
    const scopes = [repositoryScope(ref.repository, 'pull,push'), repositoryScope(from, 'pull')];
    const reply = await this.request(ref, scopes, { method: 'POST', url, what });
    await this.expect(reply, ref, 'POST', what, undefined, [201, 202]);
    await reply.discard();
    if (reply.status === 201) return true;
    // The registry opened an upload session instead; close it so it does not linger until garbage collection.
    const location = reply.headers.get('location');
    if (location) await this.request(ref, scopes, { method: 'DELETE', url: new URL(location, reply.url), what, retry: false }).then((r) => r.discard(), () => undefined);
    return false;
  }

  /** Uploads a blob: monolithic PUT when size <= chunkSize (default 8 MiB), else chunked PATCHes. */
  async uploadBlob(ref: RegistryRef, digest: string, size: number, open: () => AsyncIterable<Uint8Array>, opts: UploadOptions = {}): Promise<void> {
    const what = `blob ${checkDigest(digest, `a blob for ${ref.canonical}`)} for ${ref.domain}/${ref.repository}`;
    const scopes = [repositoryScope(ref.repository, 'pull,push')];
    await uploadBlob({
      transport: this.transport,
      start: this.url(ref, 'blobs/uploads/'),
      what,
      send: (req) => this.request(ref, scopes, req),
      expect: (reply, method, ok) => this.expect(reply, ref, method, what, undefined, ok),
    }, { digest, size, open }, opts);
  }

  /** PUT a manifest under a tag or digest; returns its digest. */
  async putManifest(ref: RegistryRef, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const what = refWith(ref, checkReference(reference, ref));
    const digest = digestOf(bytes, reference.includes(':') ? reference : 'sha256:');
    if (reference.includes(':') && digest !== reference) mismatch(`manifest ${what}`, 'the bytes to push', reference, digest);
    const url = this.url(ref, `manifests/${reference}`);
    const reply = await this.request(ref, [repositoryScope(ref.repository, 'pull,push')], { method: 'PUT', url, what, headers: { 'content-type': mediaType }, body: bytes });
    await this.expect(reply, ref, 'PUT', what, undefined, [200, 201, 202, 204]);
    await reply.discard();
    const said = reply.headers.get('docker-content-digest');
    if (said && said !== digest && said.startsWith('sha256:')) mismatch(`manifest ${what}`, ref.domain, digest, said);
    return digest;
  }

  /** Checks a login against a registry (GET /v2/ with it, as `docker login` does); REGISTRY_AUTH when refused. */
  async checkLogin(domain: string, login: Credentials): Promise<void> {
    this.auth.useCredentials(domain, login);
    const ref = makeRef(domain, 'v2-base');
    const url = this.transport.url(apiHost(domain), '/v2/');
    const reply = await this.auth.send(domain, [], { method: 'GET', url, what: `the login for ${domain}`, maxBytes: 1 << 20 });
    await this.expect(reply, ref, 'GET', `the login for ${domain}`);
  }

  private url(ref: RegistryRef, path: string): URL {
    return this.transport.url(apiHost(ref.domain), `/v2/${ref.repository}/${path}`);
  }

  private pull(ref: RegistryRef, method: string, path: string, what: string, headers?: Record<string, string>, maxBytes?: number): Promise<Reply> {
    const scopes = [repositoryScope(ref.repository, 'pull')];
    return this.request(ref, scopes, { method, url: this.url(ref, path), what, headers, maxBytes });
  }

  /** Sends through the authenticator, unless the URL left the registry (an upload location elsewhere): no credentials there. */
  private request(ref: RegistryRef, scopes: string[], req: HttpRequest): Promise<Reply> {
    const registry = this.url(ref, '');
    if (new URL(req.url).origin !== registry.origin) return this.transport.send(req);
    return this.auth.send(ref.domain, scopes, req);
  }

  /** Throws the error a status means unless it is one of `ok`: IMAGE_NOT_FOUND for 404 of `missing`, REGISTRY_AUTH, REGISTRY. */
  private async expect(reply: Reply, ref: RegistryRef, method: string, what: string, missing?: string, ok = [200]): Promise<void> {
    if (ok.includes(reply.status)) return;
    await reply.discard();
    const detail = registryErrorText(reply.bytes);
    if (reply.status === 404 && missing) {
      fail('IMAGE_NOT_FOUND', `${missing} was not found on registry ${ref.domain}${detail ? ` (${detail})` : ''}`, {
        value: what,
        hint: 'check the repository name, tag and digest; the image may have been deleted',
      });
    }
    if (reply.status === 401 || reply.status === 403) {
      const login = await this.auth.credentials(ref.domain);
      const who = login && 'password' in login ? `user "${login.username}"` : login ? 'the stored identity token' : 'anonymous access';
      fail('REGISTRY_AUTH', `registry ${ref.domain} denied ${method} ${what} to ${who} (HTTP ${reply.status}${detail ? `: ${detail}` : ''})`, {
        value: ref.domain,
        hint: `check the account may access ${ref.repository}, or log in with \`wasmbox login ${ref.domain}\``,
      });
    }
    throw statusError(reply.status, method, reply.url, what, detail);
  }
}

/** A tag or digest that is safe to put in a URL path. */
function checkReference(reference: string, ref: RegistryRef): string {
  if (reference.includes(':')) return checkDigest(reference, `a manifest of ${ref.canonical}`);
  if (!TAG.test(reference)) fail('IMAGE_REF', `"${reference}" is not a valid tag`, { value: reference, hint: 'a tag is up to 128 letters, digits, _ . or -, not starting with . or -' });
  return reference;
}

/** The manifest's digest: the one asked for, else the registry's Docker-Content-Digest, else computed; bytes must match. */
function verifyManifest(bytes: Uint8Array, reference: string, header: string | null, what: string, host: string): string {
  const expected = reference.includes(':') ? reference : header ? checkDigest(header, `the Docker-Content-Digest of ${what}`) : undefined;
  const actual = digestOf(bytes, expected ?? 'sha256:');
  if (expected && actual !== expected) mismatch(`manifest ${what}`, `registry ${host}`, expected, actual);
  return actual;
}

function mismatch(what: string, from: string, expected: string, actual: string): never {
  return fail('DIGEST', `${what} from ${from} does not match its digest ${expected}`, {
    value: expected,
    hint: `its bytes hash to ${actual}; the registry or something between it and you altered them`,
  });
}

/** The media type the digest covers (the manifest's own field) or, failing that, a specific Content-Type. */
function mediaTypeOf(bytes: Uint8Array, headers: Reply['headers']): string {
  let own: unknown;
  try {
    own = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown; manifests?: unknown })?.mediaType;
  } catch {
    // Invalid JSON is the caller's to report when it parses the manifest.
  }
  if (typeof own === 'string' && own) return own;
  return baseType(headers.get('content-type'));
}

function baseType(contentType: string | null): string {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return GENERIC_TYPES.has(type) ? '' : type;
}

function getDigestAndType(m: FetchedManifest): { digest: string; mediaType: string } {
  return { digest: m.digest, mediaType: m.mediaType };
}
