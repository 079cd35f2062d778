// A spawned @wasmer/sdk process wired to a ProcessSpec: stdout and stderr streamed to the spec's sinks as
// the guest writes, stdin fed from the spec's source, and the outcome mapped to an exit status. Typed by
// shape, not by the sdk, which only wasmer.ts imports. Runtime code: web-standard APIs only.
//
// The sdk runs the guest in its own workers and needs this thread free to answer them, so stdin is never
// read here with a read that waits: live input (a terminal, a pipe left open) is awaited with its `ready`,
// and the feeder gives up as soon as the guest exits. The sdk gives no sign of the guest reading, so input
// that arrives while the guest runs goes to it, read or not (later commands of a script do not see it).
import type { InputSource, OutputSink, ProcessSpec } from '../process.js';

/** The exit status of a guest that trapped (like a process killed by SIGABRT). */
export const TRAP_STATUS = 134;
const STDIN_CHUNK = 64 * 1024;

/** What the sdk's `Process` (spawned with all three streams piped) offers. */
export interface PipedProcess {
  stdin: { write(bytes: Uint8Array): Promise<void>; close(): Promise<void> } | null;
  stdout: AsyncIterable<Uint8Array> | null;
  stderr: AsyncIterable<Uint8Array> | null;
  wait(): Promise<{ exitCode: number; reason: string }>;
}

/** Pump stdio until the guest ends; `started` is false when nothing shows that the guest ran at all. */
export async function superviseGuest(proc: PipedProcess, spec: ProcessSpec): Promise<{ status: number; started: boolean }> {
  let produced = 0;
  const exited = new AbortController();
  const counted = (sink: OutputSink): OutputSink => (chunk) => {
    produced += chunk.byteLength;
    sink(chunk);
  };
  const pumps = Promise.all([drain(proc.stdout!, counted(spec.stdout)), drain(proc.stderr!, counted(spec.stderr)), feed(proc.stdin!, spec.stdin, exited.signal)]);
  pumps.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  let result: { status: number; trapped: boolean };
  try {
    result = await exitStatus(proc, spec);
  } finally {
    exited.abort();
  }
  await pumps;
  return { status: result.status, started: result.trapped || produced > 0 };
}

async function exitStatus(proc: PipedProcess, spec: ProcessSpec): Promise<{ status: number; trapped: boolean }> {
  try {
    const output = await proc.wait();
    // The sdk only stops a guest on its own for a timeout (which we never set); anything else is a kill.
    const status = output.reason === 'exited' ? output.exitCode : output.reason === 'timeout' ? 124 : 137;
    return { status, trapped: false };
  } catch (error) {
    // The sdk reports a guest trap as a failed command whose message carries the engine's RuntimeError.
    const message = String(error instanceof Error ? error.message : error).split('\n')[0];
    if (!/RuntimeError/.test(message)) throw error;
    const what = message.replace(/^command execution failed: /, '');
    spec.stderr(new TextEncoder().encode(`wasmbox: ${spec.argv[0]}: the WebAssembly guest crashed (${what})\n`));
    return { status: TRAP_STATUS, trapped: true };
  }
}

async function drain(stream: AsyncIterable<Uint8Array>, sink: OutputSink): Promise<void> {
  for await (const chunk of stream) sink(chunk);
}

/** Copy stdin to the guest chunk by chunk until it ends (EOF closes the guest's stdin) or the guest has
 *  exited. Live input is awaited without blocking; only then is it read, so nothing is taken after exit. */
async function feed(stdin: NonNullable<PipedProcess['stdin']>, input: InputSource, exited: AbortSignal): Promise<void> {
  for (;;) {
    await input.ready?.(exited);
    if (exited.aborted) break;
    const chunk = input.read(STDIN_CHUNK);
    if (chunk.byteLength === 0) break;
    // A write fails once the guest has exited or closed stdin: the rest of the input has nowhere to go.
    if (!(await stdin.write(chunk.slice()).then(() => true, () => false))) return;
  }
  await stdin.close().catch(() => undefined);
}
