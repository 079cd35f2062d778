// A second process for concurrent.test.ts: makes the 20 MB test blob, says "ready", waits for "go" on stdin,
// then puts it into the cache at argv[2] in slow 1 MiB chunks and prints what happened as one JSON line.
import { createInterface } from 'node:readline';
import { BlobCache } from '../../src/cache/blob-cache.js';
import { chunks, pattern, sha256 } from './helpers.js';

const [root, size, seed] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const bytes = pattern(size, seed);
const digest = sha256(bytes);
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) if (line === 'go') break;
lines.close();
const cache = BlobCache.open(root);
const start = Date.now();
try {
  const path = await cache.put(digest, chunks(bytes, 1 << 20, { delayMs: 5 }), { what: 'the shared layer' });
  const end = Date.now();
  const same = Buffer.compare(await cache.read(digest), bytes) === 0;
  process.stdout.write(`${JSON.stringify({ ok: true, path, start, end, same })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(err) })}\n`);
}
