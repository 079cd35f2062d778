// A host's runtime as shipped in a bundle: runtime/hosts/<host>.ts and everything it imports, bundled
// through esbuild.ts into DIST/<dir>/index.js plus lazily loaded chunks (the shell, the WASI engine and
// each interpreter load only when a box needs them).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundle, type BundleFile, type BundleRequest } from './esbuild.js';
import { writeDistFile } from './box-contents.js';

/** Packages no edge bundle carries: just-bash's optional zstd binding (never installed), and the
 *  engines that compile Wasm at run time or need files of their own (the targets refuse such boxes). */
export const EDGE_EXTERNAL = ['@mongodb-js/zstd', '@wasmer/sdk', 'pyodide'];

/** The runtime files written, as paths relative to DIST, with their total and gzipped sizes. */
export interface WrittenRuntime {
  files: string[];
  bytes: number;
  gzipBytes: number;
  /** gzip -9 bytes of what running a WASI module loads: the entry, the module cache and the WASI engine
   *  (loaded on first use), with the chunks they import statically; not the shell or the interpreters. */
  startGzipBytes: number;
}

/** The entry file of a runtime host (`.ts` in the source tree, `.js` once compiled to dist/). */
export function hostEntry(name: string): string {
  const ts = fileURLToPath(new URL(`../../runtime/hosts/${name}.ts`, import.meta.url));
  return existsSync(ts) ? ts : ts.replace(/\.ts$/, '.js');
}

/** A bundled runtime held in memory, its files named as they will be in DIST. */
export interface BundledRuntime extends WrittenRuntime {
  contents: BundleFile[];
}

/** Bundle a runtime host for `dist/dir` (entry `dir/index.js`) without writing it yet. */
export async function bundleRuntime(dir: string, req: BundleRequest): Promise<BundledRuntime> {
  const built = await bundle(req);
  const contents = built.files.map((f) => ({ ...f, path: `${dir}/${f.path}` }));
  return { contents, files: contents.map((f) => f.path), bytes: built.bytes, gzipBytes: built.gzipBytes, startGzipBytes: startGzip(built.files) };
}

/** Bundle a runtime host into `dist/dir` (entry `dir/index.js`). */
export async function writeRuntime(dist: string, dir: string, req: BundleRequest): Promise<WrittenRuntime> {
  const runtime = await bundleRuntime(dir, req);
  for (const file of runtime.contents) await writeDistFile(dist, file.path, file.bytes);
  return runtime;
}

/** esbuild names a chunk that dynamic imports load after its source file: runtime/core/wasm-module.ts
 *  and runtime/core/wasi/engine.ts, which every WASI run loads. */
const WASI_RUN_CHUNKS = /^(wasm-module|engine)-[A-Z0-9]{8}\.js$/;

/** gzip size of the entry (index.js), the WASI run's chunks, and every chunk those import statically. */
function startGzip(files: BundleFile[]): number {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const seen = new Set<string>();
  const queue = ['index.js', ...files.map((f) => f.path).filter((p) => WASI_RUN_CHUNKS.test(p))];
  let total = 0;
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    const file = byPath.get(path);
    if (!file || seen.has(path)) continue;
    seen.add(path);
    total += file.gzipBytes;
    // esbuild's chunks import each other as `from"./chunk-X.js"` or `import"./chunk-X.js"` (minified).
    const text = new TextDecoder().decode(file.bytes);
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*["']\.\/([^"']+\.js)["']/g)) queue.push(m[1]);
  }
  return total;
}

