// The guest's Worker of a web bundle, built so that a plain WASI run loads ONE file. esbuild's code
// splitting would cut the code the Worker's entry shares with its lazily loaded parts into chunks, each
// another request before the box can start; instead:
//   runtime/index.js      runtime/hosts/browser-worker.ts and everything it imports statically (the box,
//                         the filesystem, exec, the WASI engine), with no imports of its own;
//   runtime/<name>.js     each lazily loaded part (the shell, Pyodide's and ruby.wasm's glue, the WASIX
//                         engine), split among themselves as usual (runtime/chunk-*.js), importing what
//                         they share with index.js from index.js itself, so each module exists once.
// index.js re-exports those shared modules under prefixed names (`m3$Vfs`), and each lazy part sees a
// module in their place that re-exports them back (`export { m3$Vfs as Vfs } from "./index.js"`).
import { basename, dirname } from 'node:path';
import { bundle, type BundleFile, type BundleRequest } from './esbuild.js';

/** How the Worker's modules are bundled (platform, redirects...), without the entries. */
export type WorkerBuild = Omit<BundleRequest, 'entry' | 'entries' | 'virtual' | 'link' | 'splitting'>;

/** The Worker's files (paths relative to runtime/): index.js first, then the lazy parts and their chunks. */
export interface WorkerFiles {
  files: BundleFile[];
  /** The lazy parts' entry files by source path (e.g. runtime/core/shell/index.ts → shell.js). */
  lazy: Map<string, string>;
}

/** The specifier lazy parts import index.js by (left as `./index.js`: they sit beside it). */
const MAIN = 'wasmbox:worker-main';

/** Bundle the Worker whose entry is `entry` (runtime/hosts/browser-worker.ts). */
export async function bundleWorker(entry: string, build: WorkerBuild): Promise<WorkerFiles> {
  // 1. What index.js holds: the entry and its static imports; every dynamic import is a candidate part.
  const dynamic = new Set<string>();
  const probe = await bundle({ ...build, entry, link: (path, isDynamic) => (isDynamic ? (dynamic.add(path), { url: './probe.js' }) : undefined) });
  const main = new Set(probe.inputs);
  const lazy = new Map([...dynamic].filter((p) => !main.has(p)).map((p, i, all) => [p, partName(p, all)]));
  // 2. The names each module of index.js exports (one build with each module as an entry).
  const shared = [...main].filter((p) => p !== entry);
  const scan = await bundle({ ...build, entries: Object.fromEntries(shared.map((p, i) => [`m${i}`, p])), splitting: true });
  const exportsOf = new Map(shared.map((p, i) => [p, scan.files.find((f) => f.path === `m${i}.js`)?.exports ?? []]));
  // 3. The lazy parts, with index.js's modules replaced by re-exports from it (noting which are used).
  const used = new Set<string>();
  const alias = (path: string, name: string): string => `m${shared.indexOf(path)}$${name}`;
  const parts = await bundle({
    ...build,
    entries: Object.fromEntries([...lazy].map(([path, name]) => [name, path])),
    splitting: true,
    redirect: { ...build.redirect, [MAIN]: { url: './index.js' } },
    link: (path) => {
      if (!exportsOf.has(path)) return undefined;
      used.add(path);
      const names = exportsOf.get(path)!;
      return { contents: `export { ${names.map((n) => `${alias(path, n)} as ${n}`).join(', ')} } from ${JSON.stringify(MAIN)};` };
    },
  });
  // 4. index.js: the entry, plus the exports the lazy parts import; dynamic imports of lazy parts load their files.
  const wanted = importedNames(parts.files);
  const facade = `${dirname(entry)}/${basename(entry).replace(/\.[jt]s$/, '')}.main.js`;
  const reexports = [...used].map((p) => {
    const names = exportsOf.get(p)!.filter((n) => wanted.has(alias(p, n)));
    return `export { ${names.map((n) => `${n} as ${alias(p, n)}`).join(', ')} } from ${JSON.stringify(p)};`;
  });
  const index = await bundle({
    ...build,
    entry: facade,
    virtual: { [facade]: [`import ${JSON.stringify(entry)};`, ...reexports].join('\n') },
    link: (path, isDynamic) => (isDynamic && lazy.has(path) ? { url: `./${lazy.get(path)}.js` } : undefined),
  });
  if (index.files.length !== 1) throw new Error(`the Worker's entry became ${index.files.length} files; it must be one`);
  return { files: [index.files[0], ...parts.files], lazy: new Map([...lazy].map(([p, n]) => [p, `${n}.js`])) };
}

/** The prefixed names (`m3$Vfs`) the lazy parts' code mentions: all index.js has to export. */
function importedNames(files: BundleFile[]): Set<string> {
  const names = new Set<string>();
  for (const f of files) for (const m of new TextDecoder().decode(f.bytes).matchAll(/\bm\d+\$[\w$]+/g)) names.add(m[0]);
  return names;
}

/** A lazy part's file name: its module's name, or its folder's for an index (shell/index.ts → shell). */
function partName(path: string, all: string[]): string {
  const name = (p: string): string => {
    const file = basename(p).replace(/\.[cm]?[jt]s$/, '');
    return file === 'index' ? basename(dirname(p)) : file;
  };
  const base = name(path);
  // Two parts with one name (or a part named like the entry) get their position as a suffix.
  return base === 'index' || all.filter((p) => name(p) === base).length > 1 ? `${base}-${all.indexOf(path)}` : base;
}
