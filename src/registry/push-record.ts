import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../build/cache.js';

/** Blobs remembered per registry; the oldest are forgotten first (a forgotten blob is simply uploaded). */
const MAX_PER_HOST = 2000;

/**
 * Which repository of each registry a blob was last pushed to, so that pushing the same box to another
 * repository of that registry can mount its blobs instead of uploading them (docker keeps the same kind of
 * record). Only a hint: a stale entry costs one refused mount. Kept in `<cacheRoot>/pushed.json`.
 */
export class PushRecord {
  private constructor(
    readonly file: string,
    private readonly hosts: Record<string, Record<string, string>>,
  ) {}

  /** The record in `file` (default `<cacheRoot>/pushed.json`); a missing or unreadable file is an empty record. */
  static async load(file = join(cacheRoot(), 'pushed.json')): Promise<PushRecord> {
    const text = await readFile(file, 'utf8').catch(() => '{}');
    let hosts: unknown;
    try {
      hosts = JSON.parse(text);
    } catch {
      hosts = {};
    }
    return new PushRecord(file, typeof hosts === 'object' && hosts !== null && !Array.isArray(hosts) ? (hosts as Record<string, Record<string, string>>) : {});
  }

  /** A repository of `host` other than `except` that `digest` was pushed to, if known. */
  source(host: string, digest: string, except: string): string | undefined {
    const repository = this.hosts[host]?.[digest];
    return typeof repository === 'string' && repository !== except ? repository : undefined;
  }

  /** Remembers that `digests` are now in `repository` of `host`. */
  note(host: string, repository: string, digests: string[]): void {
    const known = { ...this.hosts[host] };
    for (const digest of digests) {
      // Re-inserted at the end, so the order of keys is the order of use.
      delete known[digest];
      known[digest] = repository;
    }
    const keys = Object.keys(known);
    for (const stale of keys.slice(0, Math.max(0, keys.length - MAX_PER_HOST))) delete known[stale];
    this.hosts[host] = known;
  }

  /** Writes the record atomically (a temporary sibling renamed over it); concurrent pushes: the last one wins. */
  async save(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, JSON.stringify(this.hosts));
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
