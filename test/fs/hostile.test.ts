import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { flattenImage } from '../../src/fs/flatten.js';
import { openLayer } from '../../src/fs/layer-stream.js';
import { makeTar, layerOf, type EntrySpec } from '../helpers/tar.js';
import { listing } from '../helpers/listing.js';

// Each row: one layer's entries → either the error code (and a word the message must hold) or the listing.
const cases: Array<{ name: string; entries: EntrySpec[]; error?: [string, RegExp]; want?: string[] }> = [
  { name: '../../etc/passwd is refused', entries: [{ name: '../../etc/passwd', data: 'root' }], error: ['LAYER_ENTRY', /\.\..*climb out of the root/] },
  { name: 'a/../../x is refused', entries: [{ name: 'a/../../x', data: 'x' }], error: ['LAYER_ENTRY', /a\/\.\.\/\.\.\/x/] },
  { name: 'a/../b stays inside and is cleaned', entries: [{ name: 'a/../b', data: 'b' }], want: ['/b file 0644 0:0 1'] },
  { name: 'an absolute name is relative to the root', entries: [{ name: '/etc/abs', data: 'abs' }], want: ['/etc dir 0755 0:0', '/etc/abs file 0644 0:0 3'] },
  {
    name: 'a hardlink to ../../etc/shadow is refused',
    entries: [{ name: 'shadow', type: 'link', linkname: '../../etc/shadow' }],
    error: ['LAYER_ENTRY', /hardlink target \.\.\/\.\.\/etc\/shadow climbs out/],
  },
  { name: 'a hardlink to a missing path is refused', entries: [{ name: 'l', type: 'link', linkname: 'nope' }], error: ['LAYER_ENTRY', /nope does not exist/] },
  { name: 'a hardlink to a directory is refused', entries: [{ name: 'd/' }, { name: 'l', type: 'link', linkname: 'd' }], error: ['LAYER_ENTRY', /is a dir, not a regular file/] },
  {
    name: 'a hardlink to a symlink is refused',
    entries: [{ name: 's', type: 'symlink', linkname: 'x' }, { name: 'l', type: 'link', linkname: 's' }],
    error: ['LAYER_ENTRY', /is a symlink/],
  },
  {
    name: 'evil -> /etc then evil/passwd lands at /etc/passwd inside the tree',
    entries: [{ name: 'evil', type: 'symlink', linkname: '/etc', mode: 0o777 }, { name: 'evil/passwd', data: 'pwned' }],
    want: ['/etc dir 0755 0:0', '/etc/passwd file 0644 0:0 5', '/evil symlink 0777 0:0 -> /etc'],
  },
  {
    name: 'evil -> ../../../../etc then evil/passwd stays inside the tree',
    entries: [{ name: 'evil', type: 'symlink', linkname: '../../../../etc', mode: 0o777 }, { name: 'evil/passwd', data: 'pwned' }],
    want: ['/etc dir 0755 0:0', '/etc/passwd file 0644 0:0 5', '/evil symlink 0777 0:0 -> ../../../../etc'],
  },
  {
    name: 'a symlink loop in a parent is refused',
    entries: [{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, { name: 'a/x', data: 'x' }],
    error: ['LAYER_ENTRY', /symbolic links/],
  },
  { name: 'an entry under a file is refused', entries: [{ name: 'f', data: 'f' }, { name: 'f/x', data: 'x' }], error: ['LAYER_ENTRY', /parent \/f is a file/] },
  { name: 'the root cannot become a symlink', entries: [{ name: './', type: 'symlink', linkname: '/host' }], error: ['LAYER_ENTRY', /root directory/] },
  { name: 'a root entry updates the root metadata', entries: [{ name: './', mode: 0o700 }, { name: 'x', data: '' }], want: ['/x file 0644 0:0 0'] },
  { name: 'a bare .wh. whiteout is refused', entries: [{ name: 'd/.wh..', data: '' }], error: ['LAYER_ENTRY', /whiteout without a name/] },
  { name: 'aufs .wh..wh. bookkeeping entries are dropped', entries: [{ name: '.wh..wh.plnk/', type: 'dir' }, { name: 'x', data: 'x' }], want: ['/x file 0644 0:0 1'] },
];

async function flattenOne(entries: EntrySpec[]) {
  const tar = await makeTar(entries);
  return flattenImage([layerOf(tar)]);
}

describe('hostile layer entries', () => {
  it.each(cases)('$name', async ({ entries, error, want }) => {
    const result = flattenOne(entries);
    if (error) {
      const err = await result.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WasmboxError);
      expect((err as WasmboxError).code).toBe(error[0]);
      expect((err as WasmboxError).message).toMatch(error[1]);
      expect((err as WasmboxError).message).toMatch(/layer 1\/1/);
    } else {
      expect(listing(await result)).toEqual(want);
    }
  });

  it('streams a gzip bomb in bounded chunks and holds only the declared bytes', async () => {
    const size = 64 << 20;
    const plain = await makeTar([{ name: 'bomb', data: new Uint8Array(size) }]);
    const stored = (await import('node:zlib')).gzipSync(plain, { level: 9 });
    expect(stored.length * 500).toBeLessThan(size); // a ratio of more than 500:1
    let biggest = 0;
    for await (const chunk of openLayer(layerOf(stored, { uncompressed: plain }))) biggest = Math.max(biggest, chunk.length);
    expect(biggest).toBeLessThanOrEqual(256 * 1024);
    const tree = await flattenImage([layerOf(stored, { uncompressed: plain })]);
    expect(listing(tree)).toEqual([`/bomb file 0644 0:0 ${size}`]);
  });

  it('never allocates the bytes of a bomb that a later layer whites out', async () => {
    const size = 128 << 20;
    const plain = await makeTar([{ name: 'bomb', data: new Uint8Array(size) }]);
    const stored = (await import('node:zlib')).gzipSync(plain, { level: 1 });
    const upper = await makeTar([{ name: '.wh.bomb' }]);
    const before = process.memoryUsage().arrayBuffers;
    const tree = await flattenImage([layerOf(stored, { uncompressed: plain }), layerOf(upper)]);
    expect(listing(tree)).toEqual([]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(size / 4);
  });
});
