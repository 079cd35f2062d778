// A box as an OCI image: deterministic blobs, layouts and archives that our reader, skopeo and umoci
// accept, a round trip back to byte-identical box files, and writes that leave nothing on failure.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeDiffId } from '../../src/box/canonical-tar.js';
import { BOX_PLATFORM, MEDIA_TYPES, REF_NAME, boxImage, withBoxImage, type BoxImage } from '../../src/box/oci-image.js';
import { writeOciArchive, writeOciLayout } from '../../src/box/oci-write.js';
import { writeBox } from '../../src/box/pack.js';
import { WasmboxError } from '../../src/errors.js';
import { flattenImage } from '../../src/fs/flatten.js';
import { IMPLICIT_DIR, type Tree } from '../../src/fs/tree.js';
import { openOciArchive } from '../../src/image/archive.js';
import { dirStore } from '../../src/image/blobs.js';
import { openOciLayout } from '../../src/image/oci-layout.js';
import type { ImageSource } from '../../src/image/source.js';
import { fixture, scratchDir } from '../helpers/fixtures.js';
import { reversedTree, sampleConfig, sampleTree } from './sample-tree.js';

const run = promisify(execFile);
const BOX_FILES = ['box.json', 'config.json', 'rootfs.wbfs'];
const has = (tool: string) => existsSync(`/usr/bin/${tool}`);

let work: string;
let remove: () => Promise<void>;
let box: string;
beforeAll(async () => {
  ({ dir: work, remove } = await scratchDir('wasmbox-oci-image-'));
  // The layer's temporary file goes under TMPDIR: a private one shows whether anything is left behind.
  process.env.TMPDIR = join(work, 'tmp');
  await mkdir(process.env.TMPDIR);
  box = await makeBox('box', plainRoot(sampleTree()));
});
afterAll(async () => remove());

// A plain (implicit 0755 root:root mtime 0) root has no "./" entry in the layer; most tests use one, and
// 'keeps the metadata of the root directory' covers a root with its own metadata.
function plainRoot(tree: Tree): Tree {
  Object.assign(tree.root, IMPLICIT_DIR);
  return tree;
}

async function makeBox(name: string, tree: Tree, edit: (config: ReturnType<typeof sampleConfig>) => void = () => {}): Promise<string> {
  const config = sampleConfig();
  config.rootfs.diff_ids = [await treeDiffId(tree)];
  edit(config);
  await writeBox(join(work, name), tree, config);
  return join(work, name);
}

async function bytesOf(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const digests = (i: BoxImage) => [i.config, ...i.layers, i.manifest, i.index].map((b) => b.digest);
// box.json as text (it names the other two files' digests, and says what differs), the others by digest.
const boxFiles = async (dir: string) => Promise.all(BOX_FILES.map(async (n) => (n === 'box.json' ? readFile(join(dir, n), 'utf8') : sha(await readFile(join(dir, n))))));
const leftovers = async (dir: string) => (await readdir(dir)).filter((n) => n.includes('.tmp-'));

async function errorOf(p: Promise<unknown>): Promise<WasmboxError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WasmboxError);
  return err as WasmboxError;
}

/** Opens a layout directory or an archive file (by its name) as our image sources do, flattens it, and writes it as a box. */
async function boxFromImage(path: string, tag: string, out: string): Promise<void> {
  const platform = { ...BOX_PLATFORM };
  const source: ImageSource = path.endsWith('.tar')
    ? await openOciArchive(path, path, tag, platform, true)
    : await openOciLayout(dirStore(path), path, { tag, platform, platformExplicit: true });
  const tree = await flattenImage(await source.layers());
  await writeBox(out, tree, await source.config());
}

