// The build cache: what RUN produced, by cache key, and the contents of `RUN --mount=type=cache`
// directories, by id. One entry is one file: "WBCACHE1", a u32 (little-endian) header length, a JSON
// header, the body (a layer tar), then the sha256 of everything before it. Entries are written to a
// temporary file and renamed into place, so an interrupted build never leaves half an entry; an entry
// that fails its checksum is ignored (and replaced by the next build that makes it).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

const MAGIC = Buffer.from('WBCACHE1');
const DIGEST_SIZE = 32;

/** Which output stream a chunk came from. */
export type Stream = 'stdout' | 'stderr';

/** What a RUN left: its changes as a layer tar, and its output (kept for the log, in order). */
export interface RunRecord {
  layer: Uint8Array;
  output: { stream: Stream; text: string }[];
}

/** Where build results are kept between (and within) builds. */
export interface BuildCache {
  getRun(key: string): Promise<RunRecord | undefined>;
  putRun(key: string, record: RunRecord): Promise<void>;
  /** The contents of a cache mount (a layer tar of its directory), if it was ever saved. */
  getMount(id: string): Promise<Uint8Array | undefined>;
  putMount(id: string, tar: Uint8Array): Promise<void>;
}

/**
 * The root of wasmbox's caches: `$WASMBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmbox`, else
 * `~/.cache/wasmbox`. The build cache lives in its `build` folder.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WASMBOX_CACHE_DIR) return env.WASMBOX_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wasmbox');
}

/** The build cache on disk under `dir` (by default `cacheRoot()/build`). */
export function diskCache(dir: string = join(cacheRoot(), 'build')): BuildCache {
  const runPath = (key: string) => join(dir, 'runs', key.slice(0, 2), key);
  const mountPath = (id: string) => join(dir, 'mounts', sha256Hex(Buffer.from(id)));
  return {
    async getRun(key) {
      const entry = await readEntry(runPath(key));
      return entry && toRecord(entry);
    },
    putRun: (key, record) => writeEntry(runPath(key), { output: record.output }, record.layer),
    async getMount(id) {
      return (await readEntry(mountPath(id)))?.body;
    },
    putMount: (id, tar) => writeEntry(mountPath(id), { id }, tar),
  };
}

/** A cache that lives as long as the build: what library builds without a cache directory use. */
export function memoryCache(): BuildCache {
  const runs = new Map<string, RunRecord>();
  const mounts = new Map<string, Uint8Array>();
  return {
    getRun: async (key) => runs.get(key),
    putRun: async (key, record) => void runs.set(key, record),
    getMount: async (id) => mounts.get(id),
    putMount: async (id, tar) => void mounts.set(id, tar),
  };
}

/** A decoded cache entry: its JSON header and its body. */
export interface Entry {
  header: Record<string, unknown>;
  body: Uint8Array;
}

/** Encode an entry: magic, header length, header JSON, body, checksum. */
export function encodeEntry(header: Record<string, unknown>, body: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const content = Buffer.concat([MAGIC, length, json, body]);
  return Buffer.concat([content, createHash('sha256').update(content).digest()]);
}

/** Decode an entry, or undefined if it is damaged in any way. */
export function decodeEntry(bytes: Buffer): Entry | undefined {
  const minimum = MAGIC.length + 4 + DIGEST_SIZE;
  if (bytes.length < minimum || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const content = bytes.subarray(0, bytes.length - DIGEST_SIZE);
  if (!createHash('sha256').update(content).digest().equals(bytes.subarray(content.length))) return undefined;
  const jsonEnd = MAGIC.length + 4 + content.readUInt32LE(MAGIC.length);
  if (jsonEnd > content.length) return undefined;
  try {
    const header = JSON.parse(content.subarray(MAGIC.length + 4, jsonEnd).toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null) return undefined;
    return { header: header as Record<string, unknown>, body: content.subarray(jsonEnd) };
  } catch {
    return undefined;
  }
}

async function readEntry(path: string): Promise<Entry | undefined> {
  const bytes = await readFile(path).catch(() => undefined);
  return bytes && decodeEntry(bytes);
}

async function writeEntry(path: string, header: Record<string, unknown>, body: Uint8Array): Promise<void> {
  const dir = join(path, '..');
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(temp, encodeEntry(header, body));
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

function toRecord(entry: Entry): RunRecord | undefined {
  const output = entry.header.output;
  if (!Array.isArray(output) || !output.every((o) => typeof o?.text === 'string' && (o.stream === 'stdout' || o.stream === 'stderr'))) return undefined;
  return { layer: entry.body, output };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
