import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileNode as VFile } from '../../runtime/core/vfs.js';
import { treeDiffId } from '../../src/box/canonical-tar.js';
import { writeBox } from '../../src/box/pack.js';
import { Digests } from '../../src/build/cache-key.js';
import { Sandbox } from '../../src/build/sandbox.js';
import { changesOf } from '../../src/build/sandbox-diff.js';
import { applyLayer, flattenImage } from '../../src/fs/flatten.js';
import { openLayer } from '../../src/fs/layer-stream.js';
import { Spill, Spilled, contentBytes, contentChunks } from '../../src/fs/spill.js';
import { Tree, cloneNode, type DirNode, type FileNode } from '../../src/fs/tree.js';
import type { ImageConfig } from '../../src/image/config.js';
import type { Layer } from '../../src/image/source.js';
import { layerOf, makeTar, tarLayer, type EntrySpec } from '../helpers/tar.js';

/** Deterministic bytes that differ from position to position, so a misplaced read shows. */
function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return out;
}

function fileAt(tree: Tree, path: string): FileNode {
  const node = tree.get(path);
  if (node?.kind !== 'file') throw new Error(`${path} is a ${node?.kind ?? 'missing'}, not a file`);
  return node;
}

const CONFIG: ImageConfig = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spill-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Spill', () => {
  // Each row: sizes appended in order (small ones are buffered, big ones written through), read back
  // before and after the write buffer is flushed, whole and in pieces.
  it.each([
    { name: 'one empty and one tiny', sizes: [0, 1] },
    { name: 'tar-block edges', sizes: [511, 512, 513] },
    { name: 'around the write buffer size', sizes: [(1 << 20) - 1, 7, 1 << 20, (1 << 19) + 3] },
    { name: 'a big append while small ones wait in the buffer', sizes: [7, 600_000, 3, 1 << 19] },
    { name: 'many small then one big', sizes: [...Array.from({ length: 300 }, (_, i) => i * 13), 3 << 20] },
  ])('$name: bytes read back equal what was appended', ({ sizes }) => {
    const spill = new Spill(dir);
    const slots = sizes.map((size, i) => {
      const at = spill.size;
      spill.append(pattern(size, i));
      return new Spilled(spill, at, size);
    });
    slots.forEach((slot, i) => {
      expect(Buffer.compare(slot.read(), pattern(sizes[i], i))).toBe(0);
      const pieces: Buffer[] = [];
      for (const piece of contentChunks(slot, new Uint8Array(4093))) pieces.push(Buffer.from(piece)); // copied: the next piece reuses it
      expect(Buffer.compare(Buffer.concat(pieces), pattern(sizes[i], i))).toBe(0);
    });
    spill.close();
  });

  it('leaves nothing in its directory, even while open, and refuses reads once closed', async () => {
    const spill = new Spill(dir);
    spill.append(pattern(10, 1));
    expect(await readdir(dir)).toEqual([]);
    const slot = new Spilled(spill, 0, 10);
    expect(slot.read()).toHaveLength(10);
    spill.close();
    expect(spill.closed).toBe(true);
    expect(() => slot.read()).toThrow(expect.objectContaining({ code: 'SPILL_CLOSED' }));
  });
});

