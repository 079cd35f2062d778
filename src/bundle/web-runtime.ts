// The code of a web bundle, the same for every box (made once per process): the embeddable host module,
// the guest's Worker with its lazily loaded chunks, the stdin service worker and the page script.
//   wasmbox.js       runtime/hosts/browser.ts: runBox / openBox (what embedding pages import)
//   runtime/         runtime/hosts/browser-worker.ts: index.js with all a WASI run needs, and the lazily
//                    loaded parts (the shell, the WASIX engine, each interpreter's glue), web-worker.ts
//   wasmbox-sw.js    runtime/hosts/browser-sw.ts
//   page.js          runtime/hosts/browser-page.ts, importing ./wasmbox.js
//   terminal.js      runtime/hosts/browser-xterm.ts with @xterm/xterm, which page.js loads once the box started
// and, as text for index.html's first <script>, runtime/hosts/browser-boot.ts (bootScript).
// Pyodide and @wasmer/sdk are not bundled: they find their own files beside them, so they travel as
// files under vendor/ (web-vendor.ts) and the runtime imports them from there.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bundle, type BundleFile } from './esbuild.js';
import { hostEntry } from './runtime-bundle.js';
import { bundleWorker } from './web-worker.js';

/** The runtime's files (paths relative to DIST) and what starting a box costs. */
export interface WebRuntime {
  files: BundleFile[];
  /** The page's boot script, a classic script for inlining into index.html (no `</script>` inside). */
  bootScript: string;
  /** gzip -9 bytes a page loads to run a WASI module: wasmbox.js and the Worker's index.js. */
  startGzipBytes: number;
  /** gzip -9 bytes of the page's scripts (page.js and the terminal) and of the built-in shell's chunks, loaded by shell boxes. */
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
  const [host, worker, sw, page, terminal, boot] = await Promise.all([
    bundle({ entry: hostEntry('browser'), platform: 'browser' }),
    bundleWorker(hostEntry('browser-worker'), {
      platform: 'browser',
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
    bundle({
      entry: hostEntry('browser-page'),
      platform: 'browser',
      redirect: { './browser.js': { url: './wasmbox.js' }, './browser-xterm.js': { url: './terminal.js' } },
    }),
    bundle({ entry: hostEntry('browser-xterm'), platform: 'browser' }),
    bundle({ entry: hostEntry('browser-boot'), platform: 'browser' }),
  ]);
  const files: BundleFile[] = [
    { ...host.files[0], path: 'wasmbox.js' },
    ...worker.files.map((f) => ({ ...f, path: `runtime/${f.path}` })),
    { ...sw.files[0], path: 'wasmbox-sw.js' },
    { ...page.files[0], path: 'page.js' },
    { ...terminal.files[0], path: 'terminal.js' },
  ];
  const shell = [...worker.lazy].filter(([source]) => /[\\/]shell[\\/]index\.[jt]s$/.test(source)).flatMap(([, file]) => closure(worker.files, file));
  const bootText = new TextDecoder().decode(boot.files[0].bytes).trim();
  if (/^\s*(?:import|export)\b|\bexport\s*\{/m.test(bootText)) throw new Error('the page\'s boot script must not import or export: it is inlined as a classic script');
  return {
    files,
    // A function of its own, so its names stay out of the page's globals.
    bootScript: `(() => {${bootText.replace(/<\/(script)/gi, '<\\/$1')}})();`,
    startGzipBytes: host.files[0].gzipBytes + closure(worker.files, 'index.js').reduce((n, f) => n + f.gzipBytes, 0),
    pageGzipBytes: page.gzipBytes + terminal.gzipBytes,
    shellGzipBytes: shell.filter((f) => f.path !== 'index.js').reduce((n, f) => n + f.gzipBytes, 0),
  };
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
