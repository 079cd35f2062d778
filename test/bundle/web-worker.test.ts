/**
 * The web bundle's Worker build (src/bundle/web-worker.ts): a plain WASI run loads one file, and the lazily
 * loaded parts share its modules by importing them from it, each name they import being one it exports.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hostEntry } from '../../src/bundle/runtime-bundle.js';
import { type WorkerFiles, bundleWorker } from '../../src/bundle/web-worker.js';
import { webRuntime } from '../../src/bundle/web-runtime.js';

/** The `./x.js` files a module imports (statically or dynamically), and the names it takes from index.js. */
function importsOf(text: string): { files: string[]; fromIndex: string[] } {
  const files = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']\.\/([^"']+\.js)["']/g)].map((m) => m[1]);
  const fromIndex = [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*["']\.\/index\.js["']/g)]
    .flatMap((m) => m[1].split(',').map((part) => part.trim().split(/\s+as\s+/)[0]))
    .filter((name) => name !== '');
  return { files, fromIndex };
}

describe('the web bundle\'s Worker', () => {
  let built: Pick<WorkerFiles, 'files'>;
  let startGzipBytes: number;
  const text = (path: string): string => new TextDecoder().decode(built.files.find((f) => f.path === path)!.bytes);

  beforeAll(async () => {
    const runtime = await webRuntime();
    startGzipBytes = runtime.startGzipBytes;
    built = { files: runtime.files.filter((f) => f.path.startsWith('runtime/')).map((f) => ({ ...f, path: f.path.slice('runtime/'.length) })) };
  }, 120_000);

  it('is one file for a WASI run, with the shell, the interpreters and the WASIX engine as lazy parts', () => {
    expect(built.files[0].path).toBe('index.js');
    const index = importsOf(text('index.js'));
    // Its only imports are the lazy parts, loaded with import() when a box needs them.
    expect([...new Set(index.files)].sort()).toEqual(['pyodide.js', 'ruby.js', 'shell.js', 'wasmer.js']);
    expect(text('index.js')).not.toMatch(/(?:\bfrom|\bimport)\s*["']\.\/[^"']+["']/);
    expect(startGzipBytes).toBeLessThan(100 * 1024);
  });

  it('gives the lazy parts each name they import from index.js', () => {
    const exported = new Set(built.files[0].exports);
    const imported = built.files.slice(1).flatMap((f) => importsOf(text(f.path)).fromIndex);
    expect(imported.length).toBeGreaterThan(10);
    expect(imported.filter((name) => !exported.has(name))).toEqual([]);
    // Each shared module exists once: the lazy parts do not carry their own copy of the filesystem.
    const withVfs = built.files.filter((f) => text(f.path).includes('"VfsError"'));
    expect(withVfs.map((f) => f.path)).toEqual(['index.js']);
  });

  it('names each lazy part after its module', async () => {
    const parts = await bundleWorker(hostEntry('browser-worker'), { platform: 'browser', emptyNodeBuiltins: true, external: ['@mongodb-js/zstd', 'node-liblzma', 'pyodide', '@wasmer/sdk', '@wasmer/sdk/browser', 'just-bash'] });
    const names = [...parts.lazy].map(([source, file]) => [source.replace(/^.*\/runtime\/core\//, ''), file]);
    expect(names.sort()).toEqual([['adapters/pyodide.ts', 'pyodide.js'], ['adapters/ruby.ts', 'ruby.js'], ['engines/wasmer.ts', 'wasmer.js'], ['shell/index.ts', 'shell.js']]);
  }, 120_000);
});
