import { fail, suggest } from '../errors.js';

/** How a Dockerfile (or `--build-context`) names an image; `text` is the reference as written. */
export type ImageRef =
  | { kind: 'scratch'; text: string }
  | { kind: 'oci-layout'; text: string; path: string; tag?: string; digest?: string }
  | { kind: 'docker-archive'; text: string; path: string; tag?: string }
  | { kind: 'oci-archive'; text: string; path: string; tag?: string }
  | { kind: 'registry'; text: string; ref: string };

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?$/;
const SCHEMES = ['oci-layout', 'docker-archive', 'oci-archive', 'docker-image'];

/** Parses an image reference; throws WasmboxError `IMAGE_REF` for malformed forms. Pure: no I/O. */
export function parseImageRef(text: string): ImageRef {
  if (text.trim() === '') bad(text, 'an image reference is empty', 'name an image, e.g. "alpine:3.19" or "scratch"');
  if (text === 'scratch') return { kind: 'scratch', text };
  const scheme = /^([a-zA-Z][\w+.-]*):\/\/(.*)$/s.exec(text);
  if (!scheme) return registry(text, text);
  const [, name, rest] = scheme;
  if (name === 'oci-layout') return ociLayout(text, rest);
  if (name === 'docker-archive' || name === 'oci-archive') return archive(text, name, rest);
  if (name === 'docker-image') return registry(text, rest);
  return bad(text, `unknown image scheme "${name}://"`, suggestScheme(name));
}

/** `PATH[:TAG][@sha256:HEX]`: like BuildKit, only a ':' after the last '/' starts the tag. */
function ociLayout(text: string, rest: string): ImageRef {
  let body = rest;
  let digest: string | undefined;
  const at = body.lastIndexOf('@');
  if (at >= 0 && /^sha\d+:/.test(body.slice(at + 1))) {
    digest = checkDigest(text, body.slice(at + 1));
    body = body.slice(0, at);
  }
  const { path, tag } = splitTag(body, body.lastIndexOf('/') + 1);
  if (path === '') bad(text, 'an oci-layout reference has no directory', 'write oci-layout://DIR[:TAG]');
  if (tag !== undefined) checkTag(text, tag);
  return { kind: 'oci-layout', text, path, ...(tag !== undefined && { tag }), ...(digest && { digest }) };
}

/** `FILE[:REF]`: like skopeo, the first ':' ends the file name, since RepoTags hold '/' and ':'. */
function archive(text: string, kind: 'docker-archive' | 'oci-archive', rest: string): ImageRef {
  const { path, tag } = splitTag(rest, 0, true);
  if (path === '') bad(text, `a ${kind} reference has no file`, `write ${kind}://FILE[:TAG]`);
  if (tag === '') bad(text, `a ${kind} reference has an empty tag after ':'`, 'drop the ":" or name a tag');
  return { kind, text, path, ...(tag !== undefined && { tag }) };
}

function splitTag(body: string, from: number, first = false): { path: string; tag?: string } {
  const colon = first ? body.indexOf(':', from) : body.lastIndexOf(':');
  if (colon < from) return { path: body };
  return { path: body.slice(0, colon), tag: body.slice(colon + 1) };
}

/** A registry reference `[host[:port]/]path[:tag][@digest]`, checked like docker's grammar. */
function registry(text: string, ref: string): ImageRef {
  let name = ref;
  const at = name.indexOf('@');
  if (at >= 0) {
    checkDigest(text, name.slice(at + 1));
    name = name.slice(0, at);
  }
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) {
    checkTag(text, name.slice(colon + 1));
    name = name.slice(0, colon);
  }
  checkName(text, name);
  return { kind: 'registry', text, ref };
}

function checkName(text: string, name: string): void {
  const parts = name.split('/');
  const first = parts[0];
  const isDomain = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  if (isDomain && !DOMAIN.test(first)) bad(text, `"${first}" is not a valid registry host`, 'write host[:port]/path');
  for (const part of isDomain ? parts.slice(1) : parts) {
    if (part !== part.toLowerCase()) bad(text, 'repository names must be lowercase', `write "${text.toLowerCase()}"`);
    if (!PATH_COMPONENT.test(part)) bad(text, `"${name}" is not a valid repository name`, 'use lowercase letters, digits and . _ - separated by /');
  }
}

function checkDigest(text: string, digest: string): string {
  if (!DIGEST.test(digest)) bad(text, `"${digest}" is not a valid digest`, 'a digest is sha256: followed by 64 lowercase hex digits');
  return digest;
}

function checkTag(text: string, tag: string): void {
  if (!TAG.test(tag)) bad(text, `"${tag}" is not a valid tag`, 'a tag is up to 128 letters, digits, _ . or -, not starting with . or -');
}

function suggestScheme(name: string): string {
  return suggest(name, SCHEMES) ?? `use one of ${SCHEMES.map((s) => `${s}://`).join(', ')}, or a registry name`;
}

function bad(text: string, message: string, hint: string): never {
  return fail('IMAGE_REF', message, { value: text, hint });
}

/** `docker.io/library/alpine` → `alpine:latest`: the short form docker itself writes in RepoTags. */
export function familiar(name: string): string {
  const short = name.replace(/^(?:docker\.io|index\.docker\.io)\//, '').replace(/^library\/(?=[^/]+$)/, '');
  return short.lastIndexOf(':') > short.lastIndexOf('/') ? short : `${short}:latest`;
}
