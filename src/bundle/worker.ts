// `wasmbox bundle --target worker`: the box as a Cloudflare Workers module. workerd refuses to compile
// Wasm at run time, so every Wasm module in the box is declared as a module of the worker (compiled
// when the worker loads) and handed to the engine by the sha256 of its box file. Writes:
//   worker.js          the Workers module (export default { fetch }), see worker-files.ts
//   runtime/           runtime/hosts/workerd.ts bundled, with its chunks
//   box/config.json    a Text module;  box/rootfs.wbfs  a Data module
//   wasm/<sha256>.wasm each distinct Wasm module of the box, with the exports the engine adds
//   ruby/ruby.wasm     the Ruby interpreter, when the box runs Ruby
//   workerd.capnp      `workerd serve DIST/workerd.capnp --socket-addr http=127.0.0.1:PORT`
//   wrangler.toml      `npx wrangler deploy` from DIST
// Refused at bundle time, with the reason: boxes over the Worker size limit, Python (Pyodide compiles its
// interpreter and fetches its stdlib at run time) and WASIX modules (@wasmer/sdk compiles at run time).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { ADAPTER_FILES } from '../../runtime/core/adapters/index.js';
import { prepareModule } from '../../runtime/core/wasm-module.js';
import { WasmboxError } from '../errors.js';
import { checkModule, humanSize, readBundleBox, writeDistFile, type BundleBox } from './box-contents.js';
import { bundleRuntime, EDGE_EXTERNAL, hostEntry } from './runtime-bundle.js';
import type { TargetReport } from './targets.js';
import { workerdConfig, workerName, workerSource, wranglerConfig, type ModuleType } from './worker-files.js';

/** Cloudflare's Worker size limit: every module of the worker together, uncompressed, on every plan.
 *  Cloudflare replaced the compressed limits (3 MB Free, 10 MB Paid) with this one on 2026-09-04. */
export const WORKER_SIZE_LIMIT = { bytes: 64 * 2 ** 20, source: 'https://developers.cloudflare.com/workers/platform/limits/#worker-size' };

/** Options of the worker writer beyond the shared ones (tests lower the limit). */
export interface WorkerOptions {
  log?: (message: string) => void;
  /** Refuse bundles larger than this many bytes (default WORKER_SIZE_LIMIT.bytes). */
  sizeLimit?: number;
}

/** Write the `worker` bundle of the box at `boxDir` into `dist`; nothing is written when it is refused. */
export async function writeWorker(boxDir: string, dist: string, opts: WorkerOptions = {}): Promise<TargetReport> {
  const box = await readBundleBox(boxDir);
  refuseInterpreters(box);
  const notes: string[] = [];
  const declared = await declaredModules(box, notes);
  const ruby = box.adapters.has('ruby') ? new Uint8Array(await readFile(createRequire(import.meta.url).resolve(ADAPTER_FILES.ruby))) : undefined;
  const runtime = await bundleRuntime('runtime', {
    entry: hostEntry('workerd'),
    platform: 'node',
    splitting: true,
    external: [...EDGE_EXTERNAL, ...(ruby ? [] : ['@ruby/wasm-wasi'])],
    // workerd leaves import.meta.url undefined, and each chunk of just-bash's Node build starts with
    // createRequire(import.meta.url); any file URL will do, nothing is required through it by path.
    define: { 'import.meta.url': '"file:///bundle/worker.js"' },
  });
  const contents: { path: string; type: ModuleType; bytes: Uint8Array | string }[] = [
    { path: 'worker.js', type: 'esModule', bytes: workerSource(declared, ruby ? 'ruby/ruby.wasm' : undefined) },
    ...runtime.contents.map((f) => ({ ...f, type: 'esModule' as const })),
    { path: 'box/config.json', type: 'text', bytes: box.config },
    { path: 'box/rootfs.wbfs', type: 'data', bytes: box.rootfs },
    ...declared.map((m) => ({ path: m.path, type: 'wasm' as const, bytes: m.bytes })),
    ...(ruby ? [{ path: 'ruby/ruby.wasm', type: 'wasm' as const, bytes: ruby }] : []),
  ];
  const total = contents.reduce((n, f) => n + f.bytes.length, 0);
  checkSize(total, opts.sizeLimit ?? WORKER_SIZE_LIMIT.bytes, box, declared, runtime.bytes + (ruby?.byteLength ?? 0));
  for (const file of contents) await writeDistFile(dist, file.path, file.bytes);
  await writeDistFile(dist, 'workerd.capnp', workerdConfig(contents));
  await writeDistFile(dist, 'wrangler.toml', wranglerConfig(workerName(boxDir)));
  if (ruby) notes.push(`Ruby: ruby.wasm (${humanSize(ruby.byteLength)}) is declared as a module of the worker; each request starts a Ruby VM (~0.7 s of CPU), beyond the Free plan's 10 ms CPU limit`);
  notes.push(`worker size ${humanSize(total)} of the ${humanSize(WORKER_SIZE_LIMIT.bytes)} limit (${WORKER_SIZE_LIMIT.source})`);
  for (const note of notes) opts.log?.(note);
  const boxBytes = contents.filter((f) => !f.path.endsWith('.js')).reduce((n, f) => n + f.bytes.length, 0);
  return { target: 'worker', files: contents.length + 2, runtimeGzipBytes: runtime.startGzipBytes, boxBytes, notes };
}

