import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { applyLayer } from '../../src/fs/flatten.js';
import { openLayer } from '../../src/fs/layer-stream.js';
import { Tree } from '../../src/fs/tree.js';
import { chunks, collect, layerOf, makeTar, sha256 } from '../helpers/tar.js';
import { listing } from '../helpers/listing.js';

const entries = [{ name: 'etc/' }, { name: 'etc/hostname', data: 'box\n' }, { name: 'big', data: 'z'.repeat(3000) }];
const wrong = 'sha256:' + '0'.repeat(64);
/** zstd from the real `zstd` program (installed by .ci/run), so the stream is what registries serve. */
const zstd = (bytes: Uint8Array): Uint8Array => execFileSync('zstd', ['-q', '-c'], { input: bytes });
const noZstd = existsSync('/usr/bin/zstd') ? false : 'the zstd program is missing (apt-get install zstd)';

async function failure(p: Promise<unknown>): Promise<WasmboxError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WasmboxError);
  return err as WasmboxError;
}

describe('openLayer', () => {
  it.each([
    ['plain', false],
    ['gzip', true],
  ])('yields the uncompressed tar of a %s layer', async (_kind, gzip) => {
    const plain = await makeTar(entries);
    const stored = gzip ? gzipSync(plain) : plain;
    expect(await collect(openLayer(layerOf(stored, { uncompressed: plain, chunk: 100 })))).toEqual(Buffer.from(plain));
  });

  it.each([
    ['stored digest of a gzip layer', true, 'digest', /stored blob does not match/],
    ['diff_id of a gzip layer', true, 'diffId', /uncompressed tar \(diff_id\) does not match/],
    ['stored digest of a plain layer', false, 'digest', /stored blob does not match/],
    ['diff_id of a plain layer', false, 'diffId', /uncompressed tar \(diff_id\) does not match/],
  ] as const)('refuses a wrong %s with DIGEST, naming both digests', async (_n, gzip, which, message) => {
    const plain = await makeTar(entries);
    const stored = gzip ? gzipSync(plain) : plain;
    const err = await failure(collect(openLayer(layerOf(stored, { uncompressed: plain, [which]: wrong }))));
    expect(err.code).toBe('DIGEST');
    expect(err.message).toMatch(message);
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(sha256(which === 'digest' ? stored : plain));
  });

  it.each([
    ['gzip', true],
    ['plain', false],
  ])('trusts the stored digest of a %s layer from a verifying store, and still checks its diff_id', async (_kind, gzip) => {
    const plain = await makeTar(entries);
    const stored = gzip ? gzipSync(plain) : plain;
    const verified = { ...layerOf(stored, { uncompressed: plain, digest: wrong }), storedVerified: true };
    expect((await collect(openLayer(verified))).length).toBe(plain.length);
    const damaged = { ...layerOf(stored, { uncompressed: plain, digest: wrong, diffId: wrong }), storedVerified: true };
    expect((await failure(collect(openLayer(damaged)))).message).toMatch(/diff_id/);
  });

  it('skips the stored-digest check when the digest is empty', async () => {
    const plain = await makeTar(entries);
    const stored = gzipSync(plain);
    expect((await collect(openLayer(layerOf(stored, { uncompressed: plain, digest: '' })))).length).toBe(plain.length);
  });

  it.each([
    ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 0, 4, 0xe6, 0xd6], /gzip- or zstd-compressed or plain tar/],
    ['bzip2', [0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x9a], /gzip- or zstd-compressed or plain tar/],
  ])('refuses %s with LAYER_COMPRESSION, even when its magic arrives a byte at a time', async (kind, bytes, hint) => {
    const err = await failure(collect(openLayer(layerOf(new Uint8Array(bytes), { chunk: 1 }))));
    expect(err.code).toBe('LAYER_COMPRESSION');
    expect(err.message).toContain(`${kind}-compressed`);
    expect(err.hint).toMatch(hint);
  });

  describe.skipIf(noZstd)('zstd layers', () => {
    it.each([1, 7, 4096])('yields the tar of a zstd layer read %i bytes at a time', async (chunk) => {
      const plain = await makeTar([...entries, { name: 'large', data: 'ab'.repeat(100_000) }]);
      expect(await collect(openLayer(layerOf(zstd(plain), { uncompressed: plain, chunk })))).toEqual(Buffer.from(plain));
    });

    it('refuses a zstd layer whose diff_id is wrong, naming both digests', async () => {
      const plain = await makeTar(entries);
      const err = await failure(collect(openLayer(layerOf(zstd(plain), { uncompressed: plain, diffId: wrong }))));
      expect(err.code).toBe('DIGEST');
      expect(err.message).toContain(sha256(plain));
    });

    it.each([
      ['cut', (z: Uint8Array) => z.subarray(0, z.length - 20), 'LAYER_TRUNCATED'],
      ['damaged', (z: Uint8Array) => Uint8Array.from(z, (b, i) => (i > 12 && i < z.length - 8 ? b ^ 0x5a : b)), 'LAYER_FORMAT'],
    ] as const)('reports a %s zstd stream as %s or a digest mismatch, never a crash', async (_n, damage, code) => {
      const plain = await makeTar([...entries, { name: 'large', data: 'xyz'.repeat(100_000) }]);
      const err = await failure(collect(openLayer(layerOf(damage(zstd(plain)), { uncompressed: plain, digest: '' }))));
      expect([code, 'DIGEST', 'LAYER_FORMAT']).toContain(err.code);
    });
  });

  it('reads a plain layer whose first member is named like bzip2 magic ("BZh…") as a tar', async () => {
    const plain = await makeTar([{ name: 'BZh9-notes.txt', data: 'x' }]);
    expect(await collect(openLayer(layerOf(plain, { chunk: 3 })))).toEqual(Buffer.from(plain));
  });

  it('sniffs gzip even when the first chunk is a single byte', async () => {
    const plain = await makeTar(entries);
    expect((await collect(openLayer(layerOf(gzipSync(plain), { uncompressed: plain, chunk: 1 })))).length).toBe(plain.length);
  });

  it('reports a cut gzip stream as LAYER_TRUNCATED', async () => {
    const gz = gzipSync(await makeTar(entries));
    const cut = gz.subarray(0, gz.length - 30);
    expect((await failure(collect(openLayer(layerOf(cut, { diffId: '' }))))).code).toBe('LAYER_TRUNCATED');
  });
});

