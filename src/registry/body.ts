import { RegistryHttpError, networkCause } from './failures.js';

/** An abort signal that fires when nothing arrived for `ms`; `touch` restarts the wait. */
export interface IdleTimer {
  signal: AbortSignal;
  touch(): void;
  clear(): void;
}

/** An {@link IdleTimer}; it never keeps the process alive by itself. */
export function idleTimer(ms: number): IdleTimer {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      controller.abort(Object.assign(new Error(`no data for ${ms / 1000} s`), { code: 'ETIMEDOUT' }));
    }, ms);
    timer.unref();
  };
  touch();
  return { signal: controller.signal, touch, clear: () => clearTimeout(timer) };
}

/** The whole body, at most `max` bytes: `strict` refuses more (IMAGE_INVALID), else the rest is dropped. */
export async function readAll(res: Response, max: number, what: string, timer: IdleTimer, strict: boolean): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (strict && declared > max) {
    await res.body?.cancel().catch(() => undefined);
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

/** Streams a fetch body, restarting the idle timer per chunk and failing (retriable) when it ends early. */
export async function* streamBody(res: Response, what: string, timer: IdleTimer): AsyncGenerator<Uint8Array> {
  const expected = expectedLength(res);
  let got = 0;
  const reader = res.body?.getReader();
  try {
    for (;;) {
      const next = reader ? await reader.read().catch((error: unknown) => { throw cutOff(what, got, expected, error); }) : { done: true as const, value: undefined };
      if (next.done) break;
      timer.touch();
      got += next.value.length;
      yield next.value;
    }
    if (expected !== undefined && got !== expected) throw cutOff(what, got, expected);
  } finally {
    timer.clear();
    await reader?.cancel().catch(() => undefined);
  }
}

/** Content-Length when it describes the bytes we read (no content encoding undone by fetch). */
function expectedLength(res: Response): number | undefined {
  const encoding = res.headers.get('content-encoding');
  if (encoding && encoding !== 'identity') return undefined;
  const length = res.headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
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
