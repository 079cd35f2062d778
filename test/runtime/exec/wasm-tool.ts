/**
 * The WASI test command (tool.c) compiled with clang, and whether the WASI engine can run it yet. Tests
 * that need either skip with the reason instead of failing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'tool.c');

/** The compiled module's bytes, or why there are none. */
export type WasmTool = { bytes: Uint8Array; skip?: undefined } | { bytes?: undefined; skip: string };

/** Compile tool.c for wasm32-wasi in a temp dir (removed again); skip when clang or wasi-libc is missing. */
export async function buildWasmTool(): Promise<WasmTool> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmbox-exec-'));
  try {
    const out = join(dir, 'tool.wasm');
    await run('clang', ['--target=wasm32-wasi', '-O2', '-o', out, SOURCE]);
    return { bytes: new Uint8Array(await readFile(out)) };
  } catch (err) {
    return { skip: `clang --target=wasm32-wasi could not build tool.c (${(err as Error).message.split('\n')[0]}); install clang lld wasi-libc` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Why Wasm modules cannot run yet (the engine or the module compiler is still a stub), or undefined. */
export async function wasmEngineMissing(): Promise<string | undefined> {
  try {
    const engine = await import('../../../runtime/core/wasi/engine.js');
    await import('../../../runtime/core/wasm-module.js');
    const { probeModule, PROBE_EXIT } = await import('../../../runtime/core/engines/probe-module.js');
    const { Vfs } = await import('../../../runtime/core/vfs.js');
    const { NO_INPUT } = await import('../../../runtime/core/process.js');
    const module = await WebAssembly.compile(probeModule());
    const code = await engine.runWasi(module, { argv: ['probe'], env: [], cwd: '/', vfs: Vfs.empty(), stdin: NO_INPUT, stdout: () => {}, stderr: () => {} });
    return code === PROBE_EXIT ? undefined : `the WASI engine ran the probe module with exit ${code}, expected ${PROBE_EXIT}`;
  } catch (err) {
    return `the WASI engine is not ready (${(err as Error).message})`;
  }
}
