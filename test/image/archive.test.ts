import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { familiar, openDockerArchive, openOciArchive } from '../../src/image/archive.js';
import { configFor, layerTar, LayoutWriter, packTar, removeDir, sha256, tagged, tarDir, tempDir, type TarMember } from './build-images.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => removeDir(dir));

async function write(name: string, bytes: Buffer): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  return file;
}

/** A `docker save` tarball: legacy (`<id>/layer.tar`, `<hex>.json`) or docker ≥ 25 (`blobs/sha256/…`). */
async function dockerSave(images: { tags: string[]; layers: Buffer[]; gzip?: boolean }[], style: 'legacy' | 'blobs', tamper = false) {
  const members: TarMember[] = [];
  const manifest = images.map((img, n) => {
    const config = JSON.stringify(configFor(img.layers.map((l) => sha256(l)), `image${n}`));
    const stored = img.layers.map((l) => (img.gzip ? gzipSync(l) : l));
    const layerNames = stored.map((l, i) => (style === 'blobs' ? `blobs/sha256/${sha256(l).slice(7)}` : `${n}${i}${'0'.repeat(62)}/layer.tar`));
    const configName = style === 'blobs' ? `blobs/sha256/${sha256(config).slice(7)}` : `${sha256(config).slice(7)}.json`;
    members.push({ name: configName, data: tamper ? config.replace('image', 'IMAGE') : config });
    stored.forEach((data, i) => members.push({ name: layerNames[i], data }));
    return { Config: configName, RepoTags: img.tags, Layers: layerNames };
  });
  members.push({ name: 'manifest.json', data: JSON.stringify(manifest) });
  return write('save.tar', await packTar(members));
}

describe('openDockerArchive', () => {
  it.each(['legacy', 'blobs'] as const)('reads a %s docker save archive without extracting it', async (style) => {
    const tars = [await layerTar({ a: 'A' }), await layerTar({ b: 'B' })];
    const file = await dockerSave([{ tags: ['app:1'], layers: tars }], style);
    const img = await openDockerArchive(file, 'docker-archive://save.tar', undefined);
    expect((await img.config()).config.Labels).toEqual({ which: 'image0' });
    const layers = await img.layers();
    expect(layers.map((l) => [l.digest, l.diffId, l.mediaType, l.size])).toEqual(tars.map((t) => [sha256(t), sha256(t), 'application/vnd.docker.image.rootfs.diff.tar', t.length]));
    const chunks: Uint8Array[] = [];
    for await (const c of await layers[1].open()) chunks.push(c);
    expect(Buffer.concat(chunks)).toEqual(tars[1]);
  });

  it('marks compressed layers: digest from a blobs/ name, else unknown (empty)', async () => {
    const tar = await layerTar({ a: 'A' });
    for (const [style, digest] of [['legacy', ''], ['blobs', sha256(gzipSync(tar))]] as const) {
      const img = await openDockerArchive(await dockerSave([{ tags: [], layers: [tar], gzip: true }], style), 'x', undefined);
      expect(await img.layers()).toMatchObject([{ digest, diffId: sha256(tar), mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }]);
    }
  });

  it('selects among several images by RepoTag, in docker short form or not', async () => {
    const file = await dockerSave([{ tags: ['alpine:3.19'], layers: [] }, { tags: ['ghcr.io/me/app:v1', 'busybox:latest'], layers: [] }], 'legacy');
    const labelOf = async (tag?: string) => (await (await openDockerArchive(file, 'x', tag)).config()).config.Labels?.which;
    expect(await labelOf('docker.io/library/alpine:3.19')).toBe('image0');
    expect(await labelOf('busybox')).toBe('image1');
    expect(await labelOf('ghcr.io/me/app:v1')).toBe('image1');
    await expect(labelOf()).rejects.toMatchObject({ code: 'IMAGE_AMBIGUOUS', hint: expect.stringContaining('alpine:3.19, ghcr.io/me/app:v1, busybox:latest') });
    await expect(labelOf('alpine:3.18')).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND', hint: expect.stringContaining('alpine:3.19') });
  });

  it.each(['legacy', 'blobs'] as const)('fails with DIGEST when a %s config does not match its name', async (style) => {
    const file = await dockerSave([{ tags: [], layers: [] }], style, true);
    await expect(openDockerArchive(file, 'x', undefined)).rejects.toMatchObject({ code: 'DIGEST' });
  });

  it('fails with IMAGE_INVALID when manifest.json is missing or a layer is absent', async () => {
    await expect(openDockerArchive(await write('empty.tar', await packTar([{ name: 'x', data: '' }])), 'x', undefined)).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    const config = JSON.stringify(configFor([sha256('l')], 'x'));
    const members = [{ name: 'c.json', data: config }, { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', Layers: ['gone/layer.tar'] }]) }];
    await expect(openDockerArchive(await write('gone.tar', await packTar(members)), 'x', undefined)).rejects.toMatchObject({ code: 'IMAGE_INVALID', value: 'gone/layer.tar' });
  });

  it.each([
    ['alpine', 'alpine:latest'],
    ['docker.io/library/alpine:3', 'alpine:3'],
    ['index.docker.io/me/app', 'me/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
  ])('familiar(%j) = %j', (name, want) => expect(familiar(name)).toBe(want));
});

describe('openOciArchive', () => {
  it('opens a tar of an OCI layout by tag, checking digests like a layout directory', async () => {
    const layout = join(dir, 'layout');
    const w = new LayoutWriter(layout);
    const one = await w.image([await layerTar({ a: '1' })], 'one', { gzip: true });
    const two = await w.image([await layerTar({ a: '2' })], 'two');
    await w.finish([tagged(one.manifest, 'v1'), tagged(two.manifest, 'v2')]);
    const file = await write('oci.tar', await tarDir(layout, './'));
    const img = await openOciArchive(file, 'oci-archive://oci.tar:v1', 'v1', { os: 'linux', architecture: 'amd64' });
    expect((await img.config()).config.Labels?.which).toBe('one');
    expect((await img.layers()).map((l) => l.digest)).toEqual(one.layers.map((l) => l.digest));
    await expect(openOciArchive(file, 'x', undefined, { os: 'linux', architecture: 'amd64' })).rejects.toMatchObject({ code: 'IMAGE_AMBIGUOUS' });
  });
});
