// The WASIX engine inside a worker_threads Worker (where Node has no global Worker for the sdk to use
// until its Node build installs one): a guest runs and the thread ends once the engine is closed.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { transpileRuntime } from './transpiled.js';

const CHILD = 'test/runtime/engines/worker-child.ts';
const js = transpileRuntime([CHILD]);
afterAll(() => js.remove());

describe('runWasmer in a worker_threads Worker', () => {
  it('runs a guest and lets the thread exit', async () => {
    const worker = new Worker(js.path(CHILD));
    const [message] = await once(worker, 'message');
    expect(message).toEqual({ code: 42, output: 'wasmbox-probe-ok\n' });
    const [exitCode] = await once(worker, 'exit');
    expect(exitCode).toBe(0);
  });
});
