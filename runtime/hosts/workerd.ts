// The Cloudflare Workers host (workerd): a Workers ES module whose fetch runs the box CGI-style
// (cgi.ts). workerd refuses to compile Wasm at run time, so every Wasm module of the box is declared in
// the bundle (src/bundle/worker.ts) and arrives here compiled; they seed the engine's module cache by
// the sha256 of the box file they came from. A module file the guest itself rewrote has no such key and
// fails to start (126: workerd refuses to compile it); memory caps, which mean compiling again, are not
// applied. The guest runs in the request's own thread: workerd has no Worker threads. Runtime code:
// web-standard APIs only.
import { loadBox } from '../core/box.js';
import { configureAdapters } from '../core/adapters/index.js';
import { provideModule } from '../core/wasm-module.js';
import { cgiHandler, type CgiConnection } from './cgi.js';

/** What the generated worker.js hands over: the box and the modules workerd compiled for it. */
export interface WorkerBox {
  /** config.json as text (a Text module). */
  config: string;
  /** rootfs.wbfs (a Data module). */
  rootfs: ArrayBuffer;
  /** The box's Wasm modules, by the sha256 of their file in the box (CompiledWasm modules). */
  modules: Record<string, WebAssembly.Module>;
  /** ruby.wasm (with its stdlib), when the box runs Ruby. */
  ruby?: WebAssembly.Module;
}

/** The default export of a Workers ES module. */
export interface WorkerModule {
  fetch(request: Request): Promise<Response>;
}

/** A Workers module serving `box`: each request runs its command once, CGI-style. */
export function createWorker(box: WorkerBox): WorkerModule {
  const loaded = loadBox({ config: box.config, rootfs: new Uint8Array(box.rootfs) });
  const bySha = new Map(loaded.fs.entries.filter((e) => e.sha256 !== '').map((e) => [e.sha256, e]));
  for (const [sha, module] of Object.entries(box.modules)) {
    const entry = bySha.get(sha);
    if (!entry) throw new Error(`the bundle declares wasm/${sha}.wasm, which no file of the box has; bundle the box again`);
    provideModule(sha, module, loaded.fs.read(entry));
  }
  if (box.ruby) configureAdapters({ rubyModule: box.ruby });
  const handler = cgiHandler({ box: loaded, software: 'wasmbox (workerd)' });
  return {
    fetch(request) {
      // Cloudflare's edge sets CF-Connecting-IP to the client address; a local workerd has none.
      const connection: CgiConnection = { remoteAddr: request.headers.get('cf-connecting-ip') ?? undefined };
      return handler(request, connection);
    },
  };
}
