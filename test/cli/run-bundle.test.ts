// `wasmbox run` as built by `npm run build`: tsc, then scripts/bundle-run.mjs into dist/run, which
// bin/wasmbox.js loads for `run`. The run must work from the bundle alone (its worker included), and the
// hot-module memory in the cache dir must help later runs without ever failing one.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_CLANG, scratchDir } from '../helpers/fixtures.js';
import { type Compiled, REPO, compileWasmbox } from '../runtime/hosts/compiled.js';

if (NO_CLANG) console.warn(`run bundle: skipping: ${NO_CLANG}`);

// Burns about 1.3 s of CPU (more than HOT_RUN_MS), then prints a checksum.
const BUSY_C = `#include <stdio.h>
#include <time.h>
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
int main(void) {
  unsigned long long x = 1;
  double end = now() + 1.3;
  while (now() < end) for (int i = 0; i < 100000; i++) x = x * 6364136223846793005ULL + 1;
  printf("busy %d\\n", (int)(x & 1));
  return 0;
}
`;

let wb: Compiled;
let tmp: { dir: string; remove: () => Promise<void> };
let box: string;
let busyKey: string;

beforeAll(async () => {
  if (NO_CLANG) return;
  [wb, tmp] = await Promise.all([compileWasmbox(), scratchDir('wasmbox-run-bundle-')]);
  const ctx = join(tmp.dir, 'ctx');
  await mkdir(ctx);
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-o', join(ctx, 'hello.wasm'), join(REPO, 'test/fixtures/run-src/hello.c')]);
  await writeFile(join(ctx, 'busy.c'), BUSY_C);
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-o', join(ctx, 'busy.wasm'), join(ctx, 'busy.c')]);
  busyKey = createHash('sha256').update(readFileSync(join(ctx, 'busy.wasm'))).digest('hex');
  await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY hello.wasm /bin/hello\nCOPY busy.wasm /bin/busy\nCMD ["hello"]\n');
  box = join(tmp.dir, 'box');
  const built = await wb.run(['build', '-q', '-o', box, ctx], { env: { WASMBOX_CACHE_DIR: join(tmp.dir, 'build-cache') } });
  if (built.code !== 0) throw new Error(`wasmbox build failed: ${built.stderr}`);
  // What `npm run build` does after tsc; then take the unbundled runtime away so only the bundle can run.
  execFileSync(process.execPath, [join(REPO, 'scripts/bundle-run.mjs'), '--out', join(wb.dist, 'run')], { stdio: 'pipe' });
  await rm(join(wb.dist, 'runtime'), { recursive: true });
}, 180_000);
afterAll(async () => Promise.all([wb?.remove(), tmp?.remove()]));

describe.skipIf(NO_CLANG)('wasmbox run from the bundle', () => {
  it('runs a box with the bundled main side and worker alone', async () => {
    expect(existsSync(join(wb.dist, 'run/node-worker.js'))).toBe(true);
    const r = await wb.run(['run', box], { env: { WASMBOX_CACHE_DIR: join(tmp.dir, 'cache-a') } });
    expect(r).toMatchObject({ code: 0, stdout: 'hello from wasm\n', stderr: '' });
  });

  it('remembers a module that ran long in the cache dir, and the next run still runs it', async () => {
    const cache = join(tmp.dir, 'cache-b');
    const first = await wb.run(['run', box, 'busy'], { env: { WASMBOX_CACHE_DIR: cache } });
    expect(first).toMatchObject({ code: 0, stdout: 'busy 1\n' });
    expect(existsSync(join(cache, 'wasm-tier', busyKey))).toBe(true);
    const second = await wb.run(['run', box, 'busy'], { env: { WASMBOX_CACHE_DIR: cache } });
    expect(second).toMatchObject({ code: 0, stdout: 'busy 1\n', stderr: '' });
  }, 30_000);

  const broken: [string, () => Promise<string>][] = [
    ['a file', async () => (await writeFile(join(tmp.dir, 'cache-file'), 'x'), join(tmp.dir, 'cache-file'))],
    ['a wasm-tier that is a file', async () => (await mkdir(join(tmp.dir, 'cache-c')), await writeFile(join(tmp.dir, 'cache-c/wasm-tier'), 'x'), join(tmp.dir, 'cache-c'))],
    ['a path that cannot exist', async () => '/proc/wasmbox-no-such-cache'],
  ];
  it.each(broken)('never fails a run when the cache dir is %s', async (_name, make) => {
    const r = await wb.run(['run', box, 'busy'], { env: { WASMBOX_CACHE_DIR: await make() } });
    expect(r).toMatchObject({ code: 0, stdout: 'busy 1\n', stderr: '' });
  }, 30_000);

  it('rejects a WASMBOX_WASM_TIER that is not a tier, naming it', async () => {
    const r = await wb.run(['run', box], { env: { WASMBOX_WASM_TIER: 'turbo' } });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/WASMBOX_WASM_TIER is "turbo".*\n.*auto.*baseline.*optimized/);
  });
});
