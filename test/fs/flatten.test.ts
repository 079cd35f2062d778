import { describe, expect, it } from 'vitest';
import { extractArchive } from '../../src/build/archive.js';
import { applyLayer, flattenImage } from '../../src/fs/flatten.js';
import { openLayer } from '../../src/fs/layer-stream.js';
import { Spilled, contentBytes } from '../../src/fs/spill.js';
import { Tree } from '../../src/fs/tree.js';
import { chunks, layerOf, makeTar, sha256, tarLayer, type EntrySpec } from '../helpers/tar.js';
import { WasmboxError } from '../../src/errors.js';
import { listing } from '../helpers/listing.js';

const long = 'very-long-directory-name-'.repeat(3) + '/' + 'and-an-even-longer-file-name-'.repeat(3) + '.txt';

// Each row: layers (oldest first) → the listing `path kind mode uid:gid size|->target|device`.
const cases: Array<{ name: string; layers: EntrySpec[][]; want: string[] }> = [
  {
    name: 'whiteout of a file',
    layers: [[{ name: 'etc/', mode: 0o755 }, { name: 'etc/a', data: 'aa' }, { name: 'etc/b', data: 'b' }], [{ name: 'etc/.wh.a' }]],
    want: ['/etc dir 0755 0:0', '/etc/b file 0644 0:0 1'],
  },
  {
    name: 'whiteout of a directory',
    layers: [[{ name: 'opt/x/' }, { name: 'opt/x/f', data: 'f' }, { name: 'opt/y', data: 'y' }], [{ name: 'opt/.wh.x' }]],
    want: ['/opt dir 0755 0:0', '/opt/y file 0644 0:0 1'],
  },
  {
    name: 'opaque directory keeps same-layer entries on either side of the marker',
    layers: [
      [{ name: 'd/' }, { name: 'd/old', data: 'o' }, { name: 'd/sub/' }, { name: 'd/sub/o', data: 'o' }],
      [{ name: 'd/new', data: 'nn' }, { name: 'd/sub/', mode: 0o700 }, { name: 'd/.wh..wh..opq' }, { name: 'd/sub2/f', data: 'fff' }],
    ],
    want: ['/d dir 0755 0:0', '/d/new file 0644 0:0 2', '/d/sub dir 0700 0:0', '/d/sub2 dir 0755 0:0', '/d/sub2/f file 0644 0:0 3'],
  },
  {
    name: 'whiteout then re-add in a later layer',
    layers: [[{ name: 'a', data: 'one' }], [{ name: '.wh.a' }], [{ name: 'a', data: 'three!' }]],
    want: ['/a file 0644 0:0 6'],
  },
  {
    name: 'a whiteout never removes what its own layer added, before or after it',
    layers: [[{ name: 'f', data: 'x' }], [{ name: 'f', data: 'yy' }, { name: '.wh.f' }]],
    want: ['/f file 0644 0:0 2'],
  },
  {
    name: 'file replacing a directory',
    layers: [[{ name: 'x/' }, { name: 'x/y', data: 'y' }], [{ name: 'x', data: 'file' }]],
    want: ['/x file 0644 0:0 4'],
  },
  {
    name: 'directory replacing a file',
    layers: [[{ name: 'x', data: 'file' }], [{ name: 'x/', mode: 0o750, uid: 5, gid: 6 }, { name: 'x/z', data: 'z' }]],
    want: ['/x dir 0750 5:6', '/x/z file 0644 0:0 1'],
  },
  {
    name: 'directory entry over a directory updates metadata and keeps children',
    layers: [[{ name: 'srv/' }, { name: 'srv/keep', data: 'k' }], [{ name: 'srv/', mode: 0o711, uid: 7, gid: 8 }]],
    want: ['/srv dir 0711 7:8', '/srv/keep file 0644 0:0 1'],
  },
  {
    name: 'symlink replacing a directory',
    layers: [[{ name: 'lib/' }, { name: 'lib/a', data: 'a' }], [{ name: 'lib', type: 'symlink', linkname: 'usr/lib', mode: 0o777 }]],
    want: ['/lib symlink 0777 0:0 -> usr/lib'],
  },
  {
    name: 'hardlink to a same-layer file and to a lower-layer file',
    layers: [[{ name: 'bin/a', data: 'data' }, { name: 'bin/b', type: 'link', linkname: 'bin/a' }], [{ name: 'bin/c', type: 'link', linkname: '/bin/a' }]],
    want: ['/bin dir 0755 0:0', '/bin/a file 0644 0:0 4', '/bin/b file 0644 0:0 4', '/bin/c file 0644 0:0 4'],
  },
  {
    name: 'hardlink keeps the bytes when its original is whited out or replaced later',
    layers: [
      [{ name: 'a', data: 'keep' }, { name: 'b', type: 'link', linkname: 'a' }, { name: 'c', data: 'cc' }, { name: 'd', type: 'link', linkname: 'c' }],
      [{ name: '.wh.a' }, { name: 'c', data: 'replaced' }],
    ],
    want: ['/b file 0644 0:0 4', '/c file 0644 0:0 8', '/d file 0644 0:0 2'],
  },
  {
    name: 'setuid, setgid and sticky bits survive',
    layers: [[{ name: 'usr/bin/su', data: 's', mode: 0o4755 }, { name: 'usr/bin/wall', data: 'w', mode: 0o2755, gid: 5 }, { name: 'tmp/', mode: 0o1777 }]],
    want: ['/tmp dir 1777 0:0', '/usr dir 0755 0:0', '/usr/bin dir 0755 0:0', '/usr/bin/su file 4755 0:0 1', '/usr/bin/wall file 2755 0:5 1'],
  },
  {
    name: 'devices and FIFOs become metadata-only nodes',
    layers: [[{ name: 'dev/null', type: 'char', mode: 0o666 }, { name: 'dev/sda', type: 'block', mode: 0o660, gid: 6 }, { name: 'run/p', type: 'fifo', mode: 0o600 }]],
    want: ['/dev dir 0755 0:0', '/dev/null other 0666 0:0 char', '/dev/sda other 0660 0:6 block', '/run dir 0755 0:0', '/run/p other 0600 0:0 fifo'],
  },
  {
    name: 'long names (pax) and GNU long names',
    layers: [[{ name: long, data: 'pax' }, { name: '././@LongLink', type: 'gnu-long-path', data: 'g/' + 'n'.repeat(150) + '\0' }, { name: 'short-placeholder', data: 'gnu' }]],
    want: ['/g dir 0755 0:0', `/g/${'n'.repeat(150)} file 0644 0:0 3`, `/${long.split('/')[0]} dir 0755 0:0`, `/${long} file 0644 0:0 3`],
  },
  {
    name: 'implicit parents are root-owned 0755; declared lower ones keep their metadata',
    layers: [[{ name: 'var/', mode: 0o700, uid: 3 }], [{ name: 'var/lib/apt/x', data: 'x', uid: 100, gid: 101 }]],
    want: ['/var dir 0700 3:0', '/var/lib dir 0755 0:0', '/var/lib/apt dir 0755 0:0', '/var/lib/apt/x file 0644 100:101 1'],
  },
  {
    name: 'entries under a symlinked parent land in its target',
    layers: [[{ name: 'usr/lib/' }, { name: 'lib', type: 'symlink', linkname: 'usr/lib', mode: 0o777 }], [{ name: 'lib/x.so', data: 'so' }]],
    want: ['/lib symlink 0777 0:0 -> usr/lib', '/usr dir 0755 0:0', '/usr/lib dir 0755 0:0', '/usr/lib/x.so file 0644 0:0 2'],
  },
  {
    name: 'a later layer re-declaring the symlink does not hide what went through it',
    layers: [
      [{ name: 'usr/lib/' }, { name: 'lib', type: 'symlink', linkname: '/usr/lib', mode: 0o777 }],
      [{ name: 'lib/x.so', data: 'so' }],
      [{ name: 'lib', type: 'symlink', linkname: '/usr/lib', mode: 0o777 }],
    ],
    want: ['/lib symlink 0777 0:0 -> /usr/lib', '/usr dir 0755 0:0', '/usr/lib dir 0755 0:0', '/usr/lib/x.so file 0644 0:0 2'],
  },
];

