// Builds OCI layouts, docker-save and oci-archive tarballs in code, so the tests need no binary fixtures.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { ImageConfig } from '../../src/image/config.js';
import type { Platform } from '../../src/image/platform.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

/** A descriptor as a test writes it. */
export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** A fresh temp dir in tmpfs when there is one (disk writes cost 5–7× here). */
export async function tempDir(): Promise<string> {
  return mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'wasmbox-image-'));
}

export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** One tar member for {@link packTar}. */
export interface TarMember {
  name: string;
  data?: Uint8Array | string;
  type?: 'file' | 'symlink' | 'link' | 'directory';
  linkname?: string;
}

/** A tar archive of the members, as bytes (with the end-of-archive blocks). */
export async function packTar(members: TarMember[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const m of members) {
    const header = { name: m.name, type: m.type ?? 'file', linkname: m.linkname, mtime: new Date(0) };
    if (m.data === undefined) pack.entry(header);
    else pack.entry(header, Buffer.from(m.data));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A layer tar holding `files` (path → text). */
export function layerTar(files: Record<string, string>): Promise<Buffer> {
  return packTar(Object.entries(files).map(([name, data]) => ({ name, data })));
}

/** A config for `diffIds`, with a label so configs of different images differ. */
export function configFor(diffIds: string[], label: string, platform: Platform = { os: 'linux', architecture: 'amd64' }): ImageConfig {
  return { ...platform, config: { Env: ['A=1'], Labels: { which: label } }, rootfs: { type: 'layers', diff_ids: diffIds } };
}

/** Writes an OCI layout under `dir`: content-addressed blobs, then `finish` writes index.json. */
export class LayoutWriter {
  constructor(readonly dir: string) {}

  async blob(bytes: Uint8Array | string, mediaType: string): Promise<Desc> {
    const digest = sha256(bytes);
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(this.dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: Buffer.byteLength(bytes) };
  }

  json(value: unknown, mediaType: string): Promise<Desc> {
    return this.blob(JSON.stringify(value), mediaType);
  }

  /** An image from layer tars (gzipped when asked); returns its manifest descriptor and config. */
  async image(tars: Buffer[], label: string, opts: { gzip?: boolean; platform?: Platform } = {}) {
    const config = configFor(tars.map((t) => sha256(t)), label, opts.platform);
    const configDesc = await this.json(config, OCI_CONFIG);
    const layers = await Promise.all(tars.map((t) => (opts.gzip ? this.blob(gzipSync(t), 'application/vnd.oci.image.layer.v1.tar+gzip') : this.blob(t, 'application/vnd.oci.image.layer.v1.tar'))));
    const manifest = await this.json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers }, OCI_MANIFEST);
    return { manifest: { ...manifest, ...(opts.platform && { platform: opts.platform }) }, config, layers };
  }

  index(manifests: Desc[]): Promise<Desc> {
    return this.json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, OCI_INDEX);
  }

  async finish(manifests: Desc[]): Promise<void> {
    await writeFile(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  }
}

/** `desc` tagged the way skopeo and umoci tag images in index.json. */
export function tagged(desc: Desc, tag: string): Desc {
  return { ...desc, annotations: { 'org.opencontainers.image.ref.name': tag } };
}

/** A tar of every file under `dir` (an oci-archive when `dir` is a layout). */
export async function tarDir(dir: string, prefix = ''): Promise<Buffer> {
  const members: TarMember[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    members.push({ name: prefix + relative(dir, full), data: await readFile(full) });
  }
  return packTar(members);
}
