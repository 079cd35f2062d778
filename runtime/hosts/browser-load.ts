// Loading a web bundle's box in the page: its manifest (wasmbox.json), config and filesystem image, the
// image read as a stream so a progress bar can move while it arrives. The bundle's index.html carries the
// manifest and the config inline (INLINE_BOX_ID), so its page fetches only the image.
import type { VendorParts } from './browser-channel.js';

/** The `format` of the wasmbox.json a web bundle carries. */
export const WEB_MANIFEST_FORMAT = 'wasmbox.web.v1';

/** Where a web bundle keeps its box (fixed, so the page fetches all three files at once). */
export const WEB_BOX_PATHS = { config: 'box/config.json', rootfs: 'box/rootfs.wbfs' } as const;

/** DIST/wasmbox.json: where the box is in the bundle, how big, and which optional parts came with it. */
export interface WebManifest {
  format: typeof WEB_MANIFEST_FORMAT;
  /** A name for the page (the image title label, else the box directory's name). */
  title: string;
  box: { config: typeof WEB_BOX_PATHS.config; rootfs: typeof WEB_BOX_PATHS.rootfs; rootfsBytes: number };
  vendor: VendorParts;
}

/** The id of index.html's `<script type="application/json">` holding an InlineBox (src/bundle/web.ts). */
export const INLINE_BOX_ID = 'wasmbox-box';

/** What index.html carries inline: the manifest, and the config's text (its exact bytes once encoded). */
export interface InlineBox {
  manifest: WebManifest;
  config?: string;
}

/** A box as the page loaded it. */
export interface LoadedBundle {
  manifest: WebManifest;
  config: Uint8Array;
  rootfs: Uint8Array;
}

/** Called as the filesystem image arrives: bytes so far and the total. */
export type ProgressListener = (loaded: number, total: number) => void;

/** Fetch the manifest, the config and the image (with progress, its size from the manifest) from the
 *  bundle at `base`; the manifest and config `inline` has are not fetched. */
export async function loadBundle(base: URL, onProgress?: ProgressListener, inline?: InlineBox): Promise<LoadedBundle> {
  const at = (path: string): URL => new URL(path, base);
  const [manifest, config, rootfs] = [
    inline ? Promise.resolve(inline.manifest) : fetchManifest(at('wasmbox.json')),
    inline?.config !== undefined ? Promise.resolve(new TextEncoder().encode(inline.config)) : fetchBytes(at(WEB_BOX_PATHS.config)),
    open(at(WEB_BOX_PATHS.rootfs)),
  ];
  // Settled together: a failure of one is reported even while another is still waited for.
  for (const p of [config, rootfs]) p.catch(() => undefined);
  const { box } = await manifest;
  return { manifest: await manifest, config: await config, rootfs: await readBody(await rootfs, box.rootfsBytes, onProgress) };
}

async function fetchManifest(url: URL): Promise<WebManifest> {
  const manifest = parseJson(new TextDecoder().decode(await fetchBytes(url)));
  if (!isManifest(manifest)) throw new Error(`${url} is not a ${WEB_MANIFEST_FORMAT} manifest; make the bundle again with \`wasmbox bundle BOX --target web -o DIST\``);
  return manifest;
}

/** The InlineBox in `doc` (index.html), or undefined when it has none or it is not ours (the page then
 *  fetches wasmbox.json and the config, which report what is wrong). */
export function inlineBox(doc: Document): InlineBox | undefined {
  const inline = parseJson(doc.getElementById(INLINE_BOX_ID)?.textContent ?? '') as { manifest?: unknown; config?: unknown } | undefined;
  if (!isManifest(inline?.manifest)) return undefined;
  return { manifest: inline.manifest, config: typeof inline.config === 'string' ? inline.config : undefined };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isManifest(value: unknown): value is WebManifest {
  const manifest = value as Partial<WebManifest> | null | undefined;
  return manifest?.format === WEB_MANIFEST_FORMAT && !!manifest.box && !!manifest.vendor;
}

/** A successful response for `url`, or an error that names it. */
async function open(url: URL): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`cannot load ${url}: ${(err as Error).message}`);
  }
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}; serve the whole bundle directory`);
  return response;
}

async function fetchBytes(url: URL): Promise<Uint8Array> {
  return new Uint8Array(await (await open(url)).arrayBuffer());
}

/** A response body of `expected` bytes, read into one buffer and reported as it comes. */
async function readBody(response: Response, expected: number, onProgress?: ProgressListener): Promise<Uint8Array> {
  const url = response.url;
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  let buffer: Uint8Array = new Uint8Array(expected);
  let loaded = 0;
  onProgress?.(0, expected);
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    if (loaded + r.value.byteLength > buffer.byteLength) buffer = grow(buffer, loaded + r.value.byteLength);
    buffer.set(r.value, loaded);
    loaded += r.value.byteLength;
    onProgress?.(loaded, Math.max(expected, loaded));
  }
  if (loaded !== expected) throw new Error(`${url} has ${loaded} bytes where the bundle's manifest says ${expected}; upload the bundle again`);
  return buffer;
}

function grow(buffer: Uint8Array, size: number): Uint8Array {
  const next = new Uint8Array(Math.max(size, buffer.byteLength * 2));
  next.set(buffer);
  return next;
}
