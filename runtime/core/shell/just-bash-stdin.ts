// The shell's own stdin, read only when a command reads it (the stdin half of the just-bash adapter).
//
// just-bash takes a script's stdin as one string when the script starts, and hands each command the
// part it inherits as a string too. Reading all of a live input (a terminal, a pipe left open) before
// the script starts would make every script wait for the end of input, even one that never reads it.
// So unless the interpreter itself may read it (`read`, `mapfile`: see just-bash-ast.ts), just-bash is
// given a marker string in its place, random and unlike any real input. A command whose stdin is the
// marker gets the live input instead: a program the script launches reads it as it runs, and a built-in
// command gets a context whose `stdin` reads all of it the first time the command asks (just-bash's own
// context is built the same way, with a getter). Whatever one command read is gone for the next, as in
// a real shell.
//
// One just-bash quirk needs care: a command whose input is redirected from an empty file (`< /dev/null`)
// is handed the inherited stdin instead of nothing. The redirection reads that file through our
// filesystem just before the command starts, so an empty read since the last command began or ended
// means "this command's stdin is empty", not the live input. (An empty file the script itself reads
// right before a command, as in `v=$(< empty) cmd`, is taken for such a redirection too: that command
// then reads end of input.) Runtime code: web-standard APIs only.
import { latin1FromBytes, unsafeBytesFromLatin1, type ByteString, type ResolvedCommandContext } from 'just-bash';
import type { InputSource } from '../process.js';
import { bytesOf, latin1 } from './encoding.js';
import { inputBytes, type ShellInput } from './input.js';
import { readsShellStdin, type SourceReader } from './just-bash-ast.js';

/** Live inputs standing behind marker strings, for one shell. */
export class LazyStdin {
  private readonly markers = new Map<string, InputSource>();
  private emptyRead = false;

  /** What to give just-bash as the stdin of `script`: bytes as they are; live input as a marker, or read
   *  up front (to its end) when the interpreter itself may read it. */
  forScript(input: ShellInput, script: string, source: SourceReader): string {
    if (input instanceof Uint8Array) return latin1(input);
    if (readsShellStdin(script, source)) return latin1(inputBytes(input));
    for (const [marker, live] of this.markers) if (live === input) return marker;
    const random = crypto.getRandomValues(new Uint8Array(12));
    const marker = `\0wasmbox-stdin-${Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('')}\0`;
    this.markers.set(marker, input);
    return marker;
  }

  /** The filesystem read an empty file (maybe a redirection's: see the top of this file). */
  readEmpty(): void {
    this.emptyRead = true;
  }

  /** A command starts: its stdin as just-bash handed it, bytes or the live input behind a marker. */
  enter(ctx: ResolvedCommandContext): ShellInput {
    const live = this.live(ctx);
    const redirectedEmpty = this.emptyRead;
    this.emptyRead = false;
    if (live) return redirectedEmpty ? new Uint8Array(0) : live;
    return bytesOf(latin1FromBytes(ctx.stdin));
  }

  /** A command has ended: what it read is no redirection of the next one. */
  leave(): void {
    this.emptyRead = false;
  }

  /** Whether just-bash handed this command a marker (so its own context's stdin must not be used). */
  isMarked(ctx: ResolvedCommandContext): boolean {
    return this.live(ctx) !== undefined;
  }

  /** `ctx` for running a bundled built-in command directly with `stdin` (from `enter`): live input is
   *  read when the command first asks for its stdin. */
  context(ctx: ResolvedCommandContext, stdin: ShellInput): ResolvedCommandContext {
    const marked = this.isMarked(ctx);
    // A custom command gets a restricted budget; just-bash's origCommand swaps in the full one, which
    // some commands need (find's appendOutput) and we cannot reach. Without one, built-ins fall back to
    // their own limits, as they do when called outside the interpreter.
    const restricted = ctx.executionScope !== undefined && typeof (ctx.executionScope as { appendOutput?: unknown }).appendOutput !== 'function';
    if (!marked && !restricted) return ctx;
    const descriptors = Object.getOwnPropertyDescriptors(ctx);
    if (restricted) delete (descriptors as { executionScope?: PropertyDescriptor }).executionScope;
    if (marked) {
      let bytes: ByteString | undefined;
      const read = (): ByteString => (bytes ??= unsafeBytesFromLatin1(latin1(inputBytes(stdin))));
      descriptors.stdin = { get: read, enumerable: true, configurable: true };
    }
    return Object.defineProperties(Object.create(Object.getPrototypeOf(ctx) as object | null), descriptors) as ResolvedCommandContext;
  }

  private live(ctx: ResolvedCommandContext): InputSource | undefined {
    return this.markers.size === 0 ? undefined : this.markers.get(latin1FromBytes(ctx.stdin));
  }
}
