// Turning what a trapping guest throws (a WebAssembly.RuntimeError, or V8's RangeError for a blown call
// stack) into a GuestError that says what happened in words, without a JS stack trace.
// Runtime code: web-standard APIs only.
import { GuestError, MEMORY_EXIT_CODE, TRAP_EXIT_CODE, mib } from './guest-error.js';

/** V8's trap messages, and what they usually mean in the guest's own terms. */
const TRAPS: [RegExp, string][] = [
  [/^unreachable/, 'it executed `unreachable` (abort(), a failed assertion or a panic)'],
  [/memory access out of bounds/, 'it accessed memory out of bounds'],
  [/(divide|remainder) by zero/, 'it divided an integer by zero'],
  [/integer overflow/, 'integer overflow in a division'],
  [/float unrepresentable|invalid conversion/, 'it converted an out-of-range float to an integer'],
  [/null function|signature mismatch|table index is out of bounds|indirect call/, 'it called through an invalid function pointer'],
  [/call stack|stack overflow/i, 'its call stack overflowed (runaway recursion?)'],
];

/** A guest that used at least this share of its memory limit before trapping most likely ran out of it. */
const NEAR_LIMIT = 7 / 8;

/**
 * The GuestError for a trap, or `err` unchanged when it is not one (a host bug must surface as is).
 * With a memory limit and a memory nearly full, the trap is reported as running out of memory: a guest
 * whose malloc fails usually aborts (Rust's alloc error handler and C++'s bad_alloc both do).
 */
export function describeTrap(err: unknown, program: string, memory: WebAssembly.Memory, limit: number | undefined): unknown {
  if (err instanceof GuestError) return err;
  const isTrap = err instanceof WebAssembly.RuntimeError || (err instanceof RangeError && /call stack/i.test(err.message));
  if (!isTrap) return err;
  const message = (err as Error).message;
  const what = TRAPS.find(([re]) => re.test(message))?.[1] ?? `WebAssembly trap "${message}"`;
  const where = wasmFunction((err as Error).stack);
  const used = memory.buffer.byteLength;
  if (limit !== undefined && used >= limit * NEAR_LIMIT) {
    return new GuestError(
      `${program} ran out of memory: it had used ${mib(used)} of its ${mib(limit)} memory limit when it trapped ("${message}"); raise the limit (--memory)`,
      'memory',
      MEMORY_EXIT_CODE,
    );
  }
  return new GuestError(`${program} crashed: ${what}${where ? ` in function ${where}` : ''}`, 'trap', TRAP_EXIT_CODE);
}

/** The name of the innermost named wasm function in a V8 stack, e.g. "main". */
function wasmFunction(stack: string | undefined): string | undefined {
  const match = stack?.match(/^\s*at (\S+) \(wasm:\/\//m);
  return match?.[1];
}
