// Tag records: which manifest a reference ('host/repo:tag') resolved to, so a build can reuse it offline.
// One small JSON file per reference, named by the sha256 of the reference (a reference has characters a file
// name cannot), written by rename. The file's mtime is when the record was last used.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDigest } from '../image/blobs.js';
import { tempName } from './store-blob.js';

/** A tag record as stored, plus when it was last used (the record file's mtime, in ms). */
export interface TagRecord {
  key: string;
  digest: string;
  /** When the tag was resolved to this digest (ms since the epoch). */
  at: number;
  lastUsed: number;
  /** The record's file, for pruning. */
  file: string;
}

const RECORD_NAME = /^[a-f0-9]{64}\.json$/;

/** The record file of `key` inside the tags folder `dir`. */
export function tagFile(dir: string, key: string): string {
  return join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
}

/** Reads the record of `key`, or undefined when there is none or it is damaged; marks it used. */
export async function readTag(dir: string, key: string): Promise<TagRecord | undefined> {
  const record = await readRecord(tagFile(dir, key));
  if (record?.key !== key) return undefined;
  const now = new Date();
  // Best effort: a read-only cache still answers, it just cannot remember the use.
  await utimes(record.file, now, now).catch(() => undefined);
  return { ...record, lastUsed: now.getTime() };
}

/** Records that `key` resolved to `digest` now (replacing any earlier record, atomically). */
export async function writeTag(dir: string, key: string, digest: string): Promise<void> {
  checkDigest(digest, `the manifest of ${key}`);
  await mkdir(dir, { recursive: true });
  const temp = tempName(dir);
  try {
    await writeFile(temp, JSON.stringify({ key, digest, at: Date.now() }) + '\n');
    await rename(temp, tagFile(dir, key));
  } finally {
    await rm(temp, { force: true });
  }
}

/** Every readable record in `dir`, and the files there that are not (damaged records, stray files). */
export async function listTags(dir: string): Promise<{ records: TagRecord[]; damaged: string[] }> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const records: TagRecord[] = [];
  const damaged: string[] = [];
  for (const name of names.filter((n) => RECORD_NAME.test(n))) {
    const record = await readRecord(join(dir, name));
    if (record && tagFile(dir, record.key) === join(dir, name)) records.push(record);
    else damaged.push(join(dir, name));
  }
  return { records: records.sort((a, b) => a.key.localeCompare(b.key)), damaged };
}

async function readRecord(file: string): Promise<TagRecord | undefined> {
  try {
    const st = await lstat(file);
    if (!st.isFile()) return undefined;
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<TagRecord>;
    if (typeof value.key !== 'string' || typeof value.at !== 'number') return undefined;
    return { key: value.key, digest: checkDigest(value.digest, 'a tag record'), at: value.at, lastUsed: st.mtimeMs, file };
  } catch {
    return undefined;
  }
}
