// Images made by real tools (umoci, skopeo) rather than by our own test helpers.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImage } from '../../src/image/open.js';
import { parseImageRef } from '../../src/image/ref.js';
import { layerTar, removeDir, sha256, tempDir } from './build-images.js';

const onPath = (tool: string) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, tool)));
const tools = ['umoci', 'skopeo'].filter((t) => !onPath(t));
if (tools.length) console.warn(`skipping the umoci/skopeo round trip: ${tools.join(' and ')} not installed`);

describe.skipIf(tools.length > 0)('images made by umoci and skopeo', () => {
  let dir: string;
  const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { cwd: dir, stdio: 'pipe' });
  const layer = { 'etc/hello': 'hello from umoci\n' };

  beforeAll(async () => {
    dir = await tempDir();
    run('umoci', 'init', '--layout', 'img');
    run('umoci', 'new', '--image', 'img:v1');
    await writeFile(join(dir, 'layer.tar'), await layerTar(layer));
    run('umoci', 'raw', 'add-layer', '--image', 'img:v1', 'layer.tar');
    run('umoci', 'config', '--image', 'img:v1', '--config.env', 'GREETING=hi', '--config.cmd', '/bin/hello');
    run('skopeo', 'copy', '--quiet', 'oci:img:v1', 'docker-archive:docker.tar:demo/app:v1');
    run('skopeo', 'copy', '--quiet', 'oci:img:v1', 'oci-archive:oci.tar:v1');
  });
  afterAll(() => removeDir(dir));

  it('opens the layout, the docker archive and the oci archive to the same config and diff_ids', async () => {
    const forms = ['oci-layout://img:v1', 'docker-archive://docker.tar:demo/app:v1', 'oci-archive://oci.tar:v1'];
    const images = await Promise.all(forms.map((text) => openImage(parseImageRef(text), { baseDir: dir, platform: { os: 'linux', architecture: 'amd64' } })));
    const configs = await Promise.all(images.map((img) => img.config()));
    expect(configs[0].config).toMatchObject({ Env: expect.arrayContaining(['GREETING=hi']), Cmd: ['/bin/hello'] });
    expect(configs[0].rootfs.diff_ids).toEqual([sha256(await layerTar(layer))]);
    for (const config of configs.slice(1)) {
      expect(config.config).toEqual(configs[0].config);
      expect(config.rootfs.diff_ids).toEqual(configs[0].rootfs.diff_ids);
    }
    for (const img of images) {
      const [l] = await img.layers();
      const chunks: Uint8Array[] = [];
      for await (const c of await l.open()) chunks.push(c);
      expect(sha256(Buffer.concat(chunks))).toBe(l.digest);
      expect(l.diffId).toBe(configs[0].rootfs.diff_ids[0]);
    }
  });
});
