// What a bundle needs to know about a box before it is written for a host: its checked files, the Wasm
// modules in it (hosts that refuse run-time compilation must declare them) and the built-in
// interpreters its files stand for (their files must travel with the bundle).
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { adapterOf } from '../../runtime/core/adapters/index.js';
import type { FsImage } from '../../runtime/core/fs-image.js';
import { moduleKind, type ModuleKind } from '../../runtime/core/wasm-module.js';
import { readBox } from '../box/pack.js';
import { BOX_FILES } from '../box/format.js';

/** One distinct Wasm module of a box (files with the same bytes share it). */
export interface BoxModule {
  sha256: string;
  /** Every path of the box holding these bytes, in walk order. */
  paths: string[];
  bytes: Uint8Array;
}

/** A box read for bundling. */
export interface BundleBox {
  dir: string;
  config: Uint8Array;
  rootfs: Uint8Array;
  image: FsImage;
  modules: BoxModule[];
  /** The built-in interpreters (python, ruby) that files of the box stand for, each with a path naming it. */
  adapters: Map<string, string>;
}

/** The bundle-time identity of a module: what it is, or why it cannot be compiled. */
export type ModuleCheck = { ok: true; kind: ModuleKind; module: WebAssembly.Module } | { ok: false; error: string };

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Read and digest-check the box at `dir`, and find its modules and interpreters. */
export async function readBundleBox(dir: string): Promise<BundleBox> {
  const { fs, bytes } = await readBox(dir);
  const modules = new Map<string, BoxModule>();
  const adapters = new Map<string, string>();
  for (const entry of fs.entries) {
    if (entry.type !== 'file') continue;
    const data = fs.read(entry);
    if (WASM_MAGIC.every((b, i) => data[i] === b)) {
      const known = modules.get(entry.sha256);
      if (known) known.paths.push(entry.path);
      else modules.set(entry.sha256, { sha256: entry.sha256, paths: [entry.path], bytes: data });
      continue;
    }
    const adapter = adapterOf(data);
    if (adapter !== undefined && !adapters.has(adapter)) adapters.set(adapter, entry.path);
  }
  return { dir, config: bytes.config, rootfs: bytes.rootfs, image: fs, modules: [...modules.values()], adapters };
}

/** Compile `bytes` here (Node) to learn whether a host could, and what kind of module it is. */
export async function checkModule(bytes: Uint8Array): Promise<ModuleCheck> {
  try {
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    return { ok: true, kind: moduleKind(module), module };
  } catch (err) {
    return { ok: false, error: (err as Error).message.replace(/^WebAssembly\.compile\(\): /, '') };
  }
}

/** Copy the box's three files into `dist/sub` (for hosts that read the box as it is). */
export async function copyBoxFiles(box: BundleBox, dist: string, sub: string): Promise<void> {
  await mkdir(join(dist, sub), { recursive: true });
  for (const name of Object.values(BOX_FILES)) await copyFile(join(box.dir, name), join(dist, sub, name));
}

/** Write `bytes` to `dist/path`, making its directory. */
export async function writeDistFile(dist: string, path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(join(dist, path)), { recursive: true });
  await writeFile(join(dist, path), bytes);
}

/** Sizes as people read them: 1.5 MB, 812 KB, 96 bytes (1 MB = 2^20 bytes, as the host limits are). */
export function humanSize(bytes: number): string {
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