/** The box's Wasm modules as the worker declares them; ones Node cannot compile are left out, with a note
 *  (workerd would refuse the whole worker at load; running such a file fails alone, as it would anywhere). */
async function declaredModules(box: BundleBox, notes: string[]): Promise<{ sha256: string; path: string; bytes: Uint8Array }[]> {
  const declared: { sha256: string; path: string; bytes: Uint8Array }[] = [];
  for (const m of box.modules) {
    const bytes = prepareModule(m.bytes);
    const check = await checkModule(bytes);
    if (!check.ok) {
      notes.push(`${m.paths[0]} starts like WebAssembly but does not compile (${check.error}); it is not declared, and running it will fail`);
      continue;
    }
    if (check.kind === 'wasix') throw unsupported(`${m.paths[0]} is a WASIX module`, m.paths[0], 'WASIX programs run on @wasmer/sdk, which compiles Wasm at run time, and workerd forbids that; use the node target, or web served with COOP/COEP headers');
    declared.push({ sha256: m.sha256, path: `wasm/${m.sha256}.wasm`, bytes });
  }
  notes.push(`declared ${declared.length} Wasm module${declared.length === 1 ? '' : 's'} (${humanSize(declared.reduce((n, m) => n + m.bytes.byteLength, 0))})`);
  return declared;
}

function refuseInterpreters(box: BundleBox): void {
  const python = box.adapters.get('python');
  if (python) {
    throw unsupported(`the box runs Python (${python} is the built-in Python)`, python, 'Pyodide compiles its interpreter and fetches its standard library at run time, which workerd forbids; use the web or node target');
  }
}

function checkSize(total: number, limit: number, box: BundleBox, declared: { bytes: Uint8Array }[], codeBytes: number): void {
  if (total <= limit) return;
  const parts = [
    `rootfs.wbfs ${humanSize(box.rootfs.byteLength)}`,
    `${declared.length} Wasm module${declared.length === 1 ? '' : 's'} ${humanSize(declared.reduce((n, m) => n + m.bytes.byteLength, 0))}`,
    `runtime and interpreters ${humanSize(codeBytes)}`,
  ];
  throw new WasmboxError('BUNDLE_TOO_LARGE', `the worker would be ${humanSize(total)} (${total} bytes), over the Worker size limit of ${humanSize(limit)} (${limit} bytes): ${parts.join(', ')}`, {
    instruction: '--target worker',
    value: box.dir,
    hint: `make the box smaller (fewer or smaller files; the Wasm modules count twice, once in the filesystem and once declared), or use another target; limit: ${WORKER_SIZE_LIMIT.source}`,
  });
}

function unsupported(what: string, path: string, why: string): WasmboxError {
  return new WasmboxError('BUNDLE_UNSUPPORTED', `${what}; the worker target cannot run it`, { instruction: '--target worker', value: path, hint: why });
}

