import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompressAll, MAGIC_BYTES, sniffCompression, type Compression } from '../../src/fs/compression.js';
import { makeTar } from '../helpers/tar.js';

const hex = (s: string): Uint8Array => Buffer.from(s.replace(/ /g, ''), 'hex');
// The heads of real streams: `printf hi | bzip2`, `printf '' | bzip2`, `printf hi | xz`, `printf hi | zstd`.
const BZIP2_HI = '425a6839 31415926 5359 9a89';
const BZIP2_EMPTY = '425a6839 17724538 5090 00000000';
const XZ_HI = 'fd377a58 5a00 0004 e6d6';
const ZSTD_HI = '28b52ffd 0458 1100';

describe('sniffCompression', () => {
  it.each<[string, Uint8Array, Compression]>([
    ['gzip', gzipSync('hi'), 'gzip'],
    ['bzip2 with a block', hex(BZIP2_HI), 'bzip2'],
    ['bzip2 of nothing', hex(BZIP2_EMPTY), 'bzip2'],
    ['xz', hex(XZ_HI), 'xz'],
    ['zstd', hex(ZSTD_HI), 'zstd'],
    ['text', Buffer.from('hello, world'), 'none'],
    ['nothing', new Uint8Array(0), 'none'],
    ['bzip2 magic without a block after it', Buffer.from('BZh9 is a name'), 'none'],
    ['bzip2 cut before its block magic', hex(BZIP2_HI).subarray(0, 6), 'none'],
  ])('%s → %s', (_, bytes, want) => expect(sniffCompression(bytes)).toBe(want));

  it('reads a plain tar whose first member is named "BZh…" as a tar', async () => {
    const tar = await makeTar([{ name: 'BZh9-notes.txt', data: 'not bzip2' }]);
    expect(sniffCompression(tar)).toBe('none');
    expect(await decompressAll(tar, 'a.tar')).toBe(tar);
  });

  it('needs no more than MAGIC_BYTES to decide', () => {
    for (const head of [BZIP2_HI, BZIP2_EMPTY, XZ_HI, ZSTD_HI]) {
      const bytes = hex(head);
      expect(sniffCompression(bytes.subarray(0, MAGIC_BYTES))).toBe(sniffCompression(bytes));
    }
  });
});
