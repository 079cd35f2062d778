// What the flatten and pull benchmarks share on the parent side: scratch directories on tmpfs.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where scratch directories go: tmpfs when there is one, so disk speed stays out of the figures. */
export const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** Runs `work` with a fresh empty dir on tmpfs, removed afterwards whatever happens. */
export function withScratch<T>(prefix: string, work: (dir: string) => T): T {
  const dir = mkdtempSync(join(SCRATCH, prefix));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
