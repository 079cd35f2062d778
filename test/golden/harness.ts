/**
 * Builds a golden case the way `wasmbox build` does (library `build()`, then the box written and read
 * back with `inspect --json`), on a normalised copy of the case folder, and renders the result as the
 * text `expected.json` holds. Shared by the golden runner and the fuzz test.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, cp, lutimes, mkdir, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { treeDiffId } from '../../src/box/canonical-tar.js';
import { inspectBox, type InspectEntry } from '../../src/box/inspect.js';
import { writeBox } from '../../src/box/pack.js';
import { build } from '../../src/build/execute.js';
import { imageLoader } from '../../src/build/images.js';
import { WasmboxError } from '../../src/errors.js';
import { contentBytes } from '../../src/fs/spill.js';
import type { Tree } from '../../src/fs/tree.js';
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../../src/image/config.js';
import { DEFAULT_PLATFORM, parsePlatform } from '../../src/image/platform.js';

/** `args.json` of a case: what `wasmbox build` flags it stands for, and archives to make first. */
export interface CaseArgs {
  buildArgs?: Record<string, string>;
  target?: string;
  platform?: string;
  /** `--build-context NAME=REF`. */
  buildContexts?: Record<string, string>;
  /** `-f`: the Dockerfile's path in the case folder (default `Dockerfile`). */
  dockerfile?: string;
  /** Archives made with GNU tar before the build: output name → folder in the case to pack. */
  archives?: Record<string, string>;
  /** Symbolic links made in the context: path → target (kept out of git, which may not keep them either). */
  symlinks?: Record<string, string>;
  /** Rewrite the Dockerfile with CRLF line ends and a byte order mark (git may not keep them). */
  crlfBom?: boolean;
  /**
   * Base images written as OCI layouts next to the context and passed as `--build-context NAME=...`:
   * NAME → the image config's `config` and `history`, and the case folder whose files are its one layer.
   */
  images?: Record<string, { config: ContainerConfig; history?: HistoryEntry[]; layer?: string }>;
}

/** Files in a case folder that are the test's, not the build context's. */
export const CASE_FILES = new Set(['expected.json', 'expected-error.txt', 'args.json']);
/** The mtime every context file gets, so copied files are told apart from created ones (SOURCE_DATE_EPOCH). */
export const CONTEXT_MTIME = 1_000_000_000;
/** The SOURCE_DATE_EPOCH golden builds run with: what the build creates gets this mtime. */
export const SOURCE_DATE_EPOCH = 1_700_000_000;

/** A copy of the case folder with fixed modes (0644 / 0755) and mtimes, plus the archives it asks for. */
export async function prepareContext(caseDir: string, into: string, args: CaseArgs): Promise<void> {
  await cp(caseDir, into, { recursive: true, filter: (src) => !CASE_FILES.has(src.slice(caseDir.length + 1)) });
  for (const [name, folder] of Object.entries(args.archives ?? {})) makeArchive(into, name, folder);
  for (const [path, target] of Object.entries(args.symlinks ?? {})) await symlink(target, join(into, path));
  for (const [name, image] of Object.entries(args.images ?? {})) {
    const layout = await writeLayout(join(into, '..', `image-${name}`), image, image.layer && join(into, image.layer));
    args.buildContexts = { ...args.buildContexts, [name]: `oci-layout://${layout}:latest` };
  }
  if (args.crlfBom) {
    const file = join(into, args.dockerfile ?? 'Dockerfile');
    await writeFile(file, `\uFEFF${(await readFile(file, 'utf8')).replace(/\n/g, '\r\n')}`);
  }
  await normalise(into);
}

const COMPRESSORS: Record<string, string[]> = { '.tar': [], '.tar.gz': ['--gzip'], '.tgz': ['--gzip'], '.tar.xz': ['--xz'], '.tar.bz2': ['--bzip2'], '.tar.zst': ['--zstd'] };

