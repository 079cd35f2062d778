/**
 * Modules compiled before the box runs (workerd declares them): provideModule seeds the engine's cache
 * by key, so compileModule never compiles them; prepareModule gives the bytes to declare.
 */
import { describe, expect, it } from 'vitest';
import { compileModule, moduleInfo, prepareModule, provideModule } from '../../runtime/core/wasm-module.js';

// The smallest module with a memory: the header, then a memory section (id 5) with one memory of min 2 pages.
const WITH_MEMORY = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x02]);

describe('provideModule', () => {
  it('makes compileModule answer with the given module for its key, whatever the bytes', async () => {
    const module = new WebAssembly.Module(prepareModule(WITH_MEMORY));
    provideModule('sha-of-the-file', module, WITH_MEMORY);
    // Bytes that would not compile: the provided module is used without looking at them.
    expect(await compileModule(new Uint8Array([1, 2, 3]), 'sha-of-the-file')).toBe(module);
    await expect(compileModule(new Uint8Array([1, 2, 3]), 'another-key')).rejects.toThrow();
  });

  it('tells the engine what the source says (memories), and leaves no source to recompile', () => {
    const module = new WebAssembly.Module(WITH_MEMORY);
    provideModule('k2', module, WITH_MEMORY);
    const info = moduleInfo(module);
    expect(info.source).toBeUndefined();
    expect(info.memories?.map((m) => m.limits.min)).toEqual([2]);
    expect(info.cwd).toEqual({ wasiLibc: false, chdir: false, cwdVar: undefined });
  });

  it('prepareModule leaves a module without wasi-libc as it is', () => {
    expect(prepareModule(WITH_MEMORY)).toBe(WITH_MEMORY);
  });
});