describe('flattenImage', () => {
  it.each(cases)('$name', async ({ layers, want }) => {
    const image = await Promise.all(layers.map((l, i) => tarLayer(l, { gzip: i % 2 === 0 })));
    const flat = await flattenImage(image);
    expect(listing(flat)).toEqual(want);
    // Applying the layers one by one, oldest first, is the reference the newest-first reader must equal.
    const stepwise = new Tree();
    for (const layer of image) await applyLayer(stepwise, openLayer(layer));
    expect(listing(stepwise)).toEqual(want);
    // The same bytes too: the flatten's come back from its spill, the stepwise ones were kept in memory.
    expect(contents(flat)).toEqual(contents(stepwise));
  });

  it('keeps hardlinks as one node and copies file bytes exactly', async () => {
    const flat = await flattenImage([await tarLayer([{ name: 'a', data: 'data' }, { name: 'b', type: 'link', linkname: 'a' }])]);
    expect(flat.get('/b')).toBe(flat.get('/a'));
    const a = flat.get('/a');
    expect(a?.kind === 'file' && Buffer.from(contentBytes(a.data)).toString()).toBe('data');
  });

  it('keeps file bytes in its spill, not in memory, and reads each back as a buffer of its own', async () => {
    const flat = await flattenImage([await tarLayer([{ name: 'a', data: 'x'.repeat(1000) }, { name: 'b', data: 'y'.repeat(10) }], { chunk: 1 << 20 })]);
    for (const [path, text] of [['/a', 'x'.repeat(1000)], ['/b', 'y'.repeat(10)]]) {
      const node = flat.get(path);
      if (node?.kind !== 'file') throw new Error(`${path} is not a file`);
      expect(node.data).toBeInstanceOf(Spilled);
      const bytes = contentBytes(node.data);
      expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
      expect(Buffer.from(bytes).toString()).toBe(text);
    }
  });

  it('takes mtime from pax records (whole seconds) and the header', async () => {
    const flat = await flattenImage([await tarLayer([{ name: 'p', data: 'p', pax: { mtime: '1234567890.75' } }, { name: 'h', data: 'h', mtime: 1_600_000_000 }])]);
    expect(flat.get('/p')?.mtime).toBe(1234567890);
    expect(flat.get('/h')?.mtime).toBe(1_600_000_000);
  });

  it('says when it re-reads a layer and reports progress per layer', async () => {
    const logs: string[] = [];
    const seen: number[] = [];
    const rows = cases.find((c) => c.name.startsWith('a later layer re-declaring'))!.layers;
    await flattenImage(await Promise.all(rows.map((l) => tarLayer(l))), undefined, { log: (m) => logs.push(m), onLayer: (i) => seen.push(i) });
    expect(logs.join('\n')).toMatch(/re-reading layer 2\/3/);
    expect(seen).toEqual([2, 1, 0]);
  });

  it('flattens onto a given tree, whose content acts as the lowest layer', async () => {
    const base = await flattenImage([await tarLayer([{ name: 'keep', data: 'k' }, { name: 'gone', data: 'g' }])]);
    const flat = await flattenImage([await tarLayer([{ name: '.wh.gone' }, { name: 'new', data: 'n' }])], base);
    expect(flat).toBe(base);
    expect(listing(flat)).toEqual(['/keep file 0644 0:0 1', '/new file 0644 0:0 1']);
  });
});

