import type { IncomingMessage } from 'node:http';
import { RegistryHttpError, networkCause } from './failures.js';

/** A wait for the next sign of life from a server: when nothing arrived for a while it destroys `target`. */
export interface IdleTimer {
  /** What to destroy when the wait runs out: the request, then its answer once that came. */
  target?: { destroy(error?: Error): unknown };
  /** Restarts the wait (a chunk arrived). */
  touch(): void;
  /** Stops waiting for good. */
  clear(): void;
}

/** An {@link IdleTimer} of `ms`; it never keeps the process alive by itself. */
export function idleTimer(ms: number): IdleTimer {
  let timer: NodeJS.Timeout | undefined;
  const idle: IdleTimer = {
    touch: () => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.target?.destroy(Object.assign(new Error(`no data for ${ms / 1000} s`), { code: 'ETIMEDOUT' })), ms);
      timer.unref();
    },
    clear: () => clearTimeout(timer),
  };
  idle.touch();
  return idle;
}

/** The whole body, at most `max` bytes: `strict` refuses more (IMAGE_INVALID), else the rest is dropped. */
export async function readAll(res: IncomingMessage, max: number, what: string, timer: IdleTimer, strict: boolean): Promise<Uint8Array> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (strict && declared > max) {
    res.destroy();
    timer.clear();
    throw tooLarge(what, max);
  }
  const parts: Uint8Array[] = [];
  let got = 0;
  for await (const chunk of streamBody(res, what, timer)) {
    const room = max - got;
    if (chunk.length > room) {
      if (strict) throw tooLarge(what, max);
      parts.push(chunk.subarray(0, room));
      got = max;
      break;
    }
    parts.push(chunk);
    got += chunk.length;
  }
  return Buffer.concat(parts, got);
}

/**
 * Streams an answer's body as the socket delivers it (Buffers, no copies), restarting the idle timer per chunk
 * and failing (retriable) when it ends early. Reading on demand is the backpressure: an unread socket is paused.
 */
export async function* streamBody(res: IncomingMessage, what: string, timer: IdleTimer): AsyncGenerator<Uint8Array> {
  const expected = expectedLength(res);
  let got = 0;
  const chunks = res[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await chunks.next().catch((error: unknown) => { throw cutOff(what, got, expected, error); });
      if (next.done) break;
      timer.touch();
      got += (next.value as Buffer).length;
      yield next.value as Buffer;
    }
    if (expected !== undefined && got !== expected) throw cutOff(what, got, expected);
  } finally {
    timer.clear();
    // A reader that stopped early (or a failure) closes the connection: its rest cannot be reused.
    if (!res.readableEnded) res.destroy();
  }
}

/** Content-Length, which node:http (unlike fetch) never invalidates: it hands over the bytes as sent. */
function expectedLength(res: IncomingMessage): number | undefined {
  const length = res.headers['content-length'];
  return length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
}

function cutOff(what: string, got: number, expected: number | undefined, error?: unknown): RegistryHttpError {
  const of = expected === undefined ? '' : ` of ${expected}`;
  const why = error === undefined ? 'the connection closed early' : networkCause(error).message;
  return new RegistryHttpError('REGISTRY', `${what} was cut off after ${got}${of} bytes (${why})`, {
    hint: 'the connection to the registry broke; try again',
    retriable: true,
    cause: error,
  });
}

function tooLarge(what: string, max: number): RegistryHttpError {
  return new RegistryHttpError('IMAGE_INVALID', `${what} is larger than ${max} bytes; refusing to read it`, {
    hint: 'manifests and indexes are small JSON documents; the registry or image is broken or hostile',
  });
}
