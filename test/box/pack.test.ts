import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { Tree } from '../../src/fs/tree.js';
import { readBox, writeBox } from '../../src/box/pack.js';
import { LONG_PATH, file, reversedTree, sampleConfig, sampleTree } from './sample-tree.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'wasmbox-pack-'));
});
afterEach(async () => {
  await chmod(work, 0o755).catch(() => {});
  await rm(work, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const files = async (dir: string) =>
  Object.fromEntries(await Promise.all(['box.json', 'config.json', 'rootfs.wbfs'].map(async (n) => [n, await readFile(join(dir, n))])));

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WasmboxError);
  return (err as WasmboxError).code;
}

describe('writeBox / readBox', () => {
  it('writes exactly the three files, with a manifest that describes them', async () => {
    const out = join(work, 'box');
    const manifest = await writeBox(out, sampleTree(), sampleConfig());
    expect((await readdir(out)).sort()).toEqual(['box.json', 'config.json', 'rootfs.wbfs']);
    const f = await files(out);
    expect(f['config.json'].toString()).toBe(JSON.stringify(sampleConfig(), null, 2) + '\n');
    expect(f['box.json'].toString()).toBe(JSON.stringify(manifest, null, 2) + '\n');
    expect(Object.keys(manifest)).toEqual(['format', 'config', 'rootfs']);
    expect(manifest.format).toBe('wasmbox.box.v1');
    expect(manifest.config).toEqual({ digest: sha(f['config.json']), size: f['config.json'].byteLength });
    expect(manifest.rootfs).toMatchObject({ digest: sha(f['rootfs.wbfs']), size: f['rootfs.wbfs'].byteLength, entries: 21 });
    // Distinct contents only: /bin/dash and /usr/bin/sh share /bin/sh's bytes.
    const distinct = ['#!/bin/sh\necho hi\n', 'su', '', 'root:x:0:0:root:/root:/bin/sh\n', 'unicode name\n', 'long\n'];
    expect(manifest.rootfs.fileBytes).toBe(distinct.reduce((n, s) => n + Buffer.byteLength(s), 0));
    expect(f['rootfs.wbfs'].subarray(0, 8).toString()).toBe('WBFS0001');
  });

  it('reads back every node kind with its metadata and bytes', async () => {
    const tree = sampleTree();
    await writeBox(join(work, 'box'), tree, sampleConfig());
    const { config, fs } = await readBox(join(work, 'box'));
    expect(config).toEqual(sampleConfig());
    expect(fs.entries.map((e) => e.path)).toEqual(['/', ...[...tree.walk()].map(([p]) => p)]);
    const row = (p: string) => {
      const e = fs.byPath.get(p)!;
      return [e.type, e.mode, e.uid, e.gid, e.size, e.target];
    };
    expect(row('/')).toEqual(['dir', 0o755, 0, 0, 0, '']);
    expect(row('/bin/sh')).toEqual(['file', 0o755, 0, 0, 18, '']);
    expect(row('/bin/dash')).toEqual(['file', 0o755, 0, 0, 18, '']);
    expect(row('/usr/bin/sh')).toEqual(['hardlink', 0o755, 0, 0, 18, '/bin/sh']);
    expect(row('/usr/bin/su')).toEqual(['file', 0o4755, 0, 0, 2, '']);
    expect(row('/etc/empty')).toEqual(['file', 0o644, 0, 0, 0, '']);
    expect(row('/lib')).toEqual(['symlink', 0o777, 0, 0, 0, 'usr/lib']);
    expect(row('/tmp')).toEqual(['dir', 0o1777, 0, 0, 0, '']);
    expect(row('/home/user')).toEqual(['dir', 0o750, 1000, 1000, 0, '']);
    expect(row('/dev/null')).toEqual(['other', 0o666, 0, 0, 0, '']);
    expect(row(LONG_PATH)).toEqual(['file', 0o600, 3_000_000, 70_000, 5, '']);
    for (const [path, node] of tree.walk()) {
      const e = fs.byPath.get(path)!;
      expect(e.mtime).toBe(node.mtime);
      if (node.kind === 'file') expect(new TextDecoder().decode(fs.read(e))).toBe(new TextDecoder().decode(node.data));
    }
    const sh = fs.byPath.get('/bin/sh')!;
    for (const p of ['/bin/dash', '/usr/bin/sh']) expect([fs.byPath.get(p)!.offset, fs.byPath.get(p)!.sha256]).toEqual([sh.offset, sh.sha256]);
    expect(sh.sha256).toBe(sha(new TextEncoder().encode('#!/bin/sh\necho hi\n')).slice(7));
  });

  it('is deterministic: same tree twice, and the tree built in another order, give identical bytes', async () => {
    const tree = sampleTree();
    await writeBox(join(work, 'a'), tree, sampleConfig());
    await writeBox(join(work, 'b'), sampleTree(), sampleConfig());
    await writeBox(join(work, 'c'), reversedTree(tree), sampleConfig());
    const a = await files(join(work, 'a'));
    expect(await files(join(work, 'b'))).toEqual(a);
    expect(await files(join(work, 'c'))).toEqual(a);
  });

  it('replaces an existing box and leaves no temporary directories', async () => {
    const out = join(work, 'box');
    await writeBox(out, sampleTree(), sampleConfig());
    const small = new Tree();
    small.put('/only', file('x'));
    await writeBox(out, small, sampleConfig());
    expect((await readBox(out)).fs.entries.map((e) => e.path)).toEqual(['/', '/only']);
    expect(await readdir(work)).toEqual(['box']);
  });

  it('creates missing parent directories and fills an existing empty directory', async () => {
    await writeBox(join(work, 'x', 'y', 'box'), new Tree(), sampleConfig());
    await mkdir(join(work, 'empty'));
    await writeBox(join(work, 'empty'), new Tree(), sampleConfig());
    expect((await readBox(join(work, 'empty'))).fs.entries).toHaveLength(1);
    expect((await readBox(join(work, 'x', 'y', 'box'))).fs.entries).toHaveLength(1);
  });

  const failures: [string, () => [Tree, unknown]][] = [
    ['a config that cannot be serialised (fails after rootfs.wbfs is written)', () => [sampleTree(), { ...sampleConfig(), toJSON: () => { throw new Error('boom'); } }]],
    ['a tree whose file bytes cannot be read', () => {
      const t = sampleTree();
      Object.defineProperty(t.get('/etc/passwd')!, 'data', { get: () => { throw new Error('boom'); } });
      return [t, sampleConfig()];
    }],
  ];
  it.each(failures)('on %s, an existing box is untouched and nothing is left behind', async (_, make) => {
    const out = join(work, 'box');
    await writeBox(out, sampleTree(), sampleConfig());
    const before = await files(out);
    const [tree, config] = make();
    await expect(writeBox(out, tree, config as never)).rejects.toThrow('boom');
    expect(await files(out)).toEqual(before);
    expect(await readdir(work)).toEqual(['box']);
  });

  it('refuses to replace a directory (or file) that is not a box', async () => {
    await mkdir(join(work, 'home'));
    await writeFile(join(work, 'home', 'precious'), 'keep me');
    await writeFile(join(work, 'plain'), 'keep me too');
    expect(await codeOf(writeBox(join(work, 'home'), new Tree(), sampleConfig()))).toBe('BOX_OUTDIR_NOT_BOX');
    expect(await codeOf(writeBox(join(work, 'plain'), new Tree(), sampleConfig()))).toBe('BOX_OUTDIR_NOT_BOX');
    expect(await readFile(join(work, 'home', 'precious'), 'utf8')).toBe('keep me');
    expect((await readdir(work)).sort()).toEqual(['home', 'plain']);
  });

  it('reports an unwritable location as BOX_WRITE_FAILED', async () => {
    await writeFile(join(work, 'file'), '');
    expect(await codeOf(writeBox(join(work, 'file', 'box'), new Tree(), sampleConfig()))).toBe('BOX_WRITE_FAILED');
  });
});

describe('readBox errors', () => {
  const damage: [string, string, (out: string) => Promise<void>][] = [
    ['a missing directory', 'BOX_NOT_FOUND', (out) => rm(out, { recursive: true })],
    ['a directory without box.json', 'BOX_NOT_FOUND', (out) => rm(join(out, 'box.json'))],
    ['a box.json that is not JSON', 'BOX_NOT_FOUND', (out) => writeFile(join(out, 'box.json'), '{nope')],
    ['a box.json of another format', 'BOX_NOT_FOUND', (out) => writeFile(join(out, 'box.json'), '{"format":"wasmbox.box.v9"}')],
    ['a missing rootfs.wbfs', 'BOX_CORRUPT', (out) => rm(join(out, 'rootfs.wbfs'))],
    ['an edited config.json', 'BOX_CORRUPT', (out) => writeFile(join(out, 'config.json'), '{}\n')],
    ['a flipped byte in rootfs.wbfs', 'BOX_CORRUPT', async (out) => {
      const b = await readFile(join(out, 'rootfs.wbfs'));
      b[b.length - 1] ^= 1;
      await writeFile(join(out, 'rootfs.wbfs'), b);
    }],
    ['a bad rootfs.wbfs whose digest box.json was made to match', 'BOX_CORRUPT', async (out) => {
      const bad = Buffer.from('NOTWBFS!\0\0\0\0');
      const m = JSON.parse(await readFile(join(out, 'box.json'), 'utf8'));
      m.rootfs = { ...m.rootfs, digest: sha(bad), size: bad.length };
      await writeFile(join(out, 'rootfs.wbfs'), bad);
      await writeFile(join(out, 'box.json'), JSON.stringify(m));
    }],
  ];
  it.each(damage)('%s gives %s', async (_, code, harm) => {
    const out = join(work, 'box');
    await writeBox(out, sampleTree(), sampleConfig());
    await harm(out);
    const err = await readBox(out).then(() => undefined, (e: WasmboxError) => e);
    expect(err?.code).toBe(code);
    expect(err?.hint).toBeTruthy();
    expect(err?.value).toBe(out);
  });
});