describe('boxImage', () => {
  it('gives the same digests for the same box, however it was built, and a fixed gzip header', async () => {
    const again = await makeBox('box-reversed', plainRoot(reversedTree(sampleTree())));
    const [a, b, c] = [await boxImage(box), await boxImage(box), await boxImage(again)];
    try {
      expect(digests(b)).toEqual(digests(a));
      expect(digests(c)).toEqual(digests(a));
      const layer = await bytesOf(a.layers[0].open());
      // magic, deflate, no flags, mtime 0, no extra flags, OS Unix: nothing depends on the time or the host.
      expect(layer.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000003');
    } finally {
      await Promise.all([a, b, c].map((i) => i.dispose()));
    }
  });

  it('holds the config bytes unchanged, a gzip layer of the canonical tar, a manifest and a wasi/wasm index', async () => {
    await withBoxImage(box, { tag: 'v1' }, async (image) => {
      const configBytes = await readFile(join(box, 'config.json'));
      expect(Buffer.from(image.config.bytes!)).toEqual(configBytes);
      const layer = await bytesOf(image.layers[0].open());
      expect([sha(layer), layer.byteLength]).toEqual([image.layers[0].digest, image.layers[0].size]);
      expect(sha(gunzipSync(layer))).toBe(JSON.parse(configBytes.toString()).rootfs.diff_ids[0]);
      for (const blob of [image.config, image.manifest, image.index]) {
        expect([sha(blob.bytes!), blob.bytes!.byteLength]).toEqual([blob.digest, blob.size]);
        expect(await bytesOf(blob.open())).toEqual(Buffer.from(blob.bytes!));
      }
      const d = (b: { mediaType: string; digest: string; size: number }) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
      expect(JSON.parse(Buffer.from(image.manifest.bytes!).toString())).toEqual({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.manifest,
        config: { ...d(image.config), mediaType: 'application/vnd.oci.image.config.v1+json' },
        layers: [{ ...d(image.layers[0]), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
      });
      expect(JSON.parse(Buffer.from(image.index.bytes!).toString())).toEqual({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ ...d(image.manifest), platform: { architecture: 'wasm', os: 'wasi' }, annotations: { [REF_NAME]: 'v1' } }],
      });
    });
    await withBoxImage(box, {}, async (image) => {
      expect(JSON.parse(Buffer.from(image.index.bytes!).toString()).manifests[0].annotations).toBeUndefined();
    });
  });

  it('refuses a box whose config does not describe its rootfs, leaving no temporary file', async () => {
    const cases: [string, (c: ReturnType<typeof sampleConfig>) => void, RegExp][] = [
      ['wrong diff_id', (c) => (c.rootfs.diff_ids = [`sha256:${'1'.repeat(64)}`]), /config.json says its rootfs layer is sha256:1111.* but the rootfs gives sha256:/],
      ['two diff_ids', (c) => c.rootfs.diff_ids.push(c.rootfs.diff_ids[0]), /has 2 rootfs.diff_ids/],
      ['none', (c) => (c.rootfs.diff_ids = []), /has 0 rootfs.diff_ids/],
    ];
    for (const [name, edit, message] of cases) {
      const dir = await makeBox(`bad-${name}`, sampleTree(), edit);
      const err = await errorOf(boxImage(dir));
      expect([name, err.code]).toEqual([name, 'IMAGE_INVALID']);
      expect(err.message).toMatch(message);
    }
    expect(await readdir(process.env.TMPDIR!)).toEqual([]);
    expect((await errorOf(boxImage(join(work, 'nothing-here')))).code).toBe('BOX_NOT_FOUND');
  });
});

describe('writeOciLayout / writeOciArchive', () => {
  it('round-trips through our reader and flattening to byte-identical box files', async () => {
    await withBoxImage(box, {}, async (image) => {
      await writeOciLayout(join(work, 'layout'), image, 'v1');
      await writeOciArchive(join(work, 'image.tar'), image, 'v1');
    });
    await boxFromImage(join(work, 'layout'), 'v1', join(work, 'from-layout'));
    await boxFromImage(join(work, 'image.tar'), 'v1', join(work, 'from-archive'));
    expect(await boxFiles(join(work, 'from-layout'))).toEqual(await boxFiles(box));
    expect(await boxFiles(join(work, 'from-archive'))).toEqual(await boxFiles(box));
    expect((await readdir(join(work, 'layout'))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    expect(await readdir(process.env.TMPDIR!)).toEqual([]);
  });

  // A root with its own mode, owner or mtime (most base images set one) travels as the layer's "./" entry.
  it('keeps the metadata of the root directory', async () => {
    const dir = await makeBox('root-meta', sampleTree());
    await withBoxImage(dir, {}, (image) => writeOciLayout(join(work, 'root-meta-layout'), image, 'v1'));
    await boxFromImage(join(work, 'root-meta-layout'), 'v1', join(work, 'root-meta-again'));
    expect(await boxFiles(join(work, 'root-meta-again'))).toEqual(await boxFiles(dir));
  });

  it('writes the same archive bytes twice', async () => {
    await withBoxImage(box, {}, async (image) => {
      await writeOciArchive(join(work, 'a.tar'), image, 'latest');
      await writeOciArchive(join(work, 'b.tar'), image, 'latest');
    });
    expect(await readFile(join(work, 'a.tar'))).toEqual(await readFile(join(work, 'b.tar')));
  });

  it('adds to an existing layout, replacing only the entry with the same tag', async () => {
    const other = await makeBox('other', plainRoot(sampleTree()), (c) => (c.config.Cmd = ['other']));
    const layout = join(work, 'merged');
    await withBoxImage(box, {}, (image) => writeOciLayout(layout, image, 'a'));
    await withBoxImage(other, {}, (image) => writeOciLayout(layout, image, 'b'));
    await withBoxImage(other, {}, (image) => writeOciLayout(layout, image, 'a'));
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations[REF_NAME])).toEqual(['b', 'a']);
    expect(index.manifests[0].digest).toBe(index.manifests[1].digest);
    await boxFromImage(layout, 'a', join(work, 'merged-a'));
    expect(await boxFiles(join(work, 'merged-a'))).toEqual(await boxFiles(other));
    expect(await leftovers(join(layout, 'blobs/sha256'))).toEqual([]);
  });

  it('leaves nothing behind when writing fails, and an existing layout as it was', async () => {
    await withBoxImage(box, {}, async (image) => {
      const broken: BoxImage = {
        ...image,
        layers: [{ ...image.layers[0], open: () => failingStream(image.layers[0].open()) }],
      };
      const layout = join(work, 'failed', 'layout');
      await expect(writeOciLayout(layout, broken, 'x')).rejects.toThrow('disk went away');
      await expect(writeOciArchive(join(work, 'failed', 'image.tar'), broken, 'x')).rejects.toThrow('disk went away');
      expect(await readdir(join(work, 'failed'))).toEqual([]);

      const existing = join(work, 'kept');
      await writeOciLayout(existing, image, 'old');
      const before = await snapshot(existing);
      const changed = { ...broken, manifest: { ...image.manifest, digest: `sha256:${'2'.repeat(64)}` }, layers: [{ ...broken.layers[0], digest: `sha256:${'3'.repeat(64)}` }] };
      await expect(writeOciLayout(existing, changed, 'new')).rejects.toThrow('disk went away');
      expect(await snapshot(existing)).toEqual(before);

      await mkdir(join(work, 'not-a-layout'));
      await writeFile(join(work, 'not-a-layout', 'precious.txt'), 'keep me');
      expect((await errorOf(writeOciLayout(join(work, 'not-a-layout'), image, 'x'))).code).toBe('OCI_OUTPUT_EXISTS');
      expect((await errorOf(writeOciArchive(join(work, 'not-a-layout'), image, 'x'))).code).toBe('OCI_OUTPUT_EXISTS');
      expect(await readdir(join(work, 'not-a-layout'))).toEqual(['precious.txt']);
    });
  });
});

async function* failingStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    yield chunk.subarray(0, Math.min(chunk.byteLength, 100));
    break;
  }
  throw new Error('disk went away');
}