describe('flattenImage with a spill', () => {
  it.each([
    { name: 'plain tar, 1-byte chunks', gzip: false, chunk: 1 },
    { name: 'plain tar, odd chunks', gzip: false, chunk: 4099 },
    { name: 'plain tar, big chunks', gzip: false, chunk: 1 << 20 },
    { name: 'gzip, big chunks', gzip: true, chunk: 1 << 20 },
  ])('$name: every file reads back its bytes; hidden and hardlinked ones as the rules say', async ({ gzip, chunk }) => {
    const big = pattern(3 << 20, 9);
    const layers = [
      await tarLayer([{ name: 'a', data: pattern(700, 1) }, { name: 'gone', data: pattern(5000, 2) }, { name: 'big', data: big }, { name: 'empty', data: '' }], { gzip, chunk }),
      await tarLayer([{ name: '.wh.gone' }, { name: 'a', data: pattern(1500, 3) }, { name: 'link', type: 'link', linkname: 'big' }], { gzip, chunk }),
    ];
    const flat = await flattenImage(layers, new Tree(), { spillDir: dir });
    expect(flat.get('/gone')).toBeUndefined();
    expect(Buffer.compare(contentBytes(fileAt(flat, '/a').data), pattern(1500, 3))).toBe(0);
    expect(Buffer.compare(contentBytes(fileAt(flat, '/big').data), big)).toBe(0);
    expect(fileAt(flat, '/empty').data.byteLength).toBe(0);
    expect(fileAt(flat, '/link')).toBe(fileAt(flat, '/big'));
    const spilled = fileAt(flat, '/big').data as Spilled;
    // The hidden file's bytes never reached the spill: only the visible contents are there.
    expect(spilled.spill.size).toBe(1500 + big.byteLength);
    expect(await readdir(dir)).toEqual([]);
  });

  it('clones and object spreads keep the spill reference, never a copy of the bytes', async () => {
    const flat = await flattenImage([await tarLayer([{ name: 'd/f', data: pattern(2000, 4) }, { name: 'd/h', type: 'link', linkname: 'd/f' }])], new Tree(), { spillDir: dir });
    const original = fileAt(flat, '/d/f');
    const clone = new Tree(cloneNode(flat.root) as DirNode);
    const copied = fileAt(clone, '/d/f');
    expect(copied).not.toBe(original);
    expect(copied.data).toBe(original.data);
    expect(fileAt(clone, '/d/h')).toBe(copied);
    const spread = { ...original, mode: 0o600 };
    expect(spread.data).toBe(original.data);
    expect(Buffer.compare(contentBytes(spread.data), pattern(2000, 4))).toBe(0);
  });

  it('two flattens at once each get a spill of their own', async () => {
    const make = (seed: number) => tarLayer([{ name: 'f', data: pattern(100_000 + seed, seed) }], { chunk: 777 });
    const [one, two] = await Promise.all([flattenImage([await make(1)], new Tree(), { spillDir: dir }), flattenImage([await make(2)], new Tree(), { spillDir: dir })]);
    const [a, b] = [fileAt(one, '/f').data as Spilled, fileAt(two, '/f').data as Spilled];
    expect(a.spill).not.toBe(b.spill);
    expect(Buffer.compare(a.read(), pattern(100_001, 1))).toBe(0);
    expect(Buffer.compare(b.read(), pattern(100_002, 2))).toBe(0);
  });

  it.each([
    { name: 'a corrupt layer digest', broken: async (good: Uint8Array): Promise<Layer> => layerOf(good, { digest: `sha256:${'0'.repeat(64)}` }) },
    { name: 'a layer cut inside a file', broken: async (good: Uint8Array): Promise<Layer> => layerOf(good.subarray(0, 2200)) },
  ])('a flatten that fails on $name closes its spill and leaves nothing', async ({ broken }) => {
    const entries: EntrySpec[] = [{ name: 'kept', data: pattern(600, 5) }, { name: 'late', data: pattern(5000, 6) }];
    const tree = new Tree();
    await expect(flattenImage([await broken(await makeTar(entries))], tree, { spillDir: dir })).rejects.toThrow();
    expect(await readdir(dir)).toEqual([]);
    // The part already placed names the closed spill: reading it fails loudly instead of giving wrong bytes.
    expect(() => contentBytes(fileAt(tree, '/kept').data)).toThrow(expect.objectContaining({ code: 'SPILL_CLOSED' }));
  });

  it('says which directory it could not use for its spill', async () => {
    const missing = join(dir, 'no', 'such');
    const flat = flattenImage([await tarLayer([{ name: 'f', data: 'x' }])], new Tree(), { spillDir: missing });
    await expect(flat).rejects.toMatchObject({ code: 'SPILL_CREATE', value: missing, message: expect.stringContaining(missing) });
  });

  it('uses the OS temp directory by default and leaves nothing there', async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    try {
      const flat = await flattenImage([await tarLayer([{ name: 'f', data: pattern(3000, 7) }])]);
      expect(fileAt(flat, '/f').data).toBeInstanceOf(Spilled);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});

describe('consumers of spilled trees', () => {
  const entries: EntrySpec[] = [
    { name: 'etc/', mode: 0o755 },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'bin/tool', data: pattern(1 << 20, 8), mode: 0o755 },
    { name: 'bin/alias', type: 'link', linkname: 'bin/tool' },
    { name: 'bin/same', data: pattern(1 << 20, 8) },
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
  ];
  /** The same image as a spilled flatten and as an in-memory tree (applyLayer without a spill). */
  async function bothTrees(): Promise<[Tree, Tree]> {
    const layer = await tarLayer(entries, { gzip: true });
    const inMemory = new Tree();
    await applyLayer(inMemory, openLayer(layer));
    expect(fileAt(inMemory, '/bin/tool').data).toBeInstanceOf(Uint8Array);
    return [await flattenImage([layer], new Tree(), { spillDir: dir }), inMemory];
  }

  it('writeBox and the canonical tar give the same bytes as from an in-memory tree', async () => {
    const [spilled, inMemory] = await bothTrees();
    await writeBox(join(dir, 'a'), spilled, CONFIG);
    await writeBox(join(dir, 'b'), inMemory, CONFIG);
    for (const name of ['rootfs.wbfs', 'box.json', 'config.json']) {
      expect(Buffer.compare(await readFile(join(dir, 'a', name)), await readFile(join(dir, 'b', name))), name).toBe(0);
    }
    expect(await treeDiffId(spilled)).toBe(await treeDiffId(inMemory));
  });

  it('cache keys hash spilled contents like in-memory ones', async () => {
    const [spilled, inMemory] = await bothTrees();
    expect(new Digests().node(spilled.root)).toBe(new Digests().node(inMemory.root));
  });

  it('the RUN sandbox reads spilled files lazily and reports only the ones the guest wrote', async () => {
    const [spilled] = await bothTrees();
    const sandbox = new Sandbox(spilled);
    const tool = sandbox.vfs.get('/bin/tool') as VFile;
    expect(Buffer.compare(tool.bytes(), pattern(1 << 20, 8))).toBe(0);
    (sandbox.vfs.get('/etc/passwd') as VFile).write(0, new TextEncoder().encode('toor'));
    const changed = [...changesOf(sandbox.mirror, sandbox.vfs.root).walk()].filter(([, n]) => n.kind === 'file').map(([p]) => p);
    expect(changed).toEqual(['/etc/passwd']);
  });
});
