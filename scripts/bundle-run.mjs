#!/usr/bin/env node
// Bundle `wasmbox run`'s path for start-up: src/cli/run-main.ts (the main thread) and
// runtime/hosts/node-worker.ts (the guest's thread) become dist/run/main.js and dist/run/node-worker.js,
// with the code they share and what they load lazily (mounts, pulls, engines) as chunks beside them.
// Loading ~50 ES modules one by one costs a run ~20 ms; a few files do not. The bundled node.ts finds the
// worker beside itself (new URL('./node-worker.js', import.meta.url)), so everything stays in one folder.
// Packages stay imports (they load only when a box needs them, and some are CommonJS) except the WASI
// shim every run needs. Runs after tsc in `npm run build` and `prepare`; bin/wasmbox.js falls back to
// dist/src when dist/run is missing.
//
//   node scripts/bundle-run.mjs [--out DIR]      (default: dist/run, replaced)
import { rmSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--out');
const OUT = at > 0 ? resolve(process.argv[at + 1]) : join(ROOT, 'dist', 'run');
/** Bundled into the worker: what every WASI run loads. */
const INLINE = new Set(['@bjorn3/browser_wasi_shim']);

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const external = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })
  .filter((name) => !INLINE.has(name))
  .flatMap((name) => [name, `${name}/*`]);

rmSync(OUT, { recursive: true, force: true });
// One build per thread: the two load their code separately anyway, so chunks shared between them would
// only split each thread's files further. Chunk names are content hashes, so the builds cannot collide.
const ENTRIES = { main: 'src/cli/run-main.ts', 'node-worker': 'runtime/hosts/node-worker.ts' };
for (const [name, file] of Object.entries(ENTRIES)) await build({
  entryPoints: { [name]: join(ROOT, file) },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // Readable code: an internal error's stack (WASMBOX_DEBUG) should name real functions.
  minify: false,
  logLevel: 'warning',
});
