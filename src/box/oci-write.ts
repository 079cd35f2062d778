import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import { WasmboxError, fail } from '../errors.js';
import { REF_NAME, indexOf, type BoxImage, type OciBlob } from './oci-image.js';

const LAYOUT_FILE = JSON.stringify({ imageLayoutVersion: '1.0.0' });

/** A file of an OCI layout: its path inside the layout and its bytes (or, for blobs, the blob). */
type LayoutPart = { name: string; bytes: Uint8Array } | { name: string; blob: OciBlob };

/**
 * Writes a box image into an OCI image layout directory, tagged `tag`. A new (or empty) directory is
 * written beside it and renamed into place; an existing layout gains the image like `skopeo copy … oci:DIR:TAG`
 * does it: missing blobs first, then index.json replaced in one rename (an entry with the same tag is
 * dropped). On failure nothing new is left behind.
 */
export async function writeOciLayout(dir: string, image: BoxImage, tag: string): Promise<void> {
  const target = resolve(dir);
  const kind = await layoutKind(target, dir);
  await ioStep(dir, async () => {
    if (kind === 'layout') return mergeLayout(target, image, tag);
    await mkdir(dirname(target), { recursive: true });
    const tmp = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`));
    try {
      for (const part of layoutParts(image, tag, [])) await writePart(tmp, part);
      // mkdtemp makes the directory private (0700); a layout is meant to be shared like any build output.
      await chmod(tmp, 0o755);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  });
}

/**
 * Writes a box image as an OCI archive (a tar of the layout, the form `skopeo … oci-archive:FILE` reads),
 * through a temporary sibling renamed over `file` when complete. Entries are in a fixed order with fixed
 * metadata, so the same image gives the same archive bytes.
 */
export async function writeOciArchive(file: string, image: BoxImage, tag: string): Promise<void> {
  const target = resolve(file);
  if ((await stat(target).catch(() => undefined))?.isDirectory()) {
    fail('OCI_OUTPUT_EXISTS', `${file} is a directory, so an OCI archive cannot be written there`, { value: file, hint: 'name a file, or write an OCI layout into the directory with tar=false' });
  }
  await ioStep(file, async () => {
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);
    try {
      const pack = tarPack();
      const writing = pipeline(Readable.from(pack), createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
      const feeding = feedArchive(pack, layoutParts(image, tag, [])).catch((err: unknown) => pack.destroy(err as Error));
      writing.catch((err: unknown) => pack.destroy(err as Error));
      await Promise.all([writing, feeding]);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  });
}

/** The files of a layout holding `image` as `tag` beside `others` (entries of an existing index.json). */
function layoutParts(image: BoxImage, tag: string, others: object[]): LayoutPart[] {
  const index = indexOf(image.manifest, tag) as { manifests: object[] };
  index.manifests = [...others, ...index.manifests];
  const blobs = [image.config, ...image.layers, image.manifest];
  // index.json comes last: when adding to a layout, it must only name blobs already in place.
  return [
    { name: 'oci-layout', bytes: new TextEncoder().encode(LAYOUT_FILE) },
    ...blobs.map((blob) => ({ name: `blobs/${blob.digest.replace(':', '/')}`, blob })),
    { name: 'index.json', bytes: new TextEncoder().encode(JSON.stringify(index)) },
  ];
}

/** What is at a layout's destination: nothing (or an empty directory) to write afresh, or a layout to add to. */
async function layoutKind(target: string, dir: string): Promise<'new' | 'layout'> {
  const info = await stat(target).catch(() => undefined);
  if (info === undefined) return 'new';
  const names = info.isDirectory() ? await readdir(target) : undefined;
  if (names?.length === 0) return 'new';
  if (names?.includes('oci-layout')) return 'layout';
  return fail('OCI_OUTPUT_EXISTS', `${dir} exists and is not an OCI image layout, so the image will not be written there`, {
    value: dir,
    hint: 'choose a new or empty directory, or an existing OCI layout to add the image to',
  });
}

/** Adds the image to an existing layout; index.json is replaced last, so readers see the old or the new one. */
async function mergeLayout(target: string, image: BoxImage, tag: string): Promise<void> {
  const others = (await readIndex(target)).filter((d) => (d as { annotations?: Record<string, string> }).annotations?.[REF_NAME] !== tag);
  const parts = layoutParts(image, tag, others).filter((part) => part.name !== 'oci-layout');
  // Paths this call created, removed again if a later step fails (index.json comes last, so it is never among them).
  const added: string[] = [];
  try {
    for (const part of parts) {
      const path = join(target, part.name);
      if ('blob' in part && (await stat(path).catch(() => undefined))?.size === part.blob.size) continue;
      const tmp = `${part.name}.tmp-${process.pid}`;
      added.push(join(target, tmp));
      await writePart(target, { ...part, name: tmp });
      await rename(join(target, tmp), path);
      added.push(path);
    }
  } catch (err) {
    await Promise.all(added.map((path) => rm(path, { force: true })));
    throw err;
  }
}

async function readIndex(target: string): Promise<object[]> {
  const text = await readFile(join(target, 'index.json'), 'utf8').catch(() => '{"manifests":[]}');
  try {
    const manifests = (JSON.parse(text) as { manifests?: unknown }).manifests;
    if (Array.isArray(manifests)) return manifests as object[];
  } catch {
    // reported below, like any index.json that is not one
  }
  return fail('IMAGE_INVALID', `${join(target, 'index.json')} is not an OCI image index`, { value: target, hint: 'repair or remove the layout, or write to a new directory' });
}

async function writePart(root: string, part: LayoutPart): Promise<void> {
  const path = join(root, part.name);
  await mkdir(dirname(path), { recursive: true });
  if ('bytes' in part) return writeFile(path, part.bytes, { flag: 'wx' });
  await pipeline(Readable.from(part.blob.open()), createWriteStream(path, { flags: 'wx' }));
}

/** The layout as tar entries: directories, then files in layout order, all root-owned with mtime 0. */
async function feedArchive(pack: Pack, parts: LayoutPart[]): Promise<void> {
  const fixed = { uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0) };
  for (const name of ['blobs/', 'blobs/sha256/']) await entryDone(pack, { ...fixed, name, type: 'directory', mode: 0o755 });
  for (const part of parts) {
    const size = 'bytes' in part ? part.bytes.byteLength : part.blob.size;
    const header = { ...fixed, name: part.name, type: 'file' as const, mode: 0o644, size };
    await entryDone(pack, header, 'bytes' in part ? [part.bytes] : part.blob.open());
  }
  pack.finalize();
}

/** Adds one entry, streaming its body with backpressure; resolves once tar-stream has taken all of it. */
function entryDone(pack: Pack, header: Parameters<Pack['entry']>[0], body: AsyncIterable<Uint8Array> | Uint8Array[] = []): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const entry = pack.entry(header, (err) => (err ? reject(err) : resolvePromise()));
    // A failure reaches us through the callback above (and destroys the pack); unheard, it would crash the process.
    entry.on('error', () => {});
    const pump = async (): Promise<void> => {
      for await (const chunk of body) {
        if (entry.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) continue;
        await drained(entry);
        if (entry.destroyed) throw new Error('the archive was closed while an entry was being written');
      }
      // streamx (under tar-stream) types `end`'s data as required; undefined means "no last chunk".
      entry.end(undefined);
    };
    pump().catch((err: unknown) => {
      entry.destroy(err as Error);
      reject(err);
    });
  });
}

/** Resolves when a stream wants more data, or is closed (then the caller sees `destroyed`). */
function drained(stream: ReturnType<Pack['entry']>): Promise<void> {
  return new Promise((go) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      go();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

async function ioStep(dest: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    if (err instanceof WasmboxError || typeof (err as { code?: unknown }).code !== 'string') throw err;
    fail('OCI_WRITE_FAILED', `cannot write the OCI image to ${dest}: ${(err as Error).message}`, {
      value: dest,
      hint: 'check that the destination and its parent are writable and the disk has space',
      cause: err,
    });
  }
}
