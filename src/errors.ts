/** Where in a user's input a problem sits: a file and, when known, a 1-based line. */
export interface Location {
  file: string;
  line?: number;
}

/** Details that make an error actionable: where, which instruction or flag, which value, what to do. */
export interface ErrorDetails {
  location?: Location;
  /** The Dockerfile instruction (`COPY`) or CLI flag (`--target`) at fault. */
  instruction?: string;
  /** The offending value as the user wrote it. */
  value?: string;
  /** One sentence saying what to do about it. */
  hint?: string;
  cause?: unknown;
}

/**
 * The one error type for every user-facing failure: a stable code, a message, and the details that
 * locate and explain it. The CLI prints it without a stack trace; anything else is a bug.
 */
export class WasmboxError extends Error {
  readonly code: string;
  readonly location?: Location;
  readonly instruction?: string;
  readonly value?: string;
  readonly hint?: string;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WasmboxError';
    this.code = code;
    this.location = details.location;
    this.instruction = details.instruction;
    this.value = details.value;
    this.hint = details.hint;
  }

  /** A copy of this error with the location (and instruction) filled in where it was missing. */
  at(location: Location, instruction?: string): WasmboxError {
    if (this.location && this.instruction) return this;
    return new WasmboxError(this.code, this.message, {
      location: this.location ?? location,
      instruction: this.instruction ?? instruction,
      value: this.value,
      hint: this.hint,
      cause: this.cause,
    });
  }

  /** The text the CLI prints: `file:line: INSTRUCTION: message (value)` and a hint line. */
  format(): string {
    const where = this.location
      ? `${this.location.file}${this.location.line ? `:${this.location.line}` : ''}: `
      : '';
    const what = this.instruction ? `${this.instruction}: ` : '';
    const value = this.value !== undefined && !this.message.includes(this.value) ? ` (got ${JSON.stringify(this.value)})` : '';
    const hint = this.hint ? `\n  hint: ${this.hint}` : '';
    return `error: ${where}${what}${this.message}${value}${hint}`;
  }
}

/**
 * Run `work` (sync or async) so that a WasmboxError it throws names this location and instruction
 * where it named none; other errors pass through untouched.
 */
export function locateErrors<T>(location: Location, instruction: string, work: () => T): T {
  const relocate = (err: unknown): never => {
    throw err instanceof WasmboxError ? err.at(location, instruction) : err;
  };
  try {
    const result = work();
    return (result instanceof Promise ? result.catch(relocate) : result) as T;
  } catch (err) {
    return relocate(err);
  }
}

/** Shorthand for throwing a {@link WasmboxError}. */
export function fail(code: string, message: string, details?: ErrorDetails): never {
  throw new WasmboxError(code, message, details);
}

/** The closest candidate to `input` by edit distance, if it is close enough to be a likely typo. */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const needle = input.toLowerCase();
  for (const candidate of candidates) {
    const d = editDistance(needle, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // BuildKit suggests within an edit distance of two; never for a word that short.
  return bestDistance <= 2 && bestDistance < input.length ? best : undefined;
}

/** A hint sentence suggesting the closest candidate, or undefined. */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const match = didYouMean(input, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = row;
  }
  return prev[b.length];
}
