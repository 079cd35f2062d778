import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { imageLoader } from '../../src/build/images.js';

const at = { file: 'Dockerfile', line: 1 };

/** Which reference the loader tried to open: a missing oci-layout names its path; a registry ref asks for registry access (refused here, so no network is used). */
async function opened(contexts: Record<string, string>, ref: string): Promise<string> {
  const registry = (): never => {
    throw new WasmboxError('TEST_REGISTRY', 'registry access was asked for');
  };
  const loader = imageLoader({ baseDir: '/nonexistent-base', platform: { os: 'linux', architecture: 'amd64' }, contexts: new Map(Object.entries(contexts)), baseMap: { rules: [] }, registry });
  const err = await loader.load(ref, at).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WasmboxError);
  return (err as WasmboxError).code === 'TEST_REGISTRY' ? 'registry' : (err as WasmboxError).message;
}

describe('--build-context substitution', () => {
  it.each([
    [{ alpine: 'oci-layout://ctx-a' }, 'alpine', 'ctx-a'],
    [{ alpine: 'oci-layout://ctx-a' }, 'alpine:latest', 'ctx-a'],
    [{ alpine: 'oci-layout://ctx-a' }, 'docker.io/library/alpine', 'ctx-a'],
    [{ 'docker.io/library/alpine:latest': 'oci-layout://ctx-b' }, 'alpine', 'ctx-b'],
    [{ alpine: 'oci-layout://ctx-a' }, 'alpine:3.19', 'registry'],
    [{ alpine: 'oci-layout://ctx-a' }, 'ghcr.io/x/alpine', 'registry'],
  ])('%j: FROM %s opens %s', async (contexts, ref, want) => {
    const got = await opened(contexts, ref);
    expect(want === 'registry' ? got : got.includes(want)).toBe(want === 'registry' ? 'registry' : true);
  });
});
