// Run by silent.test.ts in a Node process whose permission model forbids worker threads: the sdk then
// "runs" guests that never start. Prints the outcome of runWasmer as one JSON line.
import { runWasmer } from '../../../runtime/core/engines/wasmer.js';
import { probeModule } from '../../../runtime/core/engines/probe-module.js';
import { collectOutput, NO_INPUT } from '../../../runtime/core/process.js';
import { Vfs } from '../../../runtime/core/vfs.js';

const out = collectOutput();
try {
  const code = await runWasmer(probeModule(), { argv: ['quiet'], env: [], cwd: '/', vfs: Vfs.empty(), stdin: NO_INPUT, stdout: out.sink, stderr: out.sink });
  console.log(JSON.stringify({ code, output: new TextDecoder().decode(out.bytes()) }));
} catch (error) {
  console.log(JSON.stringify({ error: (error as Error).name, message: (error as Error).message }));
}
process.exit(0);