/** A one-image OCI layout (tag `latest`): the config given, and one uncompressed layer of `layerDir`'s files. */
async function writeLayout(dir: string, image: NonNullable<CaseArgs['images']>[string], layerDir?: string): Promise<string> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = async (bytes: Uint8Array, mediaType: string) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(dir, 'blobs', 'sha256', hex), bytes);
    return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
  };
  const tar = layerDir ? execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${CONTEXT_MTIME}`, '--mode=u=rwX,go=rX', '-C', layerDir, '-cf', '-', '.']) : undefined;
  const layers = tar ? [await blob(tar, 'application/vnd.oci.image.layer.v1.tar')] : [];
  const diffIds = layers.map((l) => l.digest);
  const config = { architecture: 'amd64', os: 'linux', config: image.config, rootfs: { type: 'layers', diff_ids: diffIds }, history: image.history };
  const configDesc = await blob(Buffer.from(JSON.stringify(config)), 'application/vnd.oci.image.config.v1+json');
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers };
  const manifestDesc = await blob(Buffer.from(JSON.stringify(manifest)), 'application/vnd.oci.image.manifest.v1+json');
  const index = { schemaVersion: 2, manifests: [{ ...manifestDesc, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return dir;
}

function makeArchive(dir: string, name: string, folder: string): void {
  const ext = Object.keys(COMPRESSORS).find((e) => name.endsWith(e));
  if (!ext) throw new Error(`archive ${name}: unknown extension`);
  // Deterministic archives: sorted names, root-owned, fixed mtime and modes.
  execFileSync('tar', [
    '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${CONTEXT_MTIME}`, '--mode=u=rwX,go=rX',
    ...COMPRESSORS[ext], '-C', join(dir, folder), '-cf', join(dir, name), '.',
  ]);
}

async function normalise(path: string): Promise<void> {
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) await normalise(p);
    if (entry.isSymbolicLink()) {
      await lutimes(p, CONTEXT_MTIME, CONTEXT_MTIME);
      continue;
    }
    await chmod(p, entry.isDirectory() ? 0o755 : 0o644);
    await utimes(p, CONTEXT_MTIME, CONTEXT_MTIME);
  }
  await utimes(path, CONTEXT_MTIME, CONTEXT_MTIME);
}

/** What a build produced: the config.json and inspect listing of the written box, or the error. */
export type Outcome = { ok: true; config: ImageConfig; files: InspectEntry[]; tree: Tree } | { ok: false; error: unknown };

/** Build a prepared context the way the CLI does and read the box back. */
export async function buildCase(contextDir: string, args: CaseArgs, outDir: string, epoch = SOURCE_DATE_EPOCH): Promise<Outcome> {
  try {
    const dockerfilePath = resolve(contextDir, args.dockerfile ?? 'Dockerfile');
    const platform = args.platform ? parsePlatform(args.platform) : DEFAULT_PLATFORM;
    const contexts = new Map(Object.entries(args.buildContexts ?? {}));
    const result = await build({
      contextDir, dockerfileText: await readFile(dockerfilePath, 'utf8'), dockerfileName: args.dockerfile ?? 'Dockerfile', dockerfilePath,
      buildArgs: new Map(Object.entries(args.buildArgs ?? {})), target: args.target, platform,
      images: imageLoader({ baseDir: contextDir, platform, contexts }), sourceDateEpoch: epoch,
    });
    result.config.rootfs.diff_ids = [await treeDiffId(result.tree)];
    await writeBox(outDir, result.tree, result.config);
    const config = JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8')) as ImageConfig;
    const files = JSON.parse(await inspectBox(outDir, { json: true })) as InspectEntry[];
    return { ok: true, config, files, tree: result.tree };
  } catch (error) {
    return { ok: false, error };
  }
}

/** One file as expected.json lists it: the inspect entry, with `text` in place of `sha256` for short text. */
export function fileRow(entry: InspectEntry, tree: Tree): Record<string, unknown> {
  const node = tree.get(entry.path, false);
  const row: Record<string, unknown> = { ...entry };
  if (node?.kind === 'file' && node.data.byteLength <= 400) {
    const text = utf8(contentBytes(node.data));
    if (text !== undefined && !/[\0-\x08\x0e-\x1f]/.test(text)) {
      delete row.sha256;
      row.text = text;
    }
  }
  return row;
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The expected.json text: config without timestamps or diff_ids, then one file per line. */
export function render(config: ImageConfig, files: Record<string, unknown>[]): string {
  const c = structuredClone(config);
  delete c.created;
  for (const h of c.history ?? []) delete h.created;
  // The layer digest belongs to the box format's own tests; every format change would churn all goldens.
  c.rootfs.diff_ids = c.rootfs.diff_ids.map(() => '<diff_id>');
  const rows = files.map((f) => `    ${JSON.stringify(f)}`);
  const list = rows.length ? `[\n${rows.join(',\n')}\n  ]` : '[]';
  return `{\n  "config": ${JSON.stringify(c, null, 2).replace(/\n/g, '\n  ')},\n  "files": ${list}\n}\n`;
}

/** The user-facing message of an error (with its hint line), or a description of a non-user error. */
export function errorText(error: unknown): string {
  if (error instanceof WasmboxError) return error.format();
  return `NOT A WasmboxError: ${error instanceof Error ? error.stack : String(error)}`;
}

/** Remove a directory if it exists. */
export async function clean(path: string): Promise<void> {
  if (existsSync(path)) await rm(path, { recursive: true, force: true });
}

