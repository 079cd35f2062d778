import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { BOX_FILES } from '../box/format.js';
import { RegistryClient } from '../registry/client.js';
import { pushBox, type PushEvent } from '../registry/push.js';
import { PushRecord } from '../registry/push-record.js';
import { parseRegistryRef } from '../registry/reference.js';
import { parseInsecure } from './registry-flags.js';

/** The `wasmbox push` flags, as typed. */
export interface PushFlags {
  box: string;
  ref: string;
  insecureRegistry: string[];
  quiet: boolean;
}

// Byte progress of an upload is printed at most this often, so a large layer shows it is moving.
const PROGRESS_EVERY_MS = 2000;

/**
 * `wasmbox push OUTDIR REF`: upload the box as an OCI image (platform wasi/wasm), a line per blob on stderr,
 * then print the pinned reference `NAME@sha256:…` (the index digest) on stdout.
 */
export async function runPush(flags: PushFlags): Promise<void> {
  await checkBoxDir(flags.box, flags.ref);
  const ref = parseRegistryRef(flags.ref);
  const log = flags.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const client = new RegistryClient({ insecure: parseInsecure(flags.insecureRegistry), log });
  const record = await PushRecord.load();
  const result = await pushBox(flags.box, ref, client, {
    onProgress: log && progressLines(log),
    mountFrom: (digest) => record.source(ref.domain, digest, ref.repository),
  });
  record.note(ref.domain, ref.repository, result.blobs.map((b) => b.digest));
  // The record only saves uploads next time; failing to write it must not fail a push that succeeded.
  await record.save().catch((err: Error) => log?.(`note: cannot update ${record.file}: ${err.message}`));
  process.stdout.write(`${ref.domain}/${ref.repository}@${result.digest}\n`);
}

/** A box directory must hold box.json; a missing one may be the arguments swapped (REF first). */
async function checkBoxDir(box: string, refText: string): Promise<void> {
  const info = await stat(box).catch(() => undefined);
  const manifest = info?.isDirectory() ? await stat(join(box, BOX_FILES.manifest)).catch(() => undefined) : undefined;
  if (manifest?.isFile()) return;
  const swapped = info === undefined && (await stat(join(refText, BOX_FILES.manifest)).catch(() => undefined)) !== undefined;
  const what = info === undefined ? 'does not exist' : info.isDirectory() ? `has no ${BOX_FILES.manifest}, so it is not a box` : 'is not a directory';
  fail('BOX_NOT_FOUND', `${box} ${what}`, {
    instruction: 'push',
    value: box,
    hint: swapped ? `the box comes first: wasmbox push ${refText} ${box}` : `build a box with \`wasmbox build -o ${box} .\`, then push that directory`,
  });
}

/** Prints push events as lines: "pushing sha256:abcd… 12.3 MB", "exists …", "mounted … from REPO", timed byte progress. */
function progressLines(log: (line: string) => void): (event: PushEvent) => void {
  let last = 0;
  return (event) => {
    if (event.kind === 'bytes') {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS || event.bytes >= event.size) return;
      last = now;
      log(`  ${short(event.digest)} ${formatSize(event.bytes)} of ${formatSize(event.size)} (${Math.floor((100 * event.bytes) / event.size)}%)`);
    } else if (event.kind === 'manifest') {
      const tagged = event.what === 'index' && !event.reference.includes(':') ? `, tagged ${event.reference}` : '';
      log(`${event.what} ${event.digest}${tagged}`);
    } else if (event.status === 'pushing') {
      last = Date.now();
      log(`pushing ${short(event.digest)} ${formatSize(event.size)} (${event.what})`);
    } else {
      log(`${event.status} ${short(event.digest)}${event.from ? ` from ${event.from}` : ''} (${event.what})`);
    }
  };
}

function short(digest: string): string {
  return `${digest.slice(0, 'sha256:'.length + 12)}…`;
}

/** Bytes in decimal units, as registries and docker print them: 512 B, 12.3 kB, 12.3 MB, 1.2 GB. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const [value, unit] = bytes < 1e6 ? [bytes / 1e3, 'kB'] : bytes < 1e9 ? [bytes / 1e6, 'MB'] : [bytes / 1e9, 'GB'];
  return `${value.toFixed(1)} ${unit}`;
}
