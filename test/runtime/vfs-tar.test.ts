// The guest filesystem as a tar (runtime/core/vfs-tar.ts), read back by two independent readers:
// tar-stream and GNU tar. The box holds every node kind (test/box/sample-tree.ts); a run's changes
// (new, rewritten, deleted files) must show, and names too long for ustar travel in pax records.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBox, writeBox } from '../../src/box/pack.js';
import { Vfs } from '../../runtime/core/vfs.js';
import { vfsToTar } from '../../runtime/core/vfs-tar.js';
import { LONG_PATH, sampleTree } from '../box/sample-tree.js';
import { readTarEntries } from '../bundle/web-browser.js';
import { scratchDir } from '../helpers/fixtures.js';

const CONFIG = { architecture: 'wasm', os: 'wasi', config: {}, rootfs: { type: 'layers' as const, diff_ids: [] } };
const enc = (s: string) => new TextEncoder().encode(s);
let tmp: { dir: string; remove: () => Promise<void> };
let tar: Uint8Array;

beforeAll(async () => {
  tmp = await scratchDir('wasmbox-vfs-tar-');
  await writeBox(join(tmp.dir, 'box'), sampleTree(), CONFIG);
  const vfs = Vfs.fromImage((await readBox(join(tmp.dir, 'box'))).fs);
  vfs.writeFile('/etc/passwd', enc('changed\n'));
  vfs.mkdir('/srv/deep/er', { recursive: true });
  vfs.writeFile(`/srv/deep/er/${'n'.repeat(150)}.txt`, enc('x'.repeat(1000)));
  vfs.unlink('/bin/dash');
  tar = vfsToTar(vfs);
});
afterAll(() => tmp?.remove());

const CASES: { path: string; type: string; text?: string; mode?: number }[] = [
  { path: 'bin/', type: 'directory', mode: 0o755 },
  { path: 'bin/sh', type: 'file', text: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { path: 'usr/bin/sh', type: 'link' },
  { path: 'usr/bin/su', type: 'file', text: 'su', mode: 0o4755 },
  { path: 'etc/passwd', type: 'file', text: 'changed\n' },
  { path: 'etc/empty', type: 'file', text: '' },
  { path: 'etc/naïve', type: 'file', text: 'unicode name\n' },
  { path: 'lib', type: 'symlink' },
  { path: 'tmp/', type: 'directory', mode: 0o1777 },
  { path: LONG_PATH.slice(1), type: 'file', text: 'long\n', mode: 0o600 },
  { path: `srv/deep/er/${'n'.repeat(150)}.txt`, type: 'file', text: 'x'.repeat(1000) },
];

describe('vfsToTar', () => {
  it.each(CASES)('holds $path as $type', async (c) => {
    const entry = (await readTarEntries(tar)).get(c.path);
    expect(entry?.type).toBe(c.type);
    if (c.text !== undefined) expect(entry?.text).toBe(c.text);
    if (c.mode !== undefined) expect(entry?.mode).toBe(c.mode);
  });

  it('leaves out deleted files and device nodes, and lists parents before children', async () => {
    const names = [...(await readTarEntries(tar)).keys()];
    expect(names).not.toContain('bin/dash');
    expect(names).not.toContain('dev/null');
    for (const [i, name] of names.entries()) {
      const parent = name.replace(/[^/]+\/?$/, '');
      if (parent) expect(names.indexOf(parent), name).toBeLessThan(i);
    }
  });

  it('is read the same way by GNU tar (links, owners, the long names)', () => {
    const file = join(tmp.dir, 'fs.tar');
    writeFileSync(file, tar);
    const listing = execFileSync('tar', ['-tvf', file, '--numeric-owner'], { encoding: 'utf8' });
    expect(listing).toMatch(/^hrwxr-xr-x 0\/0 +0 .* usr\/bin\/sh link to bin\/sh$/m);
    expect(listing).toMatch(/^lrwxrwxrwx 0\/0 +0 .* lib -> usr\/lib$/m);
    expect(listing).toMatch(new RegExp(`^-rw------- 3000000/70000 +5 .* ${LONG_PATH.slice(1)}$`, 'm'));
    expect(listing).toMatch(/^drwxr-x--- 1000\/1000 +0 .* home\/user\/$/m);
    expect(listing).toContain(`srv/deep/er/${'n'.repeat(150)}.txt`);
  });

  it('ends with two zero blocks and is a whole number of blocks', () => {
    expect(tar.byteLength % 512).toBe(0);
    expect(tar.subarray(tar.byteLength - 1024).every((b) => b === 0)).toBe(true);
  });
});
