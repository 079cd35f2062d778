// The optional parts of a web bundle, copied under DIST/vendor/ only when the box needs them: Pyodide
// when a file of the box stands for the built-in Python, ruby.wasm for the built-in Ruby, @wasmer/sdk
// when a module imports wasix_* (or when asked for, to force the WASIX engine). Each is located from
// the installed packages, so the bundle carries exactly the versions wasmbox runs in Node.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { ADAPTER_FILES } from '../../runtime/core/adapters/index.js';
import type { VendorParts } from '../../runtime/hosts/browser-channel.js';
import { checkModule, humanSize, writeDistFile, type BundleBox } from './box-contents.js';

const require = createRequire(import.meta.url);

/** Which optional parts the box needs, and why (one note per part). */
export async function vendorParts(box: BundleBox, forceWasix: boolean): Promise<{ parts: VendorParts; reasons: string[] }> {
  const reasons: string[] = [];
  const python = box.adapters.get('python');
  const ruby = box.adapters.get('ruby');
  if (python) reasons.push(`Pyodide, because ${python} is the built-in Python`);
  if (ruby) reasons.push(`ruby.wasm, because ${ruby} is the built-in Ruby`);
  let wasix = forceWasix ? 'asked for with --wasix' : undefined;
  for (const m of box.modules) {
    if (wasix) break;
    const check = await checkModule(m.bytes);
    if (check.ok && check.kind === 'wasix') wasix = `${m.paths[0]} imports wasix_*`;
  }
  if (wasix) reasons.push(`the WASIX engine (@wasmer/sdk), ${wasix}; it runs only where the page is cross-origin isolated`);
  return { parts: { pyodide: !!python, ruby: !!ruby, wasmer: !!wasix }, reasons };
}

/** What writeVendor wrote: bytes per part and the number of files. */
export interface WrittenVendor {
  bytes: Record<keyof VendorParts, number>;
  files: number;
}

/** Copy the parts into `dist/vendor/`. */
export async function writeVendor(dist: string, parts: VendorParts): Promise<WrittenVendor> {
  const written = { bytes: { pyodide: 0, ruby: 0, wasmer: 0 }, files: 0 };
  const copy = async (to: string, from: string, names: string[]): Promise<number> => {
    written.files += names.length;
    return copyFiles(dist, to, from, names);
  };
  if (parts.pyodide) {
    const dir = dirname(require.resolve('pyodide/package.json'));
    const names = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide-lock.json'];
    written.bytes.pyodide = await copy('vendor/pyodide', dir, names);
  }
  if (parts.ruby) {
    const wasm = require.resolve(ADAPTER_FILES.ruby);
    written.bytes.ruby = await copy('vendor/ruby', dirname(wasm), ['ruby+stdlib.wasm']);
  }
  if (parts.wasmer) {
    // The sdk finds its Wasm and its worker script beside its own modules (import.meta.url): keep its layout.
    const root = dirname(dirname(require.resolve('@wasmer/sdk/browser')));
    const names = (await walk(root)).filter((p) => /^(dist|pkg)\//.test(p) && /\.(js|mjs|wasm)$/.test(p));
    written.bytes.wasmer = await copy('vendor/wasmer-sdk', root, names);
  }
  return written;
}

/** A line for the size report: the parts and their sizes. */
export function vendorSummary(written: WrittenVendor): string | undefined {
  const parts = Object.entries(written.bytes).filter(([, n]) => n > 0).map(([name, n]) => `${name} ${humanSize(n)}`);
  return parts.length > 0 ? `vendor/: ${parts.join(', ')} (loaded only when the box runs them)` : undefined;
}

async function copyFiles(dist: string, to: string, from: string, names: string[]): Promise<number> {
  let total = 0;
  for (const name of names) {
    const bytes = await readFile(join(from, name));
    await writeDistFile(dist, `${to}/${name}`, bytes);
    total += bytes.byteLength;
  }
  return total;
}

async function walk(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
}
