import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { indexTar, normalizeName, tarStore } from '../../src/image/tarindex.js';
import { packTar, removeDir, tempDir, type TarMember } from './build-images.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => removeDir(dir));

async function storeOf(bytes: Buffer) {
  const file = join(dir, 'a.tar');
  await writeFile(file, bytes);
  return tarStore(file, await indexTar(file));
}

const text = async (store: Awaited<ReturnType<typeof storeOf>>, name: string) => Buffer.from(await store.read(name)).toString();
const longDir = 'd'.repeat(120);
const longName = 'n'.repeat(150); // one component longer than 100 bytes: only a pax header can hold it

const members: TarMember[] = [
  { name: './manifest.json', data: '[]' },
  { name: 'dir', type: 'directory' },
  { name: 'dir/a.txt', data: 'alpha' },
  { name: `${longDir}/b.txt`, data: 'bravo' },
  { name: longName, data: 'long' },
  { name: 'empty', data: '' },
  { name: 'big', data: 'x'.repeat(1500) },
  { name: 'hard', type: 'link', linkname: 'dir/a.txt' },
  { name: 'dir/sym', type: 'symlink', linkname: '../big' },
  { name: 'loop', type: 'symlink', linkname: 'loop' },
];

describe('indexTar + tarStore', () => {
  it('reads members by name: ./ prefixes, ustar prefixes, pax long names, links, empty and multi-block files', async () => {
    const store = await storeOf(await packTar(members));
    expect(await text(store, 'manifest.json')).toBe('[]');
    expect(await text(store, 'dir/a.txt')).toBe('alpha');
    expect(await text(store, `${longDir}/b.txt`)).toBe('bravo');
    expect(await text(store, longName)).toBe('long');
    expect(await text(store, 'empty')).toBe('');
    expect(await text(store, 'big')).toBe('x'.repeat(1500));
    expect(await text(store, 'hard')).toBe('alpha');
    expect(await text(store, 'dir/sym')).toBe('x'.repeat(1500));
    expect(await store.size('big')).toBe(1500);
    expect(await store.size('dir')).toBeUndefined();
    expect(await store.size('loop')).toBeUndefined();
    expect(await store.size('nope')).toBeUndefined();
    await expect(store.open('nope')).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
  });

  it('reads GNU long names (type L), as GNU tar writes them', async () => {
    const name = `${'g'.repeat(130)}/file`;
    const body = Buffer.from(`${name}\0`);
    const bytes = Buffer.concat([rawHeader('././@LongLink', body.length, 'L'), pad(body), rawHeader(name.slice(0, 99), 3, '0'), pad(Buffer.from('gnu'))]);
    expect(await text(await storeOf(bytes), name)).toBe('gnu');
  });

  it('reads an old tar\'s NUL type flag as the layer reader does: a directory when the name ends in /', async () => {
    const bytes = Buffer.concat([rawHeader('old/', 0, '\0'), rawHeader('old/f', 3, '\0'), pad(Buffer.from('old'))]);
    const store = await storeOf(bytes);
    expect(await store.size('old')).toBeUndefined();
    expect(await text(store, 'old/f')).toBe('old');
  });

  it('tolerates a tar without its end-of-archive blocks', async () => {
    const whole = await packTar([{ name: 'a', data: 'A' }]);
    const store = await storeOf(whole.subarray(0, 1024));
    expect(await text(store, 'a')).toBe('A');
  });

  it.each([
    ['gzip', gzipSync(Buffer.alloc(2048)), 'gunzip'],
    ['xz', Buffer.concat([Buffer.from('fd377a585a000004e6d6', 'hex'), Buffer.alloc(1024)]), 'unxz'],
    ['not a tar', Buffer.alloc(1024, 7), 'uncompressed tar'],
  ])('refuses %s with ARCHIVE', async (_, bytes, hint) => {
    await expect(storeOf(bytes)).rejects.toMatchObject({ code: 'ARCHIVE', hint: expect.stringContaining(hint) });
  });

  it('refuses a truncated member with ARCHIVE', async () => {
    const whole = await packTar([{ name: 'a', data: 'A'.repeat(2000) }]);
    await expect(storeOf(whole.subarray(0, 1024))).rejects.toMatchObject({ code: 'ARCHIVE', message: expect.stringContaining('truncated') });
  });

  it.each([
    ['./a/b/', 'a/b'],
    ['/a//b', 'a/b'],
    ['a/../../b', 'b'],
    ['.', ''],
  ])('normalizeName(%j) = %j', (name, want) => expect(normalizeName(name)).toBe(want));
});

/** A hand-made tar header (GNU magic), for forms tar-stream cannot write. */
function rawHeader(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write(type, 156);
  h.write('ustar  \0', 257);
  h.write('        ', 148);
  const sum = h.reduce((a, b) => a + b, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function pad(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
