import { fail } from '../errors.js';
import { parseImageRef } from '../image/ref.js';

/** A registry image reference, normalised the docker way. */
export interface RegistryRef {
  /** Registry host[:port] as written/normalised: 'docker.io' for Docker Hub. */
  domain: string;
  /** Repository path: 'library/alpine', 'org/app'. */
  repository: string;
  /** Absent when only a digest was given; 'latest' filled in when neither was. */
  tag?: string;
  digest?: string;
  /** The canonical form, e.g. 'docker.io/library/alpine:3.19' or 'localhost:5000/app@sha256:…'. */
  readonly canonical: string;
}

/** Docker Hub's name in references; its API lives elsewhere (see {@link apiHost}). */
export const DOCKER_HUB = 'docker.io';
// Docker's own limit on the repository name including the domain.
const MAX_NAME = 255;

/** Parses `[host[:port]/]path[:tag][@digest]` with docker's defaults; throws WasmboxError `IMAGE_REF`. */
export function parseRegistryRef(text: string): RegistryRef {
  const parsed = parseImageRef(text);
  if (parsed.kind !== 'registry') {
    fail('IMAGE_REF', `"${text}" is not a registry reference`, { value: text, hint: 'write [HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST], e.g. "alpine:3.19" or "localhost:5000/app:1.0"' });
  }
  // parseImageRef has checked the grammar, so these splits cannot meet malformed parts.
  let name = parsed.ref;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) [name, digest] = [name.slice(0, at), name.slice(at + 1)];
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) [name, tag] = [name.slice(0, colon), name.slice(colon + 1)];
  if (name.length > MAX_NAME) {
    fail('IMAGE_REF', `the repository name is longer than ${MAX_NAME} characters`, { value: text, hint: 'use a shorter repository name' });
  }
  const { domain, repository } = splitDomain(name);
  return makeRef(domain, repository, tag ?? (digest ? undefined : 'latest'), digest);
}

/** A {@link RegistryRef} from its parts, with `canonical` filled in. */
export function makeRef(domain: string, repository: string, tag?: string, digest?: string): RegistryRef {
  const canonical = `${domain}/${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return { domain, repository, ...(tag && { tag }), ...(digest && { digest }), canonical };
}

/** The reference naming `reference` (a tag or a digest) in `ref`'s repository, for messages. */
export function refWith(ref: RegistryRef, reference: string): string {
  return `${ref.domain}/${ref.repository}${reference.includes(':') ? '@' : ':'}${reference}`;
}

/** 'docker.io' → 'registry-1.docker.io'; others unchanged. */
export function apiHost(domain: string): string {
  return domain === DOCKER_HUB ? 'registry-1.docker.io' : domain;
}

/** Docker's rule: the first component is a host when it has '.', ':', upper case, or is 'localhost'. */
function splitDomain(name: string): { domain: string; repository: string } {
  const slash = name.indexOf('/');
  const first = name.slice(0, slash);
  const isHost = slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  if (!isHost) return hub(name);
  // Host names are case-insensitive; one spelling keeps credentials and cache keys stable.
  const domain = first.toLowerCase();
  if (domain === 'index.docker.io' || domain === DOCKER_HUB) return hub(name.slice(slash + 1));
  return { domain, repository: name.slice(slash + 1) };
}

function hub(path: string): { domain: string; repository: string } {
  return { domain: DOCKER_HUB, repository: path.includes('/') ? path : `library/${path}` };
}
