/**
 * The WASI engine's test programs (C sources in test/fixtures/wasi-src, built by
 * scripts/make-wasi-fixtures.sh when clang is here), a box image to run them in, and a runner that
 * collects what a run printed and how it ended.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFsImage, type FsImage } from '../../../runtime/core/fs-image.js';
import { bufferInput, collectOutput, type InputSource } from '../../../runtime/core/process.js';
import { Vfs } from '../../../runtime/core/vfs.js';
import { runWasi } from '../../../runtime/core/wasi/engine.js';
import { compileModule } from '../../../runtime/core/wasm-module.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = resolve(REPO, 'test/fixtures/wasi');

/** Why the programs cannot be built here, or undefined when they were built. */
export const PROGRAMS_MISSING: string | undefined = buildPrograms();

function buildPrograms(): string | undefined {
  if (spawnSync('clang', ['--version']).status !== 0) {
    return 'clang is not installed (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)';
  }
  // A build failure with clang present is a real failure: let it throw.
  execFileSync('bash', [resolve(REPO, 'scripts/make-wasi-fixtures.sh'), OUT], { stdio: ['ignore', 'ignore', 'inherit'] });
  return undefined;
}

/** The bytes of test program `name` (test/fixtures/wasi/NAME.wasm). */
export function programBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(resolve(OUT, `${name}.wasm`)));
}

/** Test program `name`, compiled once per test process. */
export function program(name: string): Promise<WebAssembly.Module> {
  return compileModule(programBytes(name), `test:${name}`);
}

/** One entry of a hand-made box image: a directory, a file with text, or a symlink. */
export type ImageEntry = [path: string, kind: 'dir'] | [path: string, kind: 'file', text: string] | [path: string, kind: 'symlink', target: string];

/** A rootfs.wbfs holding `entries` (parents must come before children), as the box writer lays it out. */
export function imageBytes(entries: ImageEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const rows = [['/', 'dir', 0o755, 0, 0, 1_700_000_000, 0, 0, '', ''], ...entries.map(([path, kind, value]) => {
    if (kind === 'dir') return [path, 'dir', 0o755, 0, 0, 1_700_000_000, 0, 0, '', ''];
    if (kind === 'symlink') return [path, 'symlink', 0o777, 0, 0, 1_700_000_000, 0, 0, value, ''];
    const data = enc.encode(value);
    blobs.push(data);
    offset += data.byteLength;
    return [path, 'file', 0o644, 0, 0, 1_700_000_000, data.byteLength, offset - data.byteLength, '', 'x'];
  })];
  const index = enc.encode(JSON.stringify({ entries: rows }));
  const start = Math.ceil((12 + index.byteLength) / 8) * 8;
  const out = new Uint8Array(start + offset);
  out.set(enc.encode('WBFS0001'));
  new DataView(out.buffer).setUint32(8, index.byteLength, true);
  out.set(index, 12);
  let at = start;
  for (const b of blobs) out.set(b, (at += b.byteLength) - b.byteLength);
  return out;
}

/** The box every program runs in (see the C sources for what each expects to find). */
export const BOX_ENTRIES: ImageEntry[] = [
  ['/tmp', 'dir'],
  ['/data', 'dir'],
  ['/data/orig.txt', 'file', 'original text from the image\n'],
  ['/etc', 'dir'],
  ['/etc/secret', 'file', 'box secret'],
  ['/etc/abs', 'file', 'abs file\n'],
  ['/deep', 'dir'],
  ['/deep/a', 'dir'],
  ['/deep/a/b', 'dir'],
  ['/deep/a/b/up', 'symlink', '../../../../../../etc/secret'],
  ['/deep/abs', 'symlink', '/etc/secret'],
  ['/deep/c1', 'symlink', 'c2'],
  ['/deep/c2', 'symlink', '/deep/c3'],
  ['/deep/c3', 'symlink', '../etc/secret'],
  ['/deep/loop1', 'symlink', 'loop2'],
  ['/deep/loop2', 'symlink', 'loop1'],
  ['/deep/self', 'symlink', 'self'],
  ['/deep/dirlink', 'symlink', '/etc'],
  ['/app', 'dir'],
  ['/app/sub', 'dir'],
  ['/app/sub/y', 'file', 'in sub\n'],
  ['/app/x', 'file', 'in app\n'],
  ['/x', 'file', 'decoy at root\n'],
  ['/big', 'dir'],
  ...Array.from({ length: 5000 }, (_, i): ImageEntry => [`/big/f${i}`, 'file', '']),
  ['/big2', 'dir'],
  ...Array.from({ length: 100 }, (_, i): ImageEntry => [`/big2/f${i}`, 'file', 'x']),
];

/** The box image bytes (shared by every run: runs must never change them) and the parsed image. */
export const BOX_BYTES = imageBytes(BOX_ENTRIES);
export const BOX_IMAGE: FsImage = parseFsImage(BOX_BYTES);

/** How one run ended and what it printed. */
export interface RunResult {
  code: number | undefined;
  error: Error | undefined;
  stdout: string;
  stderr: string;
  vfs: Vfs;
}

/** What a test may set for a run; the rest defaults to a fresh view of the box, cwd "/", no input. */
export interface RunOptions {
  args?: string[];
  env?: string[];
  cwd?: string;
  stdin?: string | InputSource;
  vfs?: Vfs;
  memoryLimit?: number;
}

/** Run test program `name` to the end. */
export async function run(name: string, options: RunOptions = {}): Promise<RunResult> {
  const vfs = options.vfs ?? Vfs.fromImage(BOX_IMAGE);
  const out = collectOutput();
  const err = collectOutput();
  const stdin = typeof options.stdin === 'string' ? bufferInput(new TextEncoder().encode(options.stdin)) : (options.stdin ?? bufferInput(new Uint8Array()));
  const spec = { argv: [name, ...(options.args ?? [])], env: options.env ?? [], cwd: options.cwd ?? '/', vfs, stdin, stdout: out.sink, stderr: err.sink };
  let code: number | undefined;
  let error: Error | undefined;
  try {
    code = await runWasi(await program(name), spec, { memoryLimit: options.memoryLimit });
  } catch (e) {
    error = e as Error;
  }
  const dec = new TextDecoder();
  return { code, error, stdout: dec.decode(out.bytes()), stderr: dec.decode(err.bytes()), vfs };
}
