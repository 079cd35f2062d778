// A command's stdin inside the built-in shell: bytes it was given (a pipe, a redirection, input the shell
// read up front), or the shell's own input, still unread, which a program launched from the script reads
// as it runs and a built-in command reads only when it wants its stdin. Runtime code: web-standard APIs only.
import { bufferInput, type InputSource } from '../process.js';

/** A command's stdin in the shell: bytes, or the shell's own (live) input source. */
export type ShellInput = Uint8Array | InputSource;

const CHUNK = 65536;

/** All of `input`: for a live source, everything up to its end (this waits for the end). */
export function inputBytes(input: ShellInput): Uint8Array {
  if (input instanceof Uint8Array) return input;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let chunk = input.read(CHUNK); chunk.byteLength > 0; chunk = input.read(CHUNK)) {
    chunks.push(chunk.slice());
    total += chunk.byteLength;
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}

/** `input` as a source a program reads from while it runs. */
export function inputSource(input: ShellInput): InputSource {
  return input instanceof Uint8Array ? bufferInput(input) : input;
}
