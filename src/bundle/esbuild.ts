// The only esbuild import: bundles a runtime host entry (runtime/hosts/*.ts) into one ES module for a
// target. esbuild changes often; everything else asks for bundles through this file.
import { gzipSync } from 'node:zlib';

/** What to bundle and for which kind of host. */
export interface BundleRequest {
  /** Absolute path of the entry file (TypeScript is fine). */
  entry: string;
  /** `browser` for pages, `neutral` for hosts with neither, `node` where `node:*` built-ins exist (Node;
   *  Deno and workerd with nodejs_compat): packages then resolve to their Node builds. */
  platform: 'browser' | 'neutral' | 'node';
  /** Imports left as they are (e.g. `./box.wasm` modules workerd provides, or lazily fetched chunks). */
  external?: string[];
  /** Compile-time constants, e.g. { 'process.env.NODE_ENV': '"production"' }. */
  define?: Record<string, string>;
  /** Split dynamic imports into chunks (web target: language runtimes load only when a box needs them). */
  splitting?: boolean;
  minify?: boolean;
  /**
   * Imports resolved another way for this target, by exact specifier: an absolute file path bundles that
   * file instead (e.g. a package's Node build), `{ url }` leaves the import as an import of that URL
   * (relative to the output file; for packages shipped as files beside the bundle).
   */
  redirect?: Record<string, string | { url: string }>;
  /** Resolve `node:*` imports to empty modules (browsers have none); code that reaches them must not run there. */
  emptyNodeBuiltins?: boolean;
}

/** One output file of a bundle: its name relative to the output directory, its bytes and their gzip -9 size. */
export interface BundleFile {
  path: string;
  bytes: Uint8Array;
  gzipBytes: number;
}

/** The files of a bundle, entry first, with their total and gzipped sizes for the size report. */
export interface Bundle {
  files: BundleFile[];
  bytes: number;
  gzipBytes: number;
}

/** Bundles `req.entry` into ES module files (in memory); the caller writes them where the target wants. */
export async function bundle(req: BundleRequest): Promise<Bundle> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { index: req.entry },
    bundle: true,
    write: false,
    format: 'esm',
    platform: req.platform,
    target: 'es2022',
    outdir: '/out',
    splitting: req.splitting ?? false,
    minify: req.minify ?? true,
    external: req.external ?? [],
    define: req.define ?? {},
    logLevel: 'silent',
    metafile: false,
    plugins: [resolver(req)],
  });
  const files = result.outputFiles
    .map((f) => ({ path: f.path.replace(/^\/out\//, ''), bytes: f.contents, gzipBytes: gzipSize(f.contents) }))
    .sort((a, b) => (a.path === 'index.js' ? -1 : b.path === 'index.js' ? 1 : a.path.localeCompare(b.path)));
  const bytes = files.reduce((n, f) => n + f.bytes.length, 0);
  const gzipBytes = files.reduce((n, f) => n + f.gzipBytes, 0);
  return { files, bytes, gzipBytes };
}

/** The plugin behind `redirect` and `emptyNodeBuiltins`. */
function resolver(req: BundleRequest): import('esbuild').Plugin {
  const redirect = req.redirect ?? {};
  // Only the named specifiers cross into JavaScript: a catch-all filter would slow every import down.
  const names = Object.keys(redirect).map((k) => k.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  if (req.emptyNodeBuiltins) names.push('node:.*');
  const filter = new RegExp(`^(?:${names.join('|')})$`);
  return {
    name: 'wasmbox-resolve',
    setup(build) {
      if (names.length === 0) return;
      build.onResolve({ filter }, (args) => {
        const to = Object.hasOwn(redirect, args.path) ? redirect[args.path] : undefined;
        if (to !== undefined) return typeof to === 'string' ? { path: to } : { path: to.url, external: true };
        if (req.emptyNodeBuiltins && args.path.startsWith('node:')) return { path: args.path, namespace: 'node-builtin' };
        return undefined;
      });
      // CommonJS, so any named import is allowed (and undefined); createRequire must exist because
      // Node-targeted bundles call it at load time.
      build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, () => ({
        contents: 'module.exports = { createRequire: () => (id) => { throw new Error(`require(${id}) is not available here`); } };',
        loader: 'js',
      }));
    },
  };
}

/** gzip -9 size of some bytes (what size reports call "compressed"). */
function gzipSize(bytes: Uint8Array | string): number {
  return gzipSync(bytes, { level: 9 }).byteLength;
}
