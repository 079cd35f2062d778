/**
 * How the WASIX engine feeds stdin to an sdk process (wasmer-stdio.ts), with a scripted process in place
 * of @wasmer/sdk: live input is awaited without blocking the thread the sdk needs, so a guest that never
 * reads an open input still ends; input that arrives goes to the guest; nothing is read after it exits.
 * The input is the Node host's ring (node-rings.ts), whose `ready` is checked here too.
 */
import { describe, expect, it } from 'vitest';
import { superviseGuest, type PipedProcess } from '../../../runtime/core/engines/wasmer-stdio.js';
import { bufferInput, collectOutput, type InputSource, type ProcessSpec } from '../../../runtime/core/process.js';
import { Vfs } from '../../../runtime/core/vfs.js';
import { RingWriter, createInputRing, ringInput } from '../../../runtime/hosts/node-rings.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A process that exits with `code` once `exit()` is called; what it was sent on stdin is kept. */
function scriptedProcess(): { proc: PipedProcess; exit(code: number): void; received: string[]; closed: () => boolean } {
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const received: string[] = [];
  let closed = false;
  const output = (async function* (): AsyncGenerator<Uint8Array> {
    await exited;
  })();
  const proc: PipedProcess = {
    stdin: {
      write: async (chunk) => void received.push(text(chunk)),
      close: async () => void (closed = true),
    },
    stdout: output,
    stderr: (async function* (): AsyncGenerator<Uint8Array> {
      await exited;
    })(),
    wait: async () => ({ exitCode: await exited, reason: 'exited' }),
  };
  return { proc, exit, received, closed: () => closed };
}

function spec(stdin: InputSource): ProcessSpec {
  return { argv: ['guest'], env: [], cwd: '/', vfs: Vfs.empty(), stdin, stdout: collectOutput().sink, stderr: collectOutput().sink };
}

describe('the WASIX engine\'s stdin feeder', () => {
  it('lets a guest that never reads an open input end', async () => {
    const ring = createInputRing();
    const guest = scriptedProcess();
    const supervised = superviseGuest(guest.proc, spec(ringInput(ring)));
    await delay(30);
    guest.exit(6);
    expect((await supervised).status).toBe(6);
    expect(guest.received).toEqual([]);
  });

  it('passes input on as it arrives, and the end of input as a close', async () => {
    const ring = createInputRing();
    const writer = new RingWriter(ring);
    const guest = scriptedProcess();
    const supervised = superviseGuest(guest.proc, spec(ringInput(ring)));
    await delay(20);
    writer.write(bytes('first\n'));
    await delay(20);
    expect(guest.received).toEqual(['first\n']);
    writer.write(bytes('second\n'));
    writer.end();
    await delay(20);
    expect(guest.closed()).toBe(true);
    guest.exit(0);
    await supervised;
    expect(guest.received.join('')).toBe('first\nsecond\n');
  });

  it('takes nothing from the input once the guest has exited', async () => {
    const ring = createInputRing();
    const writer = new RingWriter(ring);
    const input = ringInput(ring);
    const guest = scriptedProcess();
    const supervised = superviseGuest(guest.proc, spec(input));
    guest.exit(0);
    await supervised;
    writer.write(bytes('for the next program'));
    expect(text(input.read(100))).toBe('for the next program');
  });

  it('copies buffered input whole', async () => {
    const guest = scriptedProcess();
    const supervised = superviseGuest(guest.proc, spec(bufferInput(bytes('all of it'))));
    await delay(10);
    guest.exit(0);
    await supervised;
    expect(guest.received.join('')).toBe('all of it');
    expect(guest.closed()).toBe(true);
  });
});

describe('the input ring\'s ready', () => {
  it('waits for input, for its end, or for an abort, without taking anything', async () => {
    const ring = createInputRing();
    const writer = new RingWriter(ring);
    const input = ringInput(ring);
    const states: string[] = [];
    const first = input.ready!().then(() => states.push('ready'));
    await delay(10);
    expect(states).toEqual([]);
    writer.write(bytes('x'));
    await first;
    await input.ready!();
    expect(text(input.read(10))).toBe('x');

    const abort = new AbortController();
    const aborted = input.ready!(abort.signal).then(() => states.push('aborted'));
    await delay(10);
    abort.abort();
    await aborted;

    writer.end();
    await input.ready!();
    expect(input.read(10).byteLength).toBe(0);
    expect(states).toEqual(['ready', 'aborted']);
  });
});
