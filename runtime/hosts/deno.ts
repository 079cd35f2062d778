// The Deno host: the default export of DIST/server.js for `deno serve`, running the box CGI-style
// (cgi.ts). `deno serve` grants no read permission, so the box comes in through the module graph,
// which needs none: config.json as a JSON module and rootfs.wbfs as a module holding its base64 text
// (src/bundle/deno.ts writes both). Deno compiles Wasm at run time, so nothing else is declared.
// Runtime code: web-standard APIs only.
import { loadBox, type BoxConfig } from '../core/box.js';
import { configureAdapters } from '../core/adapters/index.js';
import { cgiHandler } from './cgi.js';

/** What the generated server.js hands over. */
export interface DenoBox {
  /** config.json (a JSON module) or its text. */
  config: BoxConfig | string;
  /** rootfs.wbfs as base64 text, or its bytes. */
  rootfs: string | Uint8Array;
  /** ruby.wasm (with its stdlib), when the box runs Ruby (a Wasm source-phase import). */
  ruby?: WebAssembly.Module;
}

/** What `deno serve` passes with each request (the part we read). */
export interface DenoServeInfo {
  remoteAddr?: { hostname?: string };
}

/** The default export `deno serve` expects. */
export interface DenoServer {
  fetch(request: Request, info?: DenoServeInfo): Promise<Response>;
}

/** A `deno serve` module serving `box`: each request runs its command once, CGI-style. */
export function createServer(box: DenoBox): DenoServer {
  const rootfs = typeof box.rootfs === 'string' ? fromBase64(box.rootfs) : box.rootfs;
  const config = typeof box.config === 'string' ? box.config : JSON.stringify(box.config);
  const loaded = loadBox({ config, rootfs });
  if (box.ruby) configureAdapters({ rubyModule: box.ruby });
  const handler = cgiHandler({ box: loaded, software: 'wasmbox (deno)' });
  return { fetch: (request, info) => handler(request, { remoteAddr: info?.remoteAddr?.hostname }) };
}

/** Decode base64 (Uint8Array.fromBase64 where the engine has it: one pass, no string per byte). */
export function fromBase64(text: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (native) return native(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