/** Every path under `dir` with its size, sorted: what a failed write must not change. */
async function snapshot(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    const path = join(prefix, name);
    const st = await lstat(join(dir, path));
    out.push(`${path} ${st.isDirectory() ? 'dir' : st.size}`);
    if (st.isDirectory()) out.push(...(await snapshot(dir, path)));
  }
  return out;
}

describe.skipIf(!has('skopeo'))('skopeo reads the layout and the archive', () => {
  it('inspects both forms', async () => {
    const layout = join(work, 'skopeo-layout');
    const archive = join(work, 'skopeo.tar');
    const manifest = await withBoxImage(box, {}, async (image) => {
      await writeOciLayout(layout, image, 'v1');
      await writeOciArchive(archive, image, 'v1');
      return image.manifest;
    });
    const raw = await run('skopeo', ['inspect', '--raw', `oci:${layout}:v1`]);
    expect(sha(Buffer.from(raw.stdout))).toBe(manifest.digest);
    const info = JSON.parse((await run('skopeo', ['inspect', `oci-archive:${archive}:v1`])).stdout);
    expect(info.Digest).toBe(manifest.digest);
    expect([info.Os, info.Labels]).toEqual([sampleConfig().os, sampleConfig().config.Labels]);
    // A copy made by skopeo from our archive is still the same box.
    await run('skopeo', ['copy', `oci-archive:${archive}:v1`, `oci:${join(work, 'skopeo-copy')}:v1`]);
    await boxFromImage(join(work, 'skopeo-copy'), 'v1', join(work, 'from-skopeo'));
    expect(await boxFiles(join(work, 'from-skopeo'))).toEqual(await boxFiles(box));
  });
});

