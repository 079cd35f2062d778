import { describe, expect, it } from 'vitest';
import { loadBox } from '../../runtime/core/box.js';
import { BoxFormatError, parseFsImage } from '../../runtime/core/fs-image.js';
import { planImage } from '../../src/box/wbfs-writer.js';
import { sampleTree } from '../box/sample-tree.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** A rootfs.wbfs assembled by hand from an index value and a data region, so each rule can be broken alone. */
function wbfs(index: unknown, data = new Uint8Array(), opts: { magic?: string; claimedLength?: number } = {}): Uint8Array {
  const json = enc(typeof index === 'string' ? index : JSON.stringify(index));
  const start = Math.ceil((12 + json.length) / 8) * 8;
  const buf = new Uint8Array(start + data.length);
  buf.set(enc(opts.magic ?? 'WBFS0001'));
  new DataView(buf.buffer).setUint32(8, opts.claimedLength ?? json.length, true);
  buf.set(json, 12);
  buf.set(data, start);
  return buf;
}

const ROOT = ['/', 'dir', 0o755, 0, 0, 0, 0, 0, '', ''];
const fileRow = (path: string, size: number, offset: number) => [path, 'file', 0o644, 0, 0, 0, size, offset, '', 'ab'];

describe('parseFsImage', () => {
  it('reads what the writer wrote, with zero-copy views into the one buffer', () => {
    const plan = planImage(sampleTree());
    const buf = new Uint8Array(plan.header.length + plan.fileBytes);
    buf.set(plan.header);
    let at = plan.header.length;
    for (const b of plan.blobs) buf.set(b, (at += b.length) - b.length);
    const fs = parseFsImage(buf);
    expect(fs.entries[0]).toEqual({ path: '/', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000, size: 0, offset: 0, target: '', sha256: '' });
    const sh = fs.read(fs.byPath.get('/usr/bin/sh')!);
    expect(new TextDecoder().decode(sh)).toBe('#!/bin/sh\necho hi\n');
    expect(sh.buffer).toBe(buf.buffer);
    expect(fs.read(fs.byPath.get('/tmp')!)).toHaveLength(0);
  });

  it('works on a view into a larger buffer (byteOffset ≠ 0)', () => {
    const inner = wbfs({ entries: [ROOT, fileRow('/f', 3, 0)] }, enc('abc'));
    const outer = new Uint8Array(inner.length + 5);
    outer.set(inner, 5);
    const fs = parseFsImage(outer.subarray(5));
    expect(new TextDecoder().decode(fs.read(fs.byPath.get('/f')!))).toBe('abc');
  });

  const broken: [string, Uint8Array, RegExp][] = [
    ['empty input', new Uint8Array(), /too short/],
    ['bad magic', wbfs({ entries: [ROOT] }, undefined, { magic: 'WBFS0002' }), /bad magic "WBFS0002"/],
    ['an index length past the end (truncated)', wbfs({ entries: [ROOT] }, undefined, { claimedLength: 4096 }), /runs past the end.*truncated/],
    ['a truncated data region', wbfs({ entries: [ROOT, fileRow('/f', 10, 0)] }, enc('abc')), /beyond the data region.*truncated/],
    ['an offset beyond the buffer', wbfs({ entries: [ROOT, fileRow('/f', 1, 1_000_000)] }, enc('abc')), /bytes 1000000\.\.1000001 lie beyond/],
    ['an index that is not JSON', wbfs('{"entries":['), /not UTF-8 JSON/],
    ['an index without entries', wbfs({ files: [] }), /no "entries" array/],
    ['a row of the wrong length', wbfs({ entries: [ROOT, ['/f', 'file']] }), /entry 1 .*not an array of 10/],
    ['an unknown type', wbfs({ entries: [ROOT, ['/f', 'socket', 0, 0, 0, 0, 0, 0, '', '']] }), /unknown type socket/],
    ['a negative size', wbfs({ entries: [ROOT, fileRow('/f', -1, 0)] }), /number field is invalid/],
    ['a relative path', wbfs({ entries: [ROOT, fileRow('f', 0, 0)] }), /not absolute/],
    ['mode bits beyond 7777', wbfs({ entries: [ROOT, ['/d', 'dir', 0o40755, 0, 0, 0, 0, 0, '', '']] }), /mode 40755/],
    ['a path listed twice', wbfs({ entries: [ROOT, fileRow('/f', 0, 0), fileRow('/f', 0, 0)] }), /listed twice/],
    ['no root first', wbfs({ entries: [fileRow('/f', 0, 0)] }), /first entry is not the root/],
    ['a hardlink to nothing', wbfs({ entries: [ROOT, ['/h', 'hardlink', 0, 0, 0, 0, 0, 0, '/gone', '']] }), /hardlink \/h names \/gone/],
  ];
  it.each(broken)('rejects %s with a BoxFormatError', (_, buf, message) => {
    expect(() => parseFsImage(buf)).toThrow(BoxFormatError);
    expect(() => parseFsImage(buf)).toThrow(message);
  });
});

describe('loadBox', () => {
  const rootfs = wbfs({ entries: [ROOT] });
  it.each([
    ['a string', '{"os":"wasip1","config":{"Cmd":["x"]}}'],
    ['bytes', enc('{"os":"wasip1","config":{"Cmd":["x"]}}')],
  ])('loads a config given as %s', (_, config) => {
    const box = loadBox({ config, rootfs });
    expect(box.config.config?.Cmd).toEqual(['x']);
    expect(box.fs.entries).toHaveLength(1);
  });
  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /not an OCI image config/],
    ['a config member that is not an object', '{"config":3}', /not an OCI image config/],
  ])('rejects a config.json that is %s', (_, config, message) => {
    expect(() => loadBox({ config, rootfs })).toThrow(message);
  });
});

describe('runtime isolation', () => {
  it.each(['fs-image.ts', 'box.ts'])('runtime/core/%s imports only sibling runtime files (no src/, no node:)', async (name) => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL(`../../runtime/core/${name}`, import.meta.url), 'utf8');
    const imports = [...text.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);
    expect(imports.filter((spec) => !spec.startsWith('./'))).toEqual([]);
  });
});
