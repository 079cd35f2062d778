import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { parseImageRef } from '../../src/image/ref.js';

const D = `sha256:${'ab'.repeat(32)}`;

// One row per form: the text, then the parsed reference without its `text`.
const valid: [string, object][] = [
  ['scratch', { kind: 'scratch' }],
  ['oci-layout://img', { kind: 'oci-layout', path: 'img' }],
  ['oci-layout://./out/img:v1', { kind: 'oci-layout', path: './out/img', tag: 'v1' }],
  ['oci-layout:///abs/dir:latest', { kind: 'oci-layout', path: '/abs/dir', tag: 'latest' }],
  ['oci-layout://host:5000/dir', { kind: 'oci-layout', path: 'host:5000/dir' }],
  ['oci-layout://a:b/dir:tag', { kind: 'oci-layout', path: 'a:b/dir', tag: 'tag' }],
  [`oci-layout://img@${D}`, { kind: 'oci-layout', path: 'img', digest: D }],
  [`oci-layout://img:v1@${D}`, { kind: 'oci-layout', path: 'img', tag: 'v1', digest: D }],
  ['oci-layout://we@ird/dir', { kind: 'oci-layout', path: 'we@ird/dir' }],
  ['docker-archive://x.tar', { kind: 'docker-archive', path: 'x.tar' }],
  ['docker-archive://dir/x.tar:alpine:3.19', { kind: 'docker-archive', path: 'dir/x.tar', tag: 'alpine:3.19' }],
  ['docker-archive://x.tar:docker.io/library/alpine:3.19', { kind: 'docker-archive', path: 'x.tar', tag: 'docker.io/library/alpine:3.19' }],
  ['oci-archive://x.tar:v2', { kind: 'oci-archive', path: 'x.tar', tag: 'v2' }],
  ['alpine', { kind: 'registry', ref: 'alpine' }],
  ['alpine:3.19', { kind: 'registry', ref: 'alpine:3.19' }],
  [`alpine@${D}`, { kind: 'registry', ref: `alpine@${D}` }],
  [`alpine:3.19@${D}`, { kind: 'registry', ref: `alpine:3.19@${D}` }],
  ['localhost:5000/team/app:1.0', { kind: 'registry', ref: 'localhost:5000/team/app:1.0' }],
  ['Registry.Example.com/app', { kind: 'registry', ref: 'Registry.Example.com/app' }],
  ['ghcr.io/a/b__c/d-e.f', { kind: 'registry', ref: 'ghcr.io/a/b__c/d-e.f' }],
  ['docker-image://alpine:3', { kind: 'registry', ref: 'alpine:3' }],
];

describe('parseImageRef accepts', () => {
  it.each(valid)('%s', (text, want) => {
    expect(parseImageRef(text)).toEqual({ ...want, text });
  });
});

// One row per malformed form, with a fragment of the message that must explain it.
const invalid: [string, string][] = [
  ['', 'empty'],
  ['   ', 'empty'],
  ['Alpine', 'lowercase'],
  ['ghcr.io/Team/app', 'lowercase'],
  ['SCRATCH', 'lowercase'],
  ['alpine@sha256:abc', 'not a valid digest'],
  [`alpine@sha256:${'AB'.repeat(32)}`, 'not a valid digest'],
  ['alpine:', 'not a valid tag'],
  ['alpine:.bad', 'not a valid tag'],
  ['a//b', 'not a valid repository name'],
  ['-a', 'not a valid repository name'],
  ['oci-layout://', 'no directory'],
  ['oci-layout://:tag', 'no directory'],
  ['oci-layout://dir:', 'not a valid tag'],
  ['oci-layout://dir@sha256:1234', 'not a valid digest'],
  ['docker-archive://', 'no file'],
  ['oci-archive://x.tar:', 'empty tag'],
  ['oci-layuot://x', 'unknown image scheme'],
  ['https://example.com/x', 'unknown image scheme'],
];

describe('parseImageRef rejects', () => {
  it.each(invalid)('%j', (text, message) => {
    const error = catchError(() => parseImageRef(text));
    expect(error).toBeInstanceOf(WasmboxError);
    expect(error).toMatchObject({ code: 'IMAGE_REF', value: text });
    expect(error.message).toContain(message);
    expect(error.hint).toBeTruthy();
  });

  it('suggests the scheme a typo meant', () => {
    expect(catchError(() => parseImageRef('oci-layuot://x')).hint).toContain('oci-layout');
  });
});

function catchError(fn: () => unknown): WasmboxError {
  try {
    fn();
  } catch (error) {
    return error as WasmboxError;
  }
  throw new Error('expected an error');
}
