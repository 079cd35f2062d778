import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BoxFormatError, type FsImage } from '../../runtime/core/fs-image.js';
import { loadBox } from '../../runtime/core/box.js';
import { WasmboxError, fail } from '../errors.js';
import type { Tree } from '../fs/tree.js';
import type { ImageConfig } from '../image/config.js';
import { BOX_FILES, BOX_FORMAT, type BoxManifest, type Descriptor } from './format.js';
import { planImage, sha256, writeImage } from './wbfs-writer.js';

/**
 * Write a box to outDir atomically: everything goes to a temporary sibling directory which is renamed
 * over outDir only when complete. An existing box (or empty directory) there is replaced; on any
 * failure nothing is left behind and an existing outDir is untouched.
 */
export async function writeBox(outDir: string, tree: Tree, config: ImageConfig): Promise<BoxManifest> {
  const target = resolve(outDir);
  await ioStep(outDir, () => mkdir(dirname(target), { recursive: true }));
  await checkReplaceable(target, outDir);
  const tmp = await ioStep(outDir, () => mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`)));
  try {
    const manifest = await ioStep(outDir, () => writeParts(tmp, tree, config));
    await ioStep(outDir, () => swapIn(tmp, target));
    return manifest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function writeParts(dir: string, tree: Tree, config: ImageConfig): Promise<BoxManifest> {
  const plan = planImage(tree);
  const rootfs = await writeImage(join(dir, BOX_FILES.rootfs), plan);
  const configBytes = new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n');
  await writeFile(join(dir, BOX_FILES.config), configBytes, { flag: 'wx' });
  const manifest: BoxManifest = {
    format: BOX_FORMAT,
    config: { digest: `sha256:${sha256(configBytes)}`, size: configBytes.byteLength },
    rootfs: { ...rootfs, entries: plan.entries, fileBytes: plan.fileBytes },
  };
  await writeFile(join(dir, BOX_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n', { flag: 'wx' });
  // mkdtemp makes the directory private (0700); a box is meant to be shared like any build output.
  await chmod(dir, 0o755);
  return manifest;
}

// rename() cannot replace a non-empty directory, so an old box is first moved aside, then removed.
async function swapIn(tmp: string, target: string): Promise<void> {
  if (!(await exists(target))) return rename(tmp, target);
  const aside = await mkdtemp(join(dirname(target), `.${basename(target)}.old-`));
  await rmdir(aside);
  await rename(target, aside);
  try {
    await rename(tmp, target);
  } catch (err) {
    await rename(aside, target);
    throw err;
  }
  await rm(aside, { recursive: true, force: true });
}

// Replacing is only safe for what we would have written: a mistyped -o must never wipe a real directory.
async function checkReplaceable(target: string, outDir: string): Promise<void> {
  const info = await stat(target).catch(() => undefined);
  if (info === undefined) return;
  const names = info.isDirectory() ? await readdir(target) : undefined;
  if (names && (names.length === 0 || names.includes(BOX_FILES.manifest))) return;
  fail('BOX_OUTDIR_NOT_BOX', `${outDir} exists and is not a box, so it will not be replaced`, {
    value: outDir,
    hint: 'choose a new or empty output directory, or remove this one yourself',
  });
}

/**
 * Read and check a box: the digests and sizes in box.json must match the files (else BOX_CORRUPT).
 * `bytes` are the checked files themselves, for hosts that pass them on (e.g. to a worker).
 */
export async function readBox(outDir: string): Promise<{ config: ImageConfig; fs: FsImage; manifest: BoxManifest; bytes: { config: Uint8Array; rootfs: Uint8Array } }> {
  const { manifest, bytes } = await readBoxBytes(outDir);
  const { config: configBytes, rootfs: rootfsBytes } = bytes;
  try {
    const { config, fs } = loadBox({ config: configBytes, rootfs: rootfsBytes });
    if (fs.entries.length !== manifest.rootfs.entries) throw new BoxFormatError(`box.json says ${manifest.rootfs.entries} entries, rootfs.wbfs has ${fs.entries.length}`);
    return { config: config as unknown as ImageConfig, fs, manifest, bytes: { config: configBytes, rootfs: rootfsBytes } };
  } catch (err) {
    if (err instanceof BoxFormatError) corrupt(outDir, err.message, err);
    throw err;
  }
}

/**
 * A box's files, their digests and sizes checked against box.json (else BOX_CORRUPT), not parsed: for a
 * host that parses them itself (`wasmbox run`'s worker), so the index is not parsed twice.
 */
export async function readBoxBytes(outDir: string): Promise<{ manifest: BoxManifest; bytes: { config: Uint8Array; rootfs: Uint8Array } }> {
  const manifest = await readManifest(outDir);
  const config = await readPart(outDir, BOX_FILES.config, manifest.config);
  const rootfs = await readPart(outDir, BOX_FILES.rootfs, manifest.rootfs);
  return { manifest, bytes: { config, rootfs } };
}

async function readManifest(outDir: string): Promise<BoxManifest> {
  const hint = `build one with \`wasmbox build -o ${outDir}\`, or name the directory that holds ${BOX_FILES.manifest}`;
  const text = await readFile(join(outDir, BOX_FILES.manifest), 'utf8').catch((cause: unknown) =>
    fail('BOX_NOT_FOUND', `no box at ${outDir} (cannot read ${BOX_FILES.manifest})`, { value: outDir, hint, cause }),
  );
  let manifest: Partial<BoxManifest> | undefined;
  try {
    manifest = JSON.parse(text) as Partial<BoxManifest>;
  } catch {
    // handled below, like any other manifest that is not ours
  }
  if (manifest?.format !== BOX_FORMAT || !isDescriptor(manifest.config) || !isDescriptor(manifest.rootfs)) {
    fail('BOX_NOT_FOUND', `${join(outDir, BOX_FILES.manifest)} is not a ${BOX_FORMAT} manifest`, { value: outDir, hint });
  }
  return manifest as BoxManifest;
}

async function readPart(outDir: string, name: string, want: Descriptor): Promise<Uint8Array> {
  const buf = await readFile(join(outDir, name)).catch((cause: unknown) => corrupt(outDir, `cannot read ${name}`, cause));
  const got = `sha256:${sha256(buf)}`;
  if (buf.byteLength !== want.size || got !== want.digest) {
    corrupt(outDir, `${name} does not match box.json (size ${buf.byteLength}, digest ${got}; expected size ${want.size}, digest ${want.digest})`);
  }
  // A plain Uint8Array view, so what readers get is the same type in Node as in browsers.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function corrupt(outDir: string, message: string, cause?: unknown): never {
  fail('BOX_CORRUPT', `box at ${outDir} is damaged: ${message}`, { value: outDir, hint: 'rebuild the box', cause });
}

async function ioStep<T>(outDir: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof WasmboxError || typeof (err as { code?: unknown }).code !== 'string') throw err;
    fail('BOX_WRITE_FAILED', `cannot write the box to ${outDir}: ${(err as Error).message}`, {
      value: outDir,
      hint: 'check that the output directory and its parent are writable and the disk has space',
      cause: err,
    });
  }
}

function isDescriptor(d: unknown): d is Descriptor {
  const { digest, size } = (d ?? {}) as Partial<Descriptor>;
  return typeof digest === 'string' && digest.startsWith('sha256:') && Number.isSafeInteger(size);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
