// Run by worker.test.ts inside a worker_threads Worker: runs the engine's probe as a guest there and
// posts the outcome back.
import { parentPort } from 'node:worker_threads';
import { closeWasmerEngine, runWasmer } from '../../../runtime/core/engines/wasmer.js';
import { probeModule } from '../../../runtime/core/engines/probe-module.js';
import { collectOutput, NO_INPUT } from '../../../runtime/core/process.js';
import { Vfs } from '../../../runtime/core/vfs.js';

const out = collectOutput();
try {
  const code = await runWasmer(probeModule(), { argv: ['probe'], env: [], cwd: '/', vfs: Vfs.empty(), stdin: NO_INPUT, stdout: out.sink, stderr: out.sink });
  parentPort!.postMessage({ code, output: new TextDecoder().decode(out.bytes()) });
} catch (error) {
  parentPort!.postMessage({ error: String(error) });
}
await closeWasmerEngine();
