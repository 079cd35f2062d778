// compileModule's cache, moduleKind, and capMemory's rewriting of memory limits, on modules assembled
// byte by byte (and on the C test programs when clang is here).
import { describe, expect, it } from 'vitest';
import { capMemory, clearModuleCache, compileModule, MemoryLimitError, moduleInfo, moduleKind, type ModuleKind } from '../../../runtime/core/wasm-module.js';
import { CWD_EXPORTS } from '../../../runtime/core/wasi/guest-cwd.js';
import { scanModule } from '../../../runtime/core/wasi/module-scan.js';
import { WasmFormatError } from '../../../runtime/core/wasi/wasm-binary.js';
import { PROGRAMS_MISSING, programBytes } from './helpers.js';
import { buildModule, type ModuleSpec } from './wasm-builder.js';

const limitsOf = (bytes: Uint8Array) => scanModule(bytes).memories.map((m) => ({ imported: !!m.imported, min: m.limits.min, max: m.limits.max }));

describe('moduleKind', () => {
  const rows: [string, ModuleSpec, ModuleKind][] = [
    ['a command importing only WASI', { imports: [['wasi_snapshot_preview1', 'fd_write']], memory: { min: 1 }, exports: ['_start'] }, 'wasi'],
    ['a command importing nothing', { memory: { min: 1 }, exports: ['_start'] }, 'wasi'],
    ['a command with an imported memory', { imports: [['wasi_snapshot_preview1', 'fd_write']], memory: { min: 1, imported: ['env', 'memory'] }, exports: ['_start'] }, 'wasi'],
    ['anything importing wasix_32v1', { imports: [['wasix_32v1', 'fd_write']], exports: ['_start'] }, 'wasix'],
    ['anything importing wasix_64v1', { imports: [['wasix_64v1', 'thread_spawn']] }, 'wasix'],
    ['a reactor (_initialize)', { imports: [['wasi_snapshot_preview1', 'fd_write']], exports: ['_initialize'] }, 'reactor'],
    ['a WASI library without _initialize', { imports: [['wasi_snapshot_preview1', 'fd_write']], exports: ['grow'], memory: { min: 1 } }, 'reactor'],
    ['a command for another host (env imports)', { imports: [['env', 'emscripten_memcpy_big']], exports: ['_start'] }, 'unknown'],
    ['a plain library', { memory: { min: 1 }, exports: ['grow'] }, 'unknown'],
  ];
  it.each(rows)('%s → %s', async (_name, spec, kind) => {
    expect(moduleKind(await WebAssembly.compile(buildModule(spec)))).toBe(kind);
  });

  it.skipIf(PROGRAMS_MISSING)('knows clang-built commands and reactors', async () => {
    expect(moduleKind(await compileModule(programBytes('hello')))).toBe('wasi');
    expect(moduleKind(await compileModule(programBytes('reactor')))).toBe('reactor');
  });
});