describe('applyLayer on damaged tars', () => {
  const full = ['/big file 0644 0:0 3000', '/etc dir 0755 0:0', '/etc/hostname file 0644 0:0 4'];

  it.each([1, 7, 512, 4096])('parses the same whatever the chunk size (%i)', async (size) => {
    const tree = new Tree();
    await applyLayer(tree, chunks(await makeTar(entries), size));
    expect(listing(tree)).toEqual(full);
  });

  it.each([
    ['without end-of-archive blocks', { dropEof: true }],
    ['with one of the two end blocks', { truncateAt: -512 }],
    ['cut inside the last padding', { truncateAt: -1024 - 30 }],
    ['cut inside the end blocks', { truncateAt: -700 }],
  ])('accepts a layer %s', async (_n, damage) => {
    const whole = await makeTar(entries);
    const opts = 'truncateAt' in damage ? { truncateAt: whole.length + damage.truncateAt } : damage;
    const tree = new Tree();
    await applyLayer(tree, chunks(await makeTar(entries, opts), 333));
    expect(listing(tree)).toEqual(full);
  });

  it.each([
    ['inside a file', 512 * 5 + 100, /inside the data of big/],
    ['inside a header', 512 * 3 + 10, /inside an entry header/],
  ])('refuses a layer cut %s with LAYER_TRUNCATED', async (_n, at, message) => {
    const err = await failure(applyLayer(new Tree(), chunks(await makeTar(entries, { truncateAt: at }), 333), { layerName: 'layer 3/4' }));
    expect(err.code).toBe('LAYER_TRUNCATED');
    expect(err.message).toMatch(/^layer 3\/4 ends/);
    expect(err.message).toMatch(message);
  });

  it('refuses bytes that are not a tar with LAYER_FORMAT', async () => {
    const junk = new Uint8Array(1024).fill(0x41);
    expect((await failure(applyLayer(new Tree(), chunks(junk, 512)))).code).toBe('LAYER_FORMAT');
  });
});
