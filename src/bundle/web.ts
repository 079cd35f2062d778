// `wasmbox bundle --target web`: a static folder any web server can serve. It runs on plain static
// hosts (the default WASI engine needs no SharedArrayBuffer, so no COOP/COEP headers); served with them
// the page is cross-origin isolated and the WASIX engine can run too. Writes:
//   index.html, page.js, xterm.css  the page: terminal, progress bar, exit code, re-run, download, drop;
//                                   index.html starts the box itself (runtime/hosts/browser-boot.ts, inlined)
//                                   and carries the page's styles, the manifest and the box's config inline
//   wasmbox.js                      the embeddable module: import { runBox } from '<DIST>/wasmbox.js'
//   runtime/                        the guest's Worker and its lazily loaded chunks
//   wasmbox-sw.js                   the service worker that carries keyboard input on pages not isolated
//   box/                            the box's config.json, rootfs.wbfs and box.json, as they are
//   vendor/                         Pyodide, ruby.wasm, @wasmer/sdk: only those the box needs
//   wasmbox.json                    the manifest (WebManifest, runtime/hosts/browser-load.ts), for wasmbox.js
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INLINE_BOX_ID, WEB_BOX_PATHS, WEB_MANIFEST_FORMAT, type InlineBox, type WebManifest } from '../../runtime/hosts/browser-load.js';
import { BOX_FILES } from '../box/format.js';
import { humanSize, readBundleBox, writeDistFile, type BundleBox } from './box-contents.js';
import type { TargetOptions, TargetReport } from './targets.js';
import { webRuntime } from './web-runtime.js';
import { vendorParts, vendorSummary, writeVendor } from './web-vendor.js';

/** Write the `web` bundle of the box at `boxDir` into `dist`. */
export async function writeWeb(boxDir: string, dist: string, opts: TargetOptions = {}): Promise<TargetReport> {
  const [box, runtime] = await Promise.all([readBundleBox(boxDir), webRuntime()]);
  const { parts, reasons } = await vendorParts(box, opts.wasix ?? false);
  for (const file of runtime.files) await writeDistFile(dist, file.path, file.bytes);
  const title = boxTitle(box);
  const manifest: WebManifest = {
    format: WEB_MANIFEST_FORMAT,
    title,
    box: { ...WEB_BOX_PATHS, rootfsBytes: box.rootfs.byteLength },
    vendor: parts,
  };
  const page = fill(await readFile(template('index.html'), 'utf8'), {
    title: escapeHtml(title),
    boxId: INLINE_BOX_ID,
    box: inlineBoxJson(manifest, box.config),
    boot: runtime.bootScript,
    style: await pageStyle(),
  });
  await writeDistFile(dist, 'index.html', page);
  await writeDistFile(dist, 'xterm.css', await readFile(createRequire(import.meta.url).resolve('@xterm/xterm/css/xterm.css')));
  for (const name of Object.values(BOX_FILES)) await writeDistFile(dist, `box/${name}`, await readFile(join(boxDir, name)));
  await writeDistFile(dist, 'wasmbox.json', JSON.stringify(manifest, null, 2) + '\n');
  const written = await writeVendor(dist, parts);
  const notes = [
    `runtime: ${humanSize(runtime.startGzipBytes)} gzipped to start a box; page with terminal +${humanSize(runtime.pageGzipBytes)}; built-in shell ${humanSize(runtime.shellGzipBytes)}, loaded only by boxes that use it`,
    ...reasons.map((r) => `includes ${r}`),
    ...[vendorSummary(written)].filter((s): s is string => s !== undefined),
    'serve DIST with any static web server (wasmbox serve shows it locally); send COOP/COEP headers to enable the WASIX engine',
  ];
  for (const note of notes) opts.log?.(note);
  return {
    target: 'web',
    // the runtime, index.html, xterm.css, wasmbox.json, the box and the vendor parts
    files: runtime.files.length + 3 + Object.keys(BOX_FILES).length + written.files,
    runtimeGzipBytes: runtime.startGzipBytes,
    boxBytes: box.config.byteLength + box.rootfs.byteLength,
    notes,
  };
}

/** The page's name: the image's title label, else the box directory's name. */
function boxTitle(box: BundleBox): string {
  const config = JSON.parse(new TextDecoder().decode(box.config)) as { config?: { Labels?: Record<string, string> } };
  return config.config?.Labels?.['org.opencontainers.image.title'] || basename(box.dir.replace(/\/+$/, '')) || 'box';
}

/** templates/web/NAME of this wasmbox: the nearest one above this file (src/bundle/ in the source tree,
 *  dist/src/bundle/ in an installed package). */
function template(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const path = join(dir, 'templates', 'web', name);
    if (existsSync(path)) return path;
    if (dirname(dir) === dir) throw new Error(`templates/web/${name} is missing from this wasmbox installation; reinstall wasmbox`);
  }
}

/** The page's styles, for index.html's <style> (xterm's own come with the terminal, as xterm.css). */
async function pageStyle(): Promise<string> {
  const css = (await readFile(template('page.css'), 'utf8')).trim();
  if (/<\/style/i.test(css)) throw new Error(`${template('page.css')} must not contain </style: it is inlined into index.html`);
  return css;
}

/** index.html's InlineBox (read back by inlineBox, runtime/hosts/browser-load.ts) as JSON that is safe
 *  inside <script>: no `<` (so no `</script>` or `<!--`). The config goes as text when it is UTF-8 (it is
 *  JSON), else the page fetches it. */
function inlineBoxJson(manifest: WebManifest, config: Uint8Array): string {
  const inline: InlineBox = { manifest, config: utf8(config) };
  return JSON.stringify(inline).replace(/</g, '\\u003c');
}

/** `bytes` as text when they are UTF-8 (a BOM kept, so encoding gives the same bytes back). */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** `template` with each `{{name}}` replaced by `values[name]`, in one pass (a value may contain `{{`). */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    if (!(name in values)) throw new Error(`templates/web/index.html has an unknown placeholder ${whole}`);
    return values[name];
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
