import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { apiHost, parseRegistryRef, refWith } from '../../src/registry/reference.js';

const D = `sha256:${'ab'.repeat(32)}`;

// One row per form: the text, then domain, repository, tag, digest, canonical.
const valid: [string, string, string, string | undefined, string | undefined, string][] = [
  ['alpine', 'docker.io', 'library/alpine', 'latest', undefined, 'docker.io/library/alpine:latest'],
  ['alpine:3.19', 'docker.io', 'library/alpine', '3.19', undefined, 'docker.io/library/alpine:3.19'],
  [`alpine@${D}`, 'docker.io', 'library/alpine', undefined, D, `docker.io/library/alpine@${D}`],
  [`alpine:3.19@${D}`, 'docker.io', 'library/alpine', '3.19', D, `docker.io/library/alpine:3.19@${D}`],
  ['org/app', 'docker.io', 'org/app', 'latest', undefined, 'docker.io/org/app:latest'],
  ['docker.io/alpine', 'docker.io', 'library/alpine', 'latest', undefined, 'docker.io/library/alpine:latest'],
  ['docker.io/library/alpine:3', 'docker.io', 'library/alpine', '3', undefined, 'docker.io/library/alpine:3'],
  ['index.docker.io/org/app:v1', 'docker.io', 'org/app', 'v1', undefined, 'docker.io/org/app:v1'],
  ['localhost/app', 'localhost', 'app', 'latest', undefined, 'localhost/app:latest'],
  ['localhost:5000/app', 'localhost:5000', 'app', 'latest', undefined, 'localhost:5000/app:latest'],
  [`127.0.0.1:5000/team/app@${D}`, '127.0.0.1:5000', 'team/app', undefined, D, `127.0.0.1:5000/team/app@${D}`],
  ['ghcr.io/org/app:1.4', 'ghcr.io', 'org/app', '1.4', undefined, 'ghcr.io/org/app:1.4'],
  ['ghcr.io/a/b__c/d-e.f', 'ghcr.io', 'a/b__c/d-e.f', 'latest', undefined, 'ghcr.io/a/b__c/d-e.f:latest'],
  ['Registry.Example.com/app', 'registry.example.com', 'app', 'latest', undefined, 'registry.example.com/app:latest'],
  ['myhost:443/app:tag_1', 'myhost:443', 'app', 'tag_1', undefined, 'myhost:443/app:tag_1'],
  ['docker-image://python:3.12-slim', 'docker.io', 'library/python', '3.12-slim', undefined, 'docker.io/library/python:3.12-slim'],
  // A first component without '.', ':' or 'localhost' is a path on Docker Hub, as in docker.
  ['myregistry/app', 'docker.io', 'myregistry/app', 'latest', undefined, 'docker.io/myregistry/app:latest'],
];

describe('parseRegistryRef accepts', () => {
  it.each(valid)('%s', (text, domain, repository, tag, digest, canonical) => {
    const ref = parseRegistryRef(text);
    expect(ref).toEqual({ domain, repository, canonical, ...(tag && { tag }), ...(digest && { digest }) });
  });
});

// One row per malformed form, with a fragment of the message that must explain it.
const invalid: [string, string][] = [
  ['', 'empty'],
  ['Alpine', 'lowercase'],
  ['ghcr.io/Org/app', 'lowercase'],
  ['alpine:', 'not a valid tag'],
  ['alpine:-x', 'not a valid tag'],
  ['alpine@sha256:1234', 'not a valid digest'],
  ['a//b', 'not a valid repository name'],
  ['host_name:5000/app', 'not a valid registry host'],
  ['scratch', 'not a registry reference'],
  ['oci-layout://dir', 'not a registry reference'],
  ['docker-archive://x.tar', 'not a registry reference'],
  [`ghcr.io/${'a'.repeat(250)}`, 'longer than 255'],
];

describe('parseRegistryRef rejects', () => {
  it.each(invalid)('%j', (text, message) => {
    let error: unknown;
    try {
      parseRegistryRef(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WasmboxError);
    expect(error).toMatchObject({ code: 'IMAGE_REF', value: text });
    expect((error as WasmboxError).message).toContain(message);
    expect((error as WasmboxError).hint).toBeTruthy();
  });
});

describe('apiHost and refWith', () => {
  it.each([
    ['docker.io', 'registry-1.docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['localhost:5000', 'localhost:5000'],
  ])('%s → %s', (domain, host) => expect(apiHost(domain)).toBe(host));

  it.each([
    ['3.19', 'docker.io/library/alpine:3.19'],
    [D, `docker.io/library/alpine@${D}`],
  ])('names %s', (reference, text) => expect(refWith(parseRegistryRef('alpine'), reference)).toBe(text));
});
