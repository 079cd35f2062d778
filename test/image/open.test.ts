import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { openImage } from '../../src/image/open.js';
import type { Platform } from '../../src/image/platform.js';
import { parseImageRef } from '../../src/image/ref.js';
import { layerTar, LayoutWriter, packTar, removeDir, tagged, tarDir, tempDir } from './build-images.js';

const ARM: Platform = { os: 'linux', architecture: 'arm', variant: 'v7' };
let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => removeDir(dir));

const open = (text: string, platform: Platform = ARM) => openImage(parseImageRef(text), { baseDir: dir, platform });

describe('openImage', () => {
  it('gives scratch as an empty image of the build platform, a fresh config each time', async () => {
    const img = await open('scratch');
    expect(img.ref).toBe('scratch');
    expect(await img.layers()).toEqual([]);
    const config = await img.config();
    expect(config).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7', config: {}, rootfs: { type: 'layers', diff_ids: [] } });
    config.config.Env = ['X=1'];
    expect((await img.config()).config).toEqual({});
  });

  it('resolves layout and archive paths against baseDir and dispatches by scheme', async () => {
    const w = new LayoutWriter(join(dir, 'sub/layout'));
    const { manifest } = await w.image([await layerTar({ a: 'A' })], 'layout');
    await w.finish([tagged(manifest, 'v1')]);
    await writeFile(join(dir, 'oci.tar'), await tarDir(join(dir, 'sub/layout')));
    const label = async (text: string) => (await (await open(text)).config()).config.Labels?.which;
    expect(await label('oci-layout://sub/layout:v1')).toBe('layout');
    expect(await label(`oci-layout://${dir}/sub/layout@${manifest.digest}`)).toBe('layout');
    expect(await label('oci-archive://oci.tar:v1')).toBe('layout');
    expect((await open('oci-layout://sub/layout')).ref).toBe('oci-layout://sub/layout');
  });

  it.each([
    ['oci-layout://missing', 'does not exist'],
    ['oci-layout://file.tar', 'not a directory'],
    ['docker-archive://dir', 'not a file'],
    ['oci-archive://missing.tar', 'does not exist'],
  ])('%s → IMAGE_NOT_FOUND (%s)', async (text, message) => {
    await writeFile(join(dir, 'file.tar'), await packTar([]));
    await mkdir(join(dir, 'dir'));
    await expect(open(text)).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND', value: text, message: expect.stringContaining(message) });
  });

  it('opens registry references through the registry access it is given, parsed the docker way', async () => {
    const error = await openImage(parseImageRef('ghcr.io/me/app:1'), {
      baseDir: dir,
      platform: ARM,
      // Refused here, so no network is used: test/registry/pull.test.ts pulls from a real registry.
      registry: () => {
        throw new WasmboxError('TEST_REGISTRY', 'registry access was asked for');
      },
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TEST_REGISTRY' });
    expect(() => parseImageRef('ghcr.io/Me/app:1')).toThrow(/lowercase/);
  });
});
