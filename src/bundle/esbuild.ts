// The only esbuild import: bundles a runtime host entry (runtime/hosts/*.ts) into one ES module for a
// target. esbuild changes often; everything else asks for bundles through this file.
import { dirname, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

/** What to bundle and for which kind of host. */
export interface BundleRequest {
  /** Absolute path of the entry file (TypeScript is fine); output `index.js`. */
  entry?: string;
  /** Several entries instead: output name (without `.js`) → absolute path. */
  entries?: Record<string, string>;
  /** Modules given as source text, by absolute path (e.g. a generated entry). */
  virtual?: Record<string, string>;
  /** Consulted for every import once resolved to a file (`path`, absolute): leave it as an import of
   *  `url`, or replace the module with `contents`; undefined bundles it as usual. */
  link?: (path: string, dynamic: boolean) => { url: string } | { contents: string } | undefined;
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
  /** The names it exports. */
  exports: string[];
}

/** The files of a bundle, entry first, with their total and gzipped sizes for the size report. */
export interface Bundle {
  files: BundleFile[];
  bytes: number;
  gzipBytes: number;
  /** Absolute paths of the source files bundled (modules from `link` contents not included). */
  inputs: string[];
}

/** Bundles `req.entry` into ES module files (in memory); the caller writes them where the target wants. */
export async function bundle(req: BundleRequest): Promise<Bundle> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: req.entries ?? { index: req.entry! },
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
    metafile: true,
    plugins: [resolver(req)],
  });
  const files = result.outputFiles
    .map((f) => ({ path: f.path.replace(/^\/out\//, ''), bytes: f.contents, gzipBytes: gzipSize(f.contents), exports: result.metafile.outputs[relative('', f.path)]?.exports ?? [] }))
    .sort((a, b) => (a.path === 'index.js' ? -1 : b.path === 'index.js' ? 1 : a.path.localeCompare(b.path)));
  const bytes = files.reduce((n, f) => n + f.bytes.length, 0);
  const gzipBytes = files.reduce((n, f) => n + f.gzipBytes, 0);
  // Inputs are keyed relative to the working directory; other namespaces carry a `name:` prefix.
  const inputs = Object.keys(result.metafile.inputs).filter((k) => !/^[a-z-]+:/.test(k)).map((k) => resolve(k));
  return { files, bytes, gzipBytes, inputs };
}

/** The plugin behind `redirect`, `emptyNodeBuiltins`, `virtual` and `link`. */
function resolver(req: BundleRequest): import('esbuild').Plugin {
  const redirects = redirector(req);
  return {
    name: 'wasmbox-resolve',
    setup(build) {
      redirects.setup(build);
      if (req.virtual) virtualModules(build, req.virtual);
      if (req.link) linker(build, req.link);
    },
  };
}

function virtualModules(build: import('esbuild').PluginBuild, modules: Record<string, string>): void {
  const names = Object.keys(modules).map((k) => k.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  build.onResolve({ filter: new RegExp(`^(?:${names.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'wasmbox-virtual' }));
  build.onLoad({ filter: /.*/, namespace: 'wasmbox-virtual' }, (args) => ({ contents: modules[args.path], loader: 'js', resolveDir: dirname(args.path) }));
}

/** `link`: every import is resolved here first (a second, plain resolve) and then handed to the callback. */
function linker(build: import('esbuild').PluginBuild, link: NonNullable<BundleRequest['link']>): void {
  const plain = Symbol('plain');
  build.onResolve({ filter: /.*/ }, async (args) => {
    if (args.pluginData === plain || args.kind === 'entry-point') return undefined;
    const found = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: plain });
    if (found.errors.length > 0 || found.external || found.namespace !== 'file') return undefined;
    const to = link(found.path, args.kind === 'dynamic-import');
    if (!to) return { path: found.path, sideEffects: found.sideEffects };
    if ('url' in to) return { path: to.url, external: true };
    return { path: found.path, namespace: 'wasmbox-link', pluginData: to.contents };
  });
  build.onLoad({ filter: /.*/, namespace: 'wasmbox-link' }, (args) => ({ contents: args.pluginData as string, loader: 'js', resolveDir: dirname(args.path) }));
}

/** The plugin behind `redirect` and `emptyNodeBuiltins`. */
function redirector(req: BundleRequest): import('esbuild').Plugin {
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