describe('capMemory', () => {
  const rows: [string, ModuleSpec['memory'], number, { min: number; max: number | undefined }][] = [
    ['adds a maximum where there is none', { min: 2 }, 16, { min: 2, max: 16 }],
    ['lowers a larger maximum', { min: 2, max: 1000 }, 16, { min: 2, max: 16 }],
    ['keeps a smaller maximum', { min: 2, max: 10 }, 16, { min: 2, max: 10 }],
    ['allows min = cap', { min: 16 }, 16, { min: 16, max: 16 }],
    ['uses multi-byte LEB128 sizes', { min: 300, max: 70000 }, 20000, { min: 300, max: 20000 }],
  ];
  it.each(rows)('%s', async (_name, memory, cap, expected) => {
    for (const imported of [false, true]) {
      const bytes = buildModule({ memory: { ...memory!, imported: imported ? ['env', 'memory'] : undefined }, exports: ['grow'] });
      const capped = capMemory(bytes, cap);
      expect(limitsOf(capped)).toEqual([{ imported, ...expected }]);
      await WebAssembly.compile(capped as Uint8Array<ArrayBuffer>);
    }
  });

  it('makes memory.grow fail past the cap', async () => {
    const bytes = capMemory(buildModule({ memory: { min: 1 }, exports: ['grow'] }), 4);
    const { exports } = await WebAssembly.instantiate(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>));
    const grow = exports.grow as (n: number) => number;
    expect(grow(3)).toBe(1);
    expect(grow(1)).toBe(-1);
  });

  it('refuses a module whose initial memory is above the cap, saying both sizes', () => {
    const bytes = buildModule({ memory: { min: 32 }, exports: ['_start'] });
    expect(() => capMemory(bytes, 16)).toThrow(MemoryLimitError);
    expect(() => capMemory(bytes, 16)).toThrow('the module needs 2 MiB of memory to start, more than the memory limit of 1 MiB; raise the limit (--memory)');
  });

  it('returns a module without memory unchanged', () => {
    const bytes = buildModule({ exports: ['_start'] });
    expect(capMemory(bytes, 16)).toBe(bytes);
  });

  it('rejects bytes that are not a module', () => {
    expect(() => capMemory(new TextEncoder().encode('#!/bin/sh\n'), 16)).toThrow(/^not a valid WebAssembly module: it does not start with \\0asm$/);
    expect(() => capMemory(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]), 16)).toThrow(/version 13 is not 1 \(a component/);
    expect(() => capMemory(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 9, 1]), 16)).toThrow(WasmFormatError);
  });
});

describe('compileModule', () => {
  const bytes = buildModule({ memory: { min: 1 }, exports: ['_start'] });

  it('compiles once per key and once per array without one', async () => {
    clearModuleCache();
    const a = await compileModule(bytes, 'k1');
    expect(await compileModule(bytes.slice(), 'k1')).toBe(a);
    expect(await compileModule(bytes, 'k2')).not.toBe(a);
    const b = await compileModule(bytes);
    expect(await compileModule(bytes)).toBe(b);
    expect(await compileModule(bytes.slice())).not.toBe(b);
    clearModuleCache();
    expect(await compileModule(bytes, 'k1')).not.toBe(a);
  });

  it('rejects invalid modules with a WasmFormatError and does not cache the failure', async () => {
    const bad = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 3, 1, 5]);
    await expect(compileModule(bad, 'bad')).rejects.toThrow(WasmFormatError);
    await expect(compileModule(bytes, 'bad')).resolves.toBeInstanceOf(WebAssembly.Module);
  });

  it('records the source and memory of what it compiled, and little for foreign modules', async () => {
    const info = moduleInfo(await compileModule(bytes, 'info'));
    expect(info.source).toBe(bytes);
    expect(info.memories?.map((m) => m.limits.min)).toEqual([1]);
    const foreign = moduleInfo(await WebAssembly.compile(bytes));
    expect(foreign).toMatchObject({ source: undefined, memories: undefined, cwd: { wasiLibc: false, chdir: false, cwdVar: undefined } });
    expect(foreign.exports.map((e) => e.name)).toEqual(['_start', 'memory']);
  });

  it.skipIf(PROGRAMS_MISSING)("exports wasi-libc's chdir and malloc under reserved names when it has them", async () => {
    const exported = async (name: string) => WebAssembly.Module.exports(await compileModule(programBytes(name))).map((e) => e.name);
    expect(await exported('cwd-chdir')).toEqual(expect.arrayContaining([CWD_EXPORTS.chdir, CWD_EXPORTS.malloc, CWD_EXPORTS.free]));
    expect(await exported('cwd-getcwd')).not.toContain(CWD_EXPORTS.chdir);
    expect(moduleInfo(await compileModule(programBytes('cwd-getcwd'))).cwd).toMatchObject({ wasiLibc: true, chdir: false, cwdVar: expect.any(Number) });
    expect(await exported('hello')).toEqual(['memory', '_start']);
    expect(moduleInfo(await compileModule(programBytes('cwd-stripped'))).cwd).toEqual({ wasiLibc: false, chdir: false, cwdVar: undefined });
  });
});