// The oldest layer is applied while it streams, the others after all are read: either way a refused
// entry in a blob whose digest is wrong is reported as the digest, and one in a sound blob as the entry.
const hostile = [{ name: 'f', data: 'f' }, { name: 'f/x', data: 'x' }, { name: 'after', data: 'a' }];
const precedence: Array<{ name: string; at: 0 | 1; badDigest: boolean; code: string; message: RegExp }> = [
  { name: 'oldest layer, sound blob', at: 0, badDigest: false, code: 'LAYER_ENTRY', message: /layer 1\/2.*f\/x.*parent \/f is a file/ },
  { name: 'oldest layer, corrupt blob', at: 0, badDigest: true, code: 'DIGEST', message: /layer sha256:0{64}.*does not match/ },
  { name: 'newer layer, sound blob', at: 1, badDigest: false, code: 'LAYER_ENTRY', message: /layer 2\/2.*f\/x/ },
  { name: 'newer layer, corrupt blob', at: 1, badDigest: true, code: 'DIGEST', message: /does not match/ },
];

describe('flattenImage error precedence', () => {
  it.each(precedence)('$name', async ({ at, badDigest, code, message }) => {
    const layers = [await tarLayer([{ name: 'base', data: 'b' }]), await tarLayer([{ name: 'top', data: 't' }])];
    const tar = await makeTar(hostile);
    layers[at] = layerOf(tar, badDigest ? { digest: 'sha256:' + '0'.repeat(64), diffId: sha256(tar) } : {});
    const err = await flattenImage(layers).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WasmboxError);
    expect((err as WasmboxError).code).toBe(code);
    expect((err as WasmboxError).message).toMatch(message);
  });
});

