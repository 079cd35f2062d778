// How a guest run can end other than by exiting. Runtime code: web-standard APIs only.

/** Why a guest ended abnormally: a trap (unreachable, out-of-bounds access, stack exhausted...) or its memory limit. */
export type GuestErrorKind = 'trap' | 'memory';

/** The exit code a trap stands for: 128 + SIGABRT, what a shell shows for a native program that aborts. */
export const TRAP_EXIT_CODE = 134;
/** The exit code for a guest stopped by its memory limit: 128 + SIGKILL, what docker shows for an OOM kill. */
export const MEMORY_EXIT_CODE = 137;

/**
 * A guest that ended abnormally. runWasi rejects with it; hosts print `message` (no stack trace: it says
 * what happened, to which program and what to do) and exit with `exitCode`.
 */
export class GuestError extends Error {
  constructor(message: string, readonly kind: GuestErrorKind, readonly exitCode: number) {
    super(message);
    this.name = 'GuestError';
  }
}

/** A byte count in MiB with one decimal, for messages. */
export function mib(bytes: number): string {
  return `${Math.round((bytes / 1048576) * 10) / 10} MiB`;
}
