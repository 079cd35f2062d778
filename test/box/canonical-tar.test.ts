import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { canonicalTar, treeDiffId } from '../../src/box/canonical-tar.js';
import { Tree } from '../../src/fs/tree.js';
import { LONG_PATH, file, reversedTree, sampleTree } from './sample-tree.js';

async function collect(tree: Tree): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of canonicalTar(tree)) chunks.push(c);
  return Buffer.concat(chunks);
}

interface Seen {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string | null;
  body: string;
  pax: unknown;
}

async function untar(buf: Buffer): Promise<Seen[]> {
  const ex = extract();
  Readable.from([buf]).pipe(ex);
  const out: Seen[] = [];
  for await (const entry of ex) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(c as Buffer);
    const h = entry.header;
    out.push({ name: h.name, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime.getTime() / 1000, linkname: h.linkname, body: Buffer.concat(parts).toString(), pax: h.pax });
  }
  return out;
}

describe('canonicalTar', () => {
  it('round-trips through tar-stream extract with the right headers, in walk order', async () => {
    const tree = sampleTree();
    const seen = await untar(await collect(tree));
    // The sample's root has its own metadata, so it comes first as "./".
    expect(seen.map((s) => s.name)).toEqual(['./', ...[...tree.walk()].map(([p, n]) => p.slice(1) + (n.kind === 'dir' ? '/' : ''))]);
    const by = (name: string) => seen.find((s) => s.name === name)!;
    const pick = ({ type, mode, uid, gid, linkname, body }: Seen) => ({ type, mode, uid, gid, linkname, body });
    expect(pick(by('bin/sh'))).toEqual({ type: 'file', mode: 0o755, uid: 0, gid: 0, linkname: null, body: '#!/bin/sh\necho hi\n' });
    expect(pick(by('usr/bin/sh'))).toEqual({ type: 'link', mode: 0o755, uid: 0, gid: 0, linkname: 'bin/sh', body: '' });
    expect(pick(by('usr/bin/su'))).toMatchObject({ type: 'file', mode: 0o4755 });
    expect(pick(by('etc/empty'))).toMatchObject({ type: 'file', body: '' });
    expect(pick(by('lib'))).toEqual({ type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: 'usr/lib', body: '' });
    expect(pick(by('tmp/'))).toMatchObject({ type: 'directory', mode: 0o1777 });
    expect(pick(by('home/user/'))).toMatchObject({ type: 'directory', mode: 0o750, uid: 1000, gid: 1000 });
    expect(pick(by('dev/null'))).toMatchObject({ type: 'character-device', mode: 0o666 });
    expect(by('etc/naïve').body).toBe('unicode name\n');
    expect(by('bin/sh').mtime).toBe(1_700_000_000);
  });

  it('uses PAX records for long names and ids a ustar header cannot hold', async () => {
    const long = (await untar(await collect(sampleTree()))).find((s) => s.name === LONG_PATH.slice(1))!;
    expect(long.pax).toMatchObject({ path: LONG_PATH.slice(1), uid: '3000000' });
    expect(long.gid).toBe(70_000);
  });

  it('puts out-of-range mtimes and long symlink targets in PAX too', async () => {
    const t = new Tree();
    t.put('/old', { ...file('x'), mtime: -5 });
    t.put('/far', { kind: 'symlink', target: 't'.repeat(150), mode: 0o777, uid: 0, gid: 0, mtime: 0 });
    const [far, old] = await untar(await collect(t));
    expect(old.pax).toMatchObject({ mtime: '-5' });
    expect(far.linkname).toBe('t'.repeat(150));
  });

  it('keeps a zero mode and an empty symlink target (tar-stream would default or stall on them)', async () => {
    const t = new Tree();
    t.put('/locked', { ...file('x'), mode: 0 });
    t.put('/void', { kind: 'symlink', target: '', mode: 0o777, uid: 0, gid: 0, mtime: 0 });
    const [locked, empty] = await untar(await collect(t));
    expect([locked.mode, empty.type, empty.linkname]).toEqual([0, 'symlink', null]);
  });

  it('is readable by GNU tar when it is installed', async () => {
    let listing: string;
    try {
      listing = execFileSync('tar', ['-tf', '-'], { input: await collect(sampleTree()) }).toString();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    expect(listing.split('\n')).toContain(LONG_PATH.slice(1));
    expect(listing.split('\n')).toContain('usr/bin/sh');
  });

  it('stops cleanly when the consumer stops early', async () => {
    const t = new Tree();
    for (let i = 0; i < 50; i++) t.put(`/f${i}`, file(new Uint8Array(100_000)));
    for await (const _ of canonicalTar(t)) break;
  });
});

describe('treeDiffId', () => {
  it('is the sha256 of the tar, stable across runs and insertion orders', async () => {
    const tree = sampleTree();
    const id = await treeDiffId(tree);
    expect(id).toBe('sha256:' + createHash('sha256').update(await collect(tree)).digest('hex'));
    expect(await treeDiffId(sampleTree())).toBe(id);
    expect(await treeDiffId(reversedTree(tree))).toBe(id);
  });

  it('changes when any metadata changes', async () => {
    const base = await treeDiffId(sampleTree());
    const edits: ((t: Tree) => void)[] = [
      (t) => { t.get('/etc/passwd')!.mode = 0o600; },
      (t) => { t.get('/etc/passwd')!.mtime = 1; },
      (t) => { t.get('/tmp')!.uid = 1; },
      (t) => { t.remove('/usr/bin/sh'); },
    ];
    for (const edit of edits) {
      const t = sampleTree();
      edit(t);
      expect(await treeDiffId(t)).not.toBe(base);
    }
  });

  it('of an empty tree is the digest of the 1024-byte end-of-archive marker', async () => {
    expect(await treeDiffId(new Tree())).toBe('sha256:' + createHash('sha256').update(new Uint8Array(1024)).digest('hex'));
  });
});

describe('canonicalTar failures', () => {
  it('passes on an error from reading the tree instead of hanging', async () => {
    const t = sampleTree();
    Object.defineProperty(t.get('/etc/passwd')!, 'data', { get: () => { throw new Error('unreadable'); } });
    await expect(treeDiffId(t)).rejects.toThrow('unreadable');
  });
});
