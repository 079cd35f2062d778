import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { fail } from '../errors.js';

/** A read-only bag of named files (a directory, or the entries of a tar): what image backends read. */
export interface FileStore {
  /** Where the files live, for messages. */
  readonly where: string;
  /** The size of `name`, or undefined when there is no such regular file. */
  size(name: string): Promise<number | undefined>;
  /** The whole of `name`; call `size` first to refuse absurd sizes. */
  read(name: string): Promise<Uint8Array>;
  /** A fresh stream of `name` from its start. */
  open(name: string): Promise<AsyncIterable<Uint8Array>>;
}

/** The largest manifest, index or config we read into memory (hostile files could be huge). */
export const MAX_JSON_BYTES = 32 << 20;

const DIGESTS: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };

/** Checks a digest's algorithm and hex form; throws `DIGEST`, so a digest can never name a path. */
export function checkDigest(digest: unknown, what: string): string {
  const [alg, hex, extra] = typeof digest === 'string' ? digest.split(':') : [];
  if (extra !== undefined || !alg || !hex || !(Object.hasOwn(DIGESTS, alg) && DIGESTS[alg].test(hex))) {
    fail('DIGEST', `${what} has a malformed or unsupported digest`, { value: String(digest), hint: 'digests are sha256:<64 hex> or sha512:<128 hex>; the image may be damaged or hostile' });
  }
  return digest as string;
}

/** The path of a blob inside an OCI layout: `blobs/<alg>/<hex>`, after validating the digest. */
export function blobPath(digest: unknown, what: string): string {
  const [alg, hex] = checkDigest(digest, what).split(':');
  return `blobs/${alg}/${hex}`;
}

/** The digest of `bytes` in the algorithm `like` uses. */
export function digestOf(bytes: Uint8Array, like = 'sha256:'): string {
  const alg = like.split(':')[0];
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
}

/** Reads a JSON blob, checking its size and that its bytes hash to `digest`; throws `DIGEST`/`IMAGE_INVALID`. */
export async function readVerifiedJson<T>(store: FileStore, digest: string, what: string): Promise<T> {
  const name = blobPath(digest, what);
  const bytes = await readJsonFile(store, name, what);
  const actual = digestOf(bytes, digest);
  if (actual !== digest) {
    fail('DIGEST', `${what} in ${store.where} does not match its digest`, { value: digest, hint: `its bytes hash to ${actual}; the image is damaged or was edited` });
  }
  return parseJson<T>(bytes, `${what} ${digest}`, store.where);
}

/** Reads a small file whole, refusing missing and oversized ones. */
export async function readJsonFile(store: FileStore, name: string, what: string): Promise<Uint8Array> {
  const size = await store.size(name);
  if (size === undefined) fail('IMAGE_INVALID', `${what} (${name}) is missing from ${store.where}`, { value: name, hint: 'the image is incomplete; export it again' });
  if (size > MAX_JSON_BYTES) fail('IMAGE_INVALID', `${what} (${name}) in ${store.where} is too large (${size} bytes)`, { value: name });
  return store.read(name);
}

/** Parses JSON from bytes, naming the file on failure. */
export function parseJson<T>(bytes: Uint8Array, what: string, where: string): T {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch (cause) {
    return fail('IMAGE_INVALID', `${what} in ${where} is not valid JSON`, { cause, hint: 'the image is damaged' });
  }
}

/** A {@link FileStore} over a directory; names must be relative and stay inside it. */
export function dirStore(root: string): FileStore {
  const full = (name: string): string => {
    const clean = posix.normalize(name);
    if (posix.isAbsolute(clean) || clean === '..' || clean.startsWith('../')) fail('IMAGE_INVALID', `"${name}" escapes ${root}`, { value: name });
    return join(root, clean);
  };
  return {
    where: root,
    async size(name) {
      const st = await stat(full(name)).catch(() => undefined);
      return st?.isFile() ? st.size : undefined;
    },
    read: (name) => readFile(full(name)),
    // 1 MiB reads: the 64 KiB default makes layer reading wait on many small reads.
    open: async (name) => createReadStream(full(name), { highWaterMark: 1 << 20 }),
  };
}
