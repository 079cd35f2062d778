/**
 * Mutation fuzzing of the whole front end: real Dockerfiles (the golden cases and the examples) are
 * mutated with a seeded PRNG and each mutant is parsed, planned and built. A mutant may build or fail,
 * but a failure must be a well-formed WasmboxError, never another exception, and no mutant may take
 * more than 2 s. WASMBOX_FUZZ_SEED and WASMBOX_FUZZ_COUNT replay or widen a run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { corpus, mutant } from './fuzz-child.js';

const SEED = Number(process.env.WASMBOX_FUZZ_SEED ?? 20_240_917);
const COUNT = Number(process.env.WASMBOX_FUZZ_COUNT ?? 1500);
const CASE_LIMIT_MS = 2_000;
/** The child prepares every case's context before the first mutant: allow for that once. */
const STARTUP_LIMIT_MS = 20_000;

interface Failure {
  index: number;
  error: string;
}

/** Run the child; a case that does not finish in time is reported as a hang and ends the run. */
function runChild(seed: number, count: number): Promise<{ failures: Failure[]; finished: number }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fuzz-child.ts'), String(seed), String(count)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const failures: Failure[] = [];
    let finished = 0;
    let current = -1;
    let stderr = '';
    let timer = setTimeout(() => hang(), STARTUP_LIMIT_MS);
    function hang() {
      failures.push({ index: current, error: `no result after ${CASE_LIMIT_MS} ms (a hang?)` });
      child.kill('SIGKILL');
    }
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { start?: number; done?: number; ok?: boolean; error?: string };
      clearTimeout(timer);
      if (msg.start !== undefined) {
        current = msg.start;
        timer = setTimeout(hang, CASE_LIMIT_MS);
      } else {
        finished++;
        if (!msg.ok) failures.push({ index: msg.done!, error: msg.error ?? '' });
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal !== 'SIGKILL') failures.push({ index: current, error: `the fuzz child exited with ${code}: ${stderr}` });
      done({ failures, finished });
    });
  });
}

describe('Dockerfile mutation fuzzing', () => {
  it(`builds ${COUNT} mutants (seed ${SEED}) and fails only with WasmboxErrors`, async () => {
    const { failures, finished } = await runChild(SEED, COUNT);
    const seeds = corpus();
    const report = failures.slice(0, 5).map((f) => {
      const m = f.index >= 0 ? mutant(seeds, SEED, f.index) : undefined;
      return `#${f.index} from ${m?.from.name}: ${f.error}\n--- mutant ---\n${m?.text}\n---`;
    });
    expect(failures, `seed ${SEED}: ${failures.length} failure(s); replay with WASMBOX_FUZZ_SEED=${SEED}\n${report.join('\n')}`).toEqual([]);
    expect(finished).toBe(COUNT);
  }, 60_000);
});
