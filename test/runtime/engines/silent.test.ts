// The failure @wasmer/sdk hides: when it cannot start its workers it reports guests as run, exit 0, no
// output. Reproduced for real with Node's permission model without --allow-worker: the engine must notice
// (its self-check program does not run either) and throw, never return a silent 0.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { transpileRuntime } from './transpiled.js';

const CHILD = 'test/runtime/engines/silent-child.ts';
const js = transpileRuntime([CHILD]);
afterAll(() => js.remove());

describe('an sdk that runs nothing', () => {
  it('is caught by the self-check and reported, not returned as a silent exit 0', async () => {
    const args = ['--experimental-permission', '--allow-fs-read=*', js.path(CHILD)];
    const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(result).toMatchObject({ error: 'WasixEngineError' });
    expect(result.message).toMatch(/did not really run quiet: .*self-check program.*"wasmbox-probe-ok" and exit 42 \(it ended \(exited\) with status 0 and 0 bytes of output\)/);
    expect(result.message).toMatch(/may not start worker threads .*--allow-worker/);
  });

  it('is not what a normal Node process sees: there the same run succeeds', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [js.path(CHILD)], { timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ code: 42, output: 'wasmbox-probe-ok\n' });
  });
});
