// The adaptive tier of wasm-module.ts: which runs make a module hot (long enough, small enough code,
// known by key), that a hot module is compiled optimised next time (seen through the host's hook, not by
// timing), and that a host whose memory fails never fails a run.
import { afterEach, describe, expect, it } from 'vitest';
import { clearModuleCache, compileModule, HOT_RUN_MS, moduleInfo, noteRun, OPTIMIZE_MAX_CODE, setTierHost, type TierHost } from '../../../runtime/core/wasm-module.js';
import { buildModule } from './wasm-builder.js';

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n >>> 7 ? 0x80 : 0));
    n >>>= 7;
  } while (n);
  return out;
};

/** A WASI-shaped command whose _start is `nops` no-ops: a module with that much code. */
function bigCommand(nops: number): Uint8Array {
  const section = (id: number, content: number[] | Uint8Array): Uint8Array => new Uint8Array([id, ...uleb(content.length), ...content]);
  const body = new Uint8Array(nops + 2);
  body.fill(0x01, 1, nops + 1); // locals: 0, then nop × n, then end
  body[nops + 1] = 0x0b;
  const code = new Uint8Array([1, ...uleb(body.length), ...body]);
  const parts = [
    new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    section(1, [1, 0x60, 0, 0]),
    section(3, [1, 0]),
    section(5, [1, 0, 1]),
    section(7, [2, 6, ...new TextEncoder().encode('_start'), 0, 0, 6, ...new TextEncoder().encode('memory'), 2, 0]),
    section(10, code),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** A TierHost that records what it is asked and remembers in memory (or fails, when told to). */
function fakeHost(options: { hot?: string[]; failIsHot?: boolean; failRemember?: boolean } = {}) {
  const calls = { optimized: 0, remembered: [] as string[] };
  const host: TierHost = {
    compileOptimized: async (bytes) => (calls.optimized++, WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>)),
    isHot: (key) => {
      if (options.failIsHot) throw new Error('EACCES');
      return (options.hot ?? []).includes(key) || calls.remembered.includes(key);
    },
    remember: (key) => {
      if (options.failRemember) throw new Error('EROFS');
      calls.remembered.push(key);
    },
  };
  return { host, calls };
}

const small = buildModule({ memory: { min: 1 }, exports: ['_start'] });
const big = bigCommand(OPTIMIZE_MAX_CODE + 1024);
let n = 0;
const freshKey = (): string => `tier-test-${process.pid}-${n++}`;

afterEach(() => {
  setTierHost(undefined);
  clearModuleCache();
});

describe('noteRun: which runs make a module hot', () => {
  const rows: [string, Uint8Array, number, boolean, boolean][] = [
    // name, module, guest CPU ms, compiled with a key, remembered
    ['a long run of a small module', small, HOT_RUN_MS + 1, true, true],
    ['a run of exactly the threshold', small, HOT_RUN_MS, true, true],
    ['a short run', small, HOT_RUN_MS - 1, true, false],
    ['a long run of a module with more code than the cap', big, HOT_RUN_MS * 10, true, false],
    ['a long run of a module compiled without a key', small, HOT_RUN_MS * 10, false, false],
  ];
  it.each(rows)('%s', async (_name, bytes, ms, keyed, remembered) => {
    const { host, calls } = fakeHost();
    setTierHost(host);
    const key = keyed ? freshKey() : undefined;
    const module = await compileModule(bytes.slice(), key);
    expect(moduleInfo(module).tier).toBe('baseline');
    noteRun(module, ms);
    expect(calls.remembered).toEqual(remembered ? [key] : []);
    // In this process too: the next compile of that file is optimised exactly when it was found hot.
    const again = await compileModule(bytes.slice(), key);
    expect(moduleInfo(again).tier).toBe(remembered ? 'optimized' : 'baseline');
    expect(calls.optimized).toBe(remembered ? 1 : 0);
    expect(again === module).toBe(keyed && !remembered); // a keyed baseline module is reused
  });

  it('does nothing without a host (browsers, workerd: every module baseline)', async () => {
    const key = freshKey();
    const module = await compileModule(small.slice(), key);
    noteRun(module, HOT_RUN_MS * 10);
    expect(await compileModule(small.slice(), key)).toBe(module);
  });

  it('tells the host once, and not about a module already optimised', async () => {
    const { host, calls } = fakeHost({ hot: ['known'] });
    setTierHost(host);
    const known = await compileModule(small.slice(), 'known');
    expect(moduleInfo(known).tier).toBe('optimized');
    noteRun(known, HOT_RUN_MS * 10);
    const key = freshKey();
    const module = await compileModule(small.slice(), key);
    noteRun(module, HOT_RUN_MS * 10);
    noteRun(module, HOT_RUN_MS * 10);
    expect(calls.remembered).toEqual([key]);
  });
});

describe('a module remembered as hot', () => {
  it('is compiled optimised, through the host hook, in the next process', async () => {
    const key = freshKey();
    const first = fakeHost();
    setTierHost(first.host);
    noteRun(await compileModule(small.slice(), key), HOT_RUN_MS + 1);
    // A new process: nothing compiled, only the host's memory of the first.
    clearModuleCache();
    const next = fakeHost({ hot: first.calls.remembered });
    setTierHost(next.host);
    const module = await compileModule(small.slice(), key);
    expect(next.calls.optimized).toBe(1);
    expect(moduleInfo(module).tier).toBe('optimized');
    const { exports } = await WebAssembly.instantiate(module);
    expect(typeof exports._start).toBe('function');
  });

  it('is compiled baseline when the host cannot read its memory, and remembering may fail silently', async () => {
    const { host, calls } = fakeHost({ failIsHot: true, failRemember: true });
    setTierHost(host);
    const key = freshKey();
    const module = await compileModule(small.slice(), key);
    expect(moduleInfo(module).tier).toBe('baseline');
    expect(() => noteRun(module, HOT_RUN_MS * 10)).not.toThrow();
    expect(calls.optimized).toBe(0);
  });
});
