/**
 * The shared rings between the Node host and the guest's worker, driven from one thread: every write
 * here fits in the ring, so nothing blocks (blocking, and the two threads, are covered end to end by
 * node-host.test.ts). Small rings make the counters wrap many times.
 */
import { describe, expect, it } from 'vitest';
import { RingReader, RingWriter, createInputRing, createOutputRing, ringInput, ringOutput } from '../../../runtime/hosts/node-rings.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('input ring', () => {
  it('delivers bytes in order across many wrap-arounds, in reads of any size', () => {
    const sab = createInputRing(64);
    const writer = new RingWriter(sab);
    const input = ringInput(sab);
    let sent = '';
    let got = '';
    for (let i = 0; i < 500; i++) {
      const chunk = `chunk ${i};`.repeat(1 + (i % 4));
      const taken = writer.write(bytes(chunk));
      sent += chunk.slice(0, taken);
      for (let r = input.read(1 + (i % 13)); r.byteLength > 0; r = input.read(1 + (i % 13))) {
        got += text(r);
        if (got.length === sent.length) break;
      }
    }
    expect(got).toBe(sent);
    expect(sent.length).toBeGreaterThan(64 * 50);
  });

  it('takes only what fits, then more once the guest has read', () => {
    const sab = createInputRing(64);
    const writer = new RingWriter(sab);
    expect(writer.write(new Uint8Array(100))).toBe(64);
    expect(writer.write(new Uint8Array(1))).toBe(0);
    expect(ringInput(sab).read(10).byteLength).toBe(10);
    expect(writer.write(new Uint8Array(100))).toBe(10);
  });

  it('returns what is left after the end, then empty reads', () => {
    const sab = createInputRing(64);
    const writer = new RingWriter(sab);
    writer.write(bytes('last words'));
    writer.end();
    const input = ringInput(sab);
    expect(text(input.read(100))).toBe('last words');
    expect(input.read(100).byteLength).toBe(0);
    expect(input.read(100).byteLength).toBe(0);
  });

  it('refuses a ring size that is not a power of two', () => {
    expect(() => createInputRing(100)).toThrow(/power of two/);
  });
});

describe('output ring', () => {
  it('keeps stdout and stderr in order and joins consecutive writes of one stream', () => {
    const sab = createOutputRing(1024);
    const [out, err] = [ringOutput(sab, 1), ringOutput(sab, 2)];
    out(bytes('a'));
    out(bytes('b'));
    err(bytes('E1'));
    out(bytes('c'));
    err(bytes('E2'));
    err(bytes('E3'));
    const chunks = new RingReader(sab).take().map((c) => [c.fd, text(c.bytes)]);
    expect(chunks).toEqual([[1, 'ab'], [2, 'E1'], [1, 'c'], [2, 'E2E3']]);
  });

  it('copies each write (the guest reuses its memory at once)', () => {
    const sab = createOutputRing(1024);
    const buf = bytes('first');
    ringOutput(sab, 1)(buf);
    buf.set(bytes('XXXXX'));
    expect(text(new RingReader(sab).take()[0].bytes)).toBe('first');
  });

  it('carries every byte across many wrap-arounds, odd sizes included', () => {
    const sab = createOutputRing(64);
    const reader = new RingReader(sab);
    const sinks = { 1: ringOutput(sab, 1), 2: ringOutput(sab, 2) } as const;
    const sent = { 1: '', 2: '' };
    const got = { 1: '', 2: '' };
    for (let i = 0; i < 1000; i++) {
      const fd = i % 3 === 0 ? 2 : 1;
      const piece = String.fromCharCode(97 + (i % 26)).repeat(1 + (i % 23));
      sinks[fd](bytes(piece));
      sent[fd] += piece;
      for (const c of reader.take()) got[c.fd] += text(c.bytes);
    }
    expect(got).toEqual(sent);
  });

  it('takes nothing when nothing was written, and more() returns once something is', async () => {
    const sab = createOutputRing(64);
    const reader = new RingReader(sab);
    expect(reader.take()).toEqual([]);
    ringOutput(sab, 1)(bytes('x'));
    await reader.more(); // resolves at once: there is something to take
    expect(reader.take().map((c) => text(c.bytes))).toEqual(['x']);
  });
});
