// The Node host's side of the adaptive tier (runtime/hosts/node-tier.ts): the on-disk memory of hot
// modules (atomic, never failing a run, only digests become file names), what each WASMBOX_WASM_TIER
// mode asks of the module cache, and the optimising compile itself.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileOptimized, nodeTierHost, rememberHot } from '../../../runtime/hosts/node-tier.js';
import type { TierChoice } from '../../../runtime/hosts/node-channel.js';
import { scratchDir } from '../../helpers/fixtures.js';
import { buildModule } from '../wasi/wasm-builder.js';

const KEY = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);
let tmp: { dir: string; remove: () => Promise<void> };
beforeAll(async () => void (tmp = await scratchDir('wasmbox-node-tier-')));
afterAll(async () => tmp?.remove());

describe('rememberHot', () => {
  it('records a digest as one file in a folder it creates, leaving no temporary files', () => {
    const dir = join(tmp.dir, 'fresh', 'wasm-tier');
    rememberHot(dir, [KEY, OTHER, KEY]);
    expect(readdirSync(dir).sort()).toEqual([KEY, OTHER]);
  });

  const bad: [string, string][] = [
    ['a path', '../../escape'],
    ['a short hex string', 'abc'],
    ['an upper-case digest', 'AB'.repeat(32)],
    ['a prefixed digest', `sha256:${KEY}`],
  ];
  it.each(bad)('never turns %s into a file name', (_name, key) => {
    const dir = join(tmp.dir, `bad-${key.length}-${key.slice(0, 3).replace(/\W/g, '_')}`);
    rememberHot(dir, [key]);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('ignores a folder it cannot create or write (a file in the way, a read-only filesystem)', () => {
    const file = join(tmp.dir, 'a-file');
    writeFileSync(file, 'x');
    for (const dir of [join(file, 'wasm-tier'), file, '/proc/wasmbox-no-such/wasm-tier']) expect(() => rememberHot(dir, [KEY])).not.toThrow();
  });
});

describe('nodeTierHost', () => {
  const rows: [string, () => TierChoice, { host: boolean; recorded?: boolean; unknown?: boolean; remembers?: boolean }][] = [
    ['baseline: no host, every module baseline', () => ({ mode: 'baseline', dir: join(tmp.dir, 'host') }), { host: false }],
    ['optimized: every module optimised, nothing remembered', () => ({ mode: 'optimized', dir: join(tmp.dir, 'host') }), { host: true, recorded: true, unknown: true, remembers: false }],
    ['auto: recorded modules optimised, hot ones remembered', () => ({ mode: 'auto', dir: join(tmp.dir, 'host') }), { host: true, recorded: true, unknown: false, remembers: true }],
    ['auto without a folder: nothing is recorded', () => ({ mode: 'auto' }), { host: true, recorded: false, unknown: false, remembers: true }],
  ];
  it.each(rows)('%s', (_name, choice, want) => {
    mkdirSync(join(tmp.dir, 'host'), { recursive: true });
    rememberHot(join(tmp.dir, 'host'), [KEY]);
    const found: string[] = [];
    const host = nodeTierHost(choice(), found);
    expect(host !== undefined).toBe(want.host);
    if (!host) return;
    expect(host.isHot(KEY)).toBe(want.recorded);
    expect(host.isHot(OTHER)).toBe(want.unknown);
    expect(host.isHot('../' + KEY)).toBe(want.unknown); // only a digest is looked up on disk
    host.remember?.(OTHER);
    expect(found).toEqual(want.remembers ? [OTHER] : []);
  });
});

describe('compileOptimized', () => {
  it('gives a working module, also when compiles overlap', async () => {
    const bytes = buildModule({ memory: { min: 1 }, exports: ['grow'] });
    const modules = await Promise.all([compileOptimized(bytes), compileOptimized(bytes.slice()), WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>)]);
    for (const module of modules) {
      const grow = (await WebAssembly.instantiate(module)).exports.grow as (n: number) => number;
      expect(grow(1)).toBe(1);
    }
  });

  it('reports a module that is not Wasm as a CompileError (as WebAssembly.compile does)', async () => {
    await expect(compileOptimized(new Uint8Array([0, 1, 2, 3]))).rejects.toBeInstanceOf(WebAssembly.CompileError);
  });
});
