import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dirStore } from '../../src/image/blobs.js';
import { openOciLayout, type LayoutSelector } from '../../src/image/oci-layout.js';
import type { Platform } from '../../src/image/platform.js';
import type { ImageSource } from '../../src/image/source.js';
import { layerTar, LayoutWriter, OCI_INDEX, OCI_MANIFEST, removeDir, sha256, tagged, tempDir } from './build-images.js';

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };
const ARM64: Platform = { os: 'linux', architecture: 'arm64' };
let dir: string;
let w: LayoutWriter;

beforeEach(async () => {
  dir = await tempDir();
  w = new LayoutWriter(dir);
});
afterEach(() => removeDir(dir));

const open = (sel: Partial<LayoutSelector> = {}) => openOciLayout(dirStore(dir), 'oci-layout://test', { platform: AMD64, ...sel });
const label = async (img: ImageSource) => (await img.config()).config.Labels?.which;

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('openOciLayout', () => {
  it('opens the only image: config, layers paired with diff_ids, re-openable blobs', async () => {
    const tars = [await layerTar({ 'a.txt': 'A' }), await layerTar({ 'b.txt': 'B' })];
    const { manifest, layers } = await w.image(tars, 'only', { gzip: true });
    await w.finish([manifest]);
    const img = await open();
    expect(await label(img)).toBe('only');
    const got = await img.layers();
    expect(got.map((l) => [l.digest, l.diffId, l.size])).toEqual(layers.map((d, i) => [d.digest, sha256(tars[i]), d.size]));
    expect(got[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    const first = await readAll(await got[1].open());
    expect(sha256(first)).toBe(layers[1].digest);
    expect(await readAll(await got[1].open())).toEqual(first);
  });

  it('selects by tag, by digest, and lists the tags when no tag is given', async () => {
    const one = await w.image([await layerTar({ x: '1' })], 'one');
    const two = await w.image([await layerTar({ x: '2' })], 'two');
    await w.finish([tagged(one.manifest, 'v1'), tagged(two.manifest, 'v2')]);
    expect(await label(await open({ tag: 'v2' }))).toBe('two');
    expect(await label(await open({ digest: one.manifest.digest }))).toBe('one');
    await expect(open()).rejects.toMatchObject({ code: 'IMAGE_AMBIGUOUS', hint: expect.stringContaining('v1, v2') });
    await expect(open({ tag: 'v3' })).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND', hint: expect.stringMatching(/v1|v2/) });
    await expect(open({ digest: sha256('nothing') })).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });

  it('follows a nested index to the wanted platform', async () => {
    const amd = await w.image([await layerTar({ arch: 'amd64' })], 'amd', { platform: AMD64 });
    const arm = await w.image([await layerTar({ arch: 'arm64' })], 'arm', { platform: ARM64 });
    const index = await w.index([arm.manifest, amd.manifest]);
    await w.finish([tagged(index, 'multi')]);
    expect(await label(await open({ tag: 'multi' }))).toBe('amd');
    expect(await label(await open({ tag: 'multi', platform: { os: 'linux', architecture: 'aarch64' } }))).toBe('arm');
    await expect(open({ platform: { os: 'linux', architecture: 'riscv64' } })).rejects.toMatchObject({
      code: 'PLATFORM',
      hint: expect.stringContaining('linux/arm64, linux/amd64'),
    });
  });

  it('chooses by platform among platform-annotated top-level manifests', async () => {
    const amd = await w.image([], 'amd', { platform: AMD64 });
    const arm = await w.image([], 'arm', { platform: ARM64 });
    await w.finish([arm.manifest, amd.manifest]);
    expect(await label(await open())).toBe('amd');
  });

  it('refuses a directory that is not a layout, and a layout with no images', async () => {
    await expect(open()).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND', message: expect.stringContaining('oci-layout file') });
    await w.finish([]);
    await expect(open()).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });
});

describe('openOciLayout on tampered layouts', () => {
  it('fails with DIGEST when a manifest no longer matches its digest', async () => {
    const { manifest } = await w.image([await layerTar({ a: 'a' })], 'x');
    await w.finish([manifest]);
    const path = join(dir, 'blobs/sha256', manifest.digest.slice(7));
    await writeFile(path, (await readFile(path, 'utf8')).replace('"schemaVersion":2', '"schemaVersion": 2'));
    await expect(open()).rejects.toMatchObject({ code: 'DIGEST', value: manifest.digest });
  });

  it('fails with DIGEST when a config no longer matches its digest', async () => {
    const { manifest, config } = await w.image([await layerTar({ a: 'a' })], 'x');
    await w.finish([manifest]);
    const path = join(dir, 'blobs/sha256', sha256(JSON.stringify(config)).slice(7));
    await writeFile(path, JSON.stringify({ ...config, os: 'evil' }));
    await expect(open()).rejects.toMatchObject({ code: 'DIGEST' });
  });

  // Each row is a digest a hostile index or manifest might carry; none may become a file path.
  it.each(['sha256:../../../etc/passwd', 'sha256/../../x', `sha256:${'a'.repeat(63)}`, `md5:${'a'.repeat(32)}`, `sha256:${'A'.repeat(64)}`, 42])(
    'rejects the blob reference %j with DIGEST',
    async (digest) => {
      await w.finish([{ mediaType: OCI_MANIFEST, digest: digest as string, size: 1 }]);
      await expect(open()).rejects.toMatchObject({ code: 'DIGEST' });
      const manifest = await w.json({ schemaVersion: 2, config: { digest }, layers: [] }, OCI_MANIFEST);
      await w.finish([manifest]);
      await expect(open()).rejects.toMatchObject({ code: 'DIGEST' });
    },
  );

  it('rejects a layer digest that is not a digest, before any read', async () => {
    const config = await w.json({ os: 'linux', architecture: 'amd64', config: {}, rootfs: { type: 'layers', diff_ids: [sha256('x')] } }, 'c');
    const manifest = await w.json({ schemaVersion: 2, config, layers: [{ digest: 'sha256:../../x', size: 1 }] }, OCI_MANIFEST);
    await w.finish([manifest]);
    await expect(open()).rejects.toMatchObject({ code: 'DIGEST', value: 'sha256:../../x' });
  });

  it('fails with IMAGE_INVALID when layers and diff_ids disagree, or a layer blob is missing', async () => {
    const config = await w.json({ os: 'linux', architecture: 'amd64', config: {}, rootfs: { type: 'layers', diff_ids: [] } }, 'c');
    const missing = { mediaType: 'l', digest: sha256('absent'), size: 6 };
    await w.finish([await w.json({ schemaVersion: 2, config, layers: [missing] }, OCI_MANIFEST)]);
    await expect(open()).rejects.toMatchObject({ code: 'IMAGE_INVALID', message: expect.stringContaining('1 layers but its config has 0') });
    const config2 = await w.json({ os: 'linux', architecture: 'amd64', config: {}, rootfs: { type: 'layers', diff_ids: [sha256('x')] } }, 'c');
    await w.finish([await w.json({ schemaVersion: 2, config: config2, layers: [missing] }, OCI_MANIFEST)]);
    const [layer] = await (await open()).layers();
    await expect(layer.open()).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
  });

  it('refuses indexes nested too deeply', async () => {
    let top = (await w.image([], 'deep')).manifest;
    for (let i = 0; i < 6; i++) top = await w.json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [top] }, OCI_INDEX);
    await w.finish([top]);
    await expect(open()).rejects.toMatchObject({ code: 'IMAGE_INVALID', message: expect.stringContaining('nest') });
  });
});
