// Modules the WASI engine must refuse to start (with LaunchError 126 and a message that says why), and the
// smallest module it must run, assembled byte by byte.
import { describe, expect, it, vi } from 'vitest';
import { LaunchError } from '../../../runtime/core/process.js';
import { Vfs } from '../../../runtime/core/vfs.js';
import { runWasi } from '../../../runtime/core/wasi/engine.js';
import { compileModule } from '../../../runtime/core/wasm-module.js';
import { buildModule, type ModuleSpec } from './wasm-builder.js';

/** A spec for modules that do nothing with it. */
function quietSpec(argv0: string) {
  return { argv: [argv0], env: [], cwd: '/', vfs: Vfs.empty(), stdin: { read: () => new Uint8Array() }, stdout: () => {}, stderr: () => {} };
}

describe('WASI engine refusing modules it cannot run', () => {
  const rows: [string, ModuleSpec, RegExp][] = [
    ['a WASIX program', { imports: [['wasix_32v1', 'fd_write']], memory: { min: 1 }, exports: ['_start'] }, /^\/bin\/x is a WASIX program \(it imports wasix_32v1\/wasix_64v1\); it needs the wasmer engine/],
    ['a reactor', { imports: [['wasi_snapshot_preview1', 'fd_write']], memory: { min: 1 }, exports: ['_initialize'] }, /^\/bin\/x is a WASI reactor \(a library: it exports _initialize, not _start\), so it cannot be run as a program$/],
    ['a library without _start', { memory: { min: 1 }, exports: ['grow'] }, /^\/bin\/x is not a WASI command \(it exports no _start function\)/],
    ['an Emscripten-style module', { imports: [['env', 'emscripten_memcpy_big']], memory: { min: 1 }, exports: ['_start'] }, /^\/bin\/x cannot start: it imports env\.emscripten_memcpy_big, which the WASI engine does not provide: it was built for another host/],
    ['a WASI snapshot 0 module', { imports: [['wasi_unstable', 'fd_write']], memory: { min: 1 }, exports: ['_start'] }, /it imports wasi_unstable\.fd_write, .*old WASI snapshot 0; rebuild it/],
    ['a module without memory', { exports: ['_start'] }, /^\/bin\/x neither exports nor imports a memory, which WASI needs$/],
  ];
  it.each(rows)('%s → LaunchError 126', async (_name, spec, message) => {
    const err = await runWasi(await compileModule(buildModule(spec)), quietSpec('/bin/x')).catch((e) => e);
    expect(err).toBeInstanceOf(LaunchError);
    expect(err.exitCode).toBe(126);
    expect(err.message).toMatch(message);
  });

  it('refuses a working directory that cannot be one', async () => {
    const spec = { ...quietSpec('/bin/x'), cwd: '/etc/passwd/sub' };
    spec.vfs.mkdir('/etc');
    spec.vfs.writeFile('/etc/passwd', new Uint8Array());
    const err = await runWasi(await compileModule(buildModule({ memory: { min: 1 }, exports: ['_start'] })), spec).catch((e) => e);
    expect(err).toBeInstanceOf(LaunchError);
    expect(err.message).toBe('/bin/x cannot start in working directory /etc/passwd/sub: a path component is not a directory');
  });

  it('runs a module that imports nothing and keeps debug logging off', async () => {
    const log = vi.spyOn(console, 'log');
    try {
      expect(await runWasi(await compileModule(buildModule({ memory: { min: 1 }, exports: ['_start'] })), quietSpec('/bin/x'))).toBe(0);
      expect(log).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });
});