describe.skipIf(!has('umoci'))('umoci reads the layout', () => {
  it('lists the tag and unpacks the files the box holds', async () => {
    // umoci writes a runtime config only for linux images; real builds say linux (the build platform).
    const linux = await makeBox('umoci-box', plainRoot(sampleTree()), (c) => Object.assign(c, { os: 'linux', architecture: 'amd64' }));
    const layout = join(work, 'umoci-layout');
    await withBoxImage(linux, {}, (image) => writeOciLayout(layout, image, 'v1'));
    expect((await run('umoci', ['ls', '--layout', layout])).stdout.trim()).toBe('v1');
    const bundle = join(work, 'bundle');
    const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
    await run('umoci', ['unpack', ...rootless, '--image', `${layout}:v1`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    expect(await readFile(join(rootfs, 'etc/passwd'), 'utf8')).toBe('root:x:0:0:root:/root:/bin/sh\n');
    expect(await readlink(join(rootfs, 'lib'))).toBe('usr/lib');
    const [sh, usrSh, su] = await Promise.all(['bin/sh', 'usr/bin/sh', 'usr/bin/su'].map((p) => lstat(join(rootfs, p))));
    expect(usrSh.ino).toBe(sh.ino);
    expect(su.mode & 0o7777).toBe(0o4755);
    const paths = (await snapshot(rootfs)).map((line) => `/${line.split(' ')[0]}`);
    expect(paths).toEqual([...sampleTree().walk()].map(([p]) => p).sort());
  });
});

describe.skipIf(!fixture('debian').built)('a large box (the Debian fixture)', () => {
  it('round-trips a real root filesystem through an OCI archive', async () => {
    const debian = fixture('debian');
    const source = await openOciLayout(dirStore(debian.path), debian.ref, { tag: 'latest', platform: { os: 'linux', architecture: 'amd64' } });
    const tree = plainRoot(await flattenImage(await source.layers()));
    const config = await source.config();
    config.rootfs.diff_ids = [await treeDiffId(tree)];
    await writeBox(join(work, 'debian-box'), tree, config);
    const archive = join(work, 'debian.tar');
    await withBoxImage(join(work, 'debian-box'), {}, (image) => writeOciArchive(archive, image, 'latest'));
    await boxFromImage(archive, 'latest', join(work, 'debian-again'));
    expect(await boxFiles(join(work, 'debian-again'))).toEqual(await boxFiles(join(work, 'debian-box')));
  });
});