// Each row: what an archive holds over a tree with /d/old → the listing with OCI whiteouts, and without (ADD).
const whiteoutRows: Array<{ name: string; entries: EntrySpec[]; layer: string[]; plain: string[] }> = [
  {
    name: 'a .wh.x entry',
    entries: [{ name: 'd/.wh.old' }, { name: 'd/.wh.x', data: 'wh' }],
    layer: ['/d dir 0755 0:0'],
    plain: ['/d dir 0755 0:0', '/d/.wh.old file 0644 0:0 0', '/d/.wh.x file 0644 0:0 2', '/d/old file 0644 0:0 1'],
  },
  {
    name: 'an opaque marker',
    entries: [{ name: 'd/.wh..wh..opq' }],
    layer: ['/d dir 0755 0:0'],
    plain: ['/d dir 0755 0:0', '/d/.wh..wh..opq file 0644 0:0 0', '/d/old file 0644 0:0 1'],
  },
];

describe('applyLayer with whiteouts: false (archives ADD unpacks)', () => {
  const base = async () => {
    const tree = new Tree();
    await applyLayer(tree, chunks(await makeTar([{ name: 'd/' }, { name: 'd/old', data: 'o' }]), 512));
    return tree;
  };

  it.each(whiteoutRows)('$name is a whiteout in a layer and a plain file in an ADD archive', async ({ entries, layer, plain }) => {
    const tar = await makeTar(entries);
    const asLayer = await base();
    await applyLayer(asLayer, chunks(tar, 512));
    expect(listing(asLayer)).toEqual(layer);
    const asArchive = await base();
    await applyLayer(asArchive, chunks(tar, 512), { whiteouts: false });
    expect(listing(asArchive)).toEqual(plain);
  });

  it('is what extractArchive (ADD) uses: a .wh.x file is extracted as a file', async () => {
    const tree = await base();
    await extractArchive(await makeTar([{ name: '.wh.x', data: 'x' }, { name: '.wh.old' }]), tree.mkdirp('/d'), 'a.tar');
    expect(listing(tree)).toEqual(['/d dir 0755 0:0', '/d/.wh.old file 0644 0:0 0', '/d/.wh.x file 0644 0:0 1', '/d/old file 0644 0:0 1']);
  });
});

/** Each file's path and text, read from wherever its bytes are. */
function contents(tree: Tree): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, node] of tree.walk()) if (node.kind === 'file') out[path] = Buffer.from(contentBytes(node.data)).toString();
  return out;
}
