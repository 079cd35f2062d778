// The code of a web bundle, the same for every box (made once per process): the embeddable host module,
// the guest's Worker with its lazily loaded chunks, the stdin service worker and the page script.
//   wasmbox.js       runtime/hosts/browser.ts: runBox / openBox (what embedding pages import)
//   runtime/         runtime/hosts/browser-worker.ts and its chunks: the shell, each engine and each
//                    interpreter's glue load only when a box needs them
//   wasmbox-sw.js    runtime/hosts/browser-sw.ts
//   page.js          runtime/hosts/browser-page.ts with @xterm/xterm, importing ./wasmbox.js
// Pyodide and @wasmer/sdk are not bundled: they find their own files beside them, so they travel as
// files under vendor/ (web-vendor.ts) and the runtime imports them from there.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bundle, type BundleFile } from './esbuild.js';
import { hostEntry } from './runtime-bundle.js';

/** The runtime's files (paths relative to DIST) and what starting a box costs. */
export interface WebRuntime {
  files: BundleFile[];
  /** gzip -9 bytes a page loads to run a WASI module: wasmbox.js, the Worker entry, its static chunks, the WASI engine. */
  startGzipBytes: number;
  /** gzip -9 bytes of the page script (the terminal) and of the built-in shell's chunks, loaded by shell boxes. */
  pageGzipBytes: number;
  shellGzipBytes: number;
}

const require = createRequire(import.meta.url);
/** Where the worker imports the parts shipped as files, relative to runtime/. */
export const VENDOR_IMPORTS = { pyodide: '../vendor/pyodide/pyodide.mjs', wasmer: '../vendor/wasmer-sdk/dist/index.js' };

let made: Promise<WebRuntime> | undefined;

/** The web runtime, bundled on first use. */
export function webRuntime(): Promise<WebRuntime> {
  made ??= makeRuntime().catch((err: unknown) => {
    made = undefined;
    throw err;
  });
  return made;
}

async function makeRuntime(): Promise<WebRuntime> {
  const [host, worker, sw, page] = await Promise.all([
    bundle({ entry: hostEntry('browser'), platform: 'browser' }),
    bundle({
      entry: hostEntry('browser-worker'),
      platform: 'browser',
      splitting: true,
      emptyNodeBuiltins: true,
      // just-bash's optional compressors are never installed; its import() of them fails and it says so.
      external: ['@mongodb-js/zstd', 'node-liblzma'],
      redirect: {
        // Its browser build leaves out the parser and byte helpers the shell binding uses; the Node build
        // only touches node:* in code paths a box never takes (host filesystems, workers, network).
        'just-bash': join(dirname(require.resolve('just-bash')), 'index.js'),
        pyodide: { url: VENDOR_IMPORTS.pyodide },
        '@wasmer/sdk': { url: VENDOR_IMPORTS.wasmer },
        '@wasmer/sdk/browser': { url: VENDOR_IMPORTS.wasmer },
      },
    }),
    bundle({ entry: hostEntry('browser-sw'), platform: 'browser' }),
    bundle({ entry: hostEntry('browser-page'), platform: 'browser', redirect: { './browser.js': { url: './wasmbox.js' } } }),
  ]);
  const files: BundleFile[] = [
    { ...host.files[0], path: 'wasmbox.js' },
    ...worker.files.map((f) => ({ ...f, path: `runtime/${f.path}` })),
    { ...sw.files[0], path: 'wasmbox-sw.js' },
    { ...page.files[0], path: 'page.js' },
  ];
  const start = startFiles(worker.files).map((f) => f.gzipBytes);
  const shell = worker.files.filter((f) => /^shell-/.test(f.path)).flatMap((f) => closure(worker.files, f.path));
  return {
    files,
    startGzipBytes: host.files[0].gzipBytes + start.reduce((a, b) => a + b, 0),
    pageGzipBytes: page.gzipBytes,
    shellGzipBytes: [...new Set(shell)].reduce((n, f) => n + f.gzipBytes, 0),
  };
}

/** The Worker's files loaded before a WASI module runs: the entry, its static imports, the engine's chunks. */
function startFiles(files: BundleFile[]): BundleFile[] {
  const roots = ['index.js', ...files.filter((f) => /^(engine|wasm-module)-[A-Z0-9]+\.js$/.test(f.path)).map((f) => f.path)];
  return [...new Set(roots.flatMap((root) => closure(files, root)))];
}

/** A chunk and the chunks it imports statically (the entry's shared chunks load with it). */
function closure(files: BundleFile[], root: string): BundleFile[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path) || !byPath.has(path)) return;
    seen.add(path);
    const text = new TextDecoder().decode(byPath.get(path)!.bytes);
    for (const m of text.matchAll(/(?:from|import)\s*"\.\/([^"]+\.js)"/g)) visit(m[1]);
  };
  visit(root);
  return [...seen].map((p) => byPath.get(p)!);
}
