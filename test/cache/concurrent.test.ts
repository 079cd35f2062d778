/**
 * Two processes pulling the same blob at once (two builds of the same base image) both succeed and the cache
 * ends with one copy and no temp files. Real child processes, released together once both are ready.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobCache } from '../../src/cache/blob-cache.js';
import { scratchDir } from '../helpers/fixtures.js';
import { pattern, sha256 } from './helpers.js';

const SIZE = 20 << 20;
const SEED = 2024;

interface Outcome {
  ok: boolean;
  path?: string;
  start?: number;
  end?: number;
  same?: boolean;
  error?: string;
}

let work: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  work = await scratchDir('wasmbox-cache-race-');
});
afterAll(async () => work?.remove());

/** Starts a child and resolves once it is ready; `go()` releases it, `done` is its outcome. */
function child(root: string): Promise<{ go: () => void; done: Promise<Outcome> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'put-child.ts'), root, String(SIZE), String(SEED)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = createInterface({ input: proc.stdout });
  let outcome: Outcome | undefined;
  const done = new Promise<Outcome>((resolve) => {
    proc.on('close', (code) => resolve(outcome ?? { ok: false, error: `exit ${code}: ${stderr}` }));
  });
  return new Promise((ready, fail) => {
    proc.on('error', fail);
    lines.on('line', (line) => {
      if (line === 'ready') ready({ go: () => proc.stdin.end('go\n'), done });
      else outcome = JSON.parse(line) as Outcome;
    });
    void done.then((o) => fail(new Error(`child ended before it was ready: ${o.error}`)));
  });
}

describe('two processes putting the same blob', () => {
  it('both succeed, overlap in time, and leave one file', async () => {
    const root = join(work.dir, 'blobs');
    const children = await Promise.all([child(root), child(root)]);
    for (const c of children) c.go();
    const [a, b] = await Promise.all(children.map((c) => c.done));
    expect(a, a.error).toMatchObject({ ok: true, same: true });
    expect(b, b.error).toMatchObject({ ok: true, same: true });
    const digest = sha256(pattern(SIZE, SEED));
    expect(a.path).toBe(BlobCache.open(root).path(digest));
    expect(b.path).toBe(a.path);
    // The writes really ran at the same time: each started before the other finished.
    expect(Math.max(a.start!, b.start!)).toBeLessThan(Math.min(a.end!, b.end!));
    expect(await readdir(join(root, 'sha256'))).toEqual([digest.slice(7)]);
    expect(await BlobCache.open(root).verify(digest)).toBe(true);
  });
});
