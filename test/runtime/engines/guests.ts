/**
 * The test guests of the WASIX engine, compiled from test/fixtures/wasix-src/guest.c with Debian's
 * clang (wasm32-wasi, wasi-libc) into a temp dir when this module loads: `wasi` is a plain WASI command,
 * `wasix` the same program importing wasix_32v1.getcwd. When clang cannot build them, `missing` says why
 * and the tests that need them skip.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The C source of the guests. */
export const GUEST_SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/wasix-src/guest.c');

/** The compiled guests, or why there are none. */
export const guests: { wasi?: Uint8Array; wasix?: Uint8Array; missing?: string } = build();

function build(): typeof guests {
  const dir = mkdtempSync(join(tmpdir(), 'wasmbox-wasix-'));
  try {
    const compile = (out: string, ...flags: string[]): Uint8Array => {
      execFileSync('clang', ['--target=wasm32-wasi', '-O2', ...flags, '-o', join(dir, out), GUEST_SOURCE], { stdio: 'pipe' });
      return readFileSync(join(dir, out));
    };
    return { wasi: compile('guest.wasm'), wasix: compile('guest-wasix.wasm', '-DWASIX') };
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error);
    return { missing: `clang cannot build wasm32-wasi guests (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32): ${detail}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
