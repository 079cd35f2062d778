// Running a built-in interpreter over an in-memory box filesystem and keeping what it printed.
import { runAdapter } from '../../../runtime/core/adapters/index.js';
import { bufferInput } from '../../../runtime/core/process.js';
import { FileNode, Vfs } from '../../../runtime/core/vfs.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One process to run: argv and, optionally, its box, stdin, env and cwd. */
export interface RunInput {
  argv: string[];
  files?: Record<string, string>;
  vfs?: Vfs;
  stdin?: string | Uint8Array;
  env?: string[];
  cwd?: string;
}

/** What a process did: its exit code, its output (whole and as the sink saw it), and its box. */
export interface RunOutput {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
  /** Every chunk in arrival order, tagged with its stream. */
  chunks: { stream: 'out' | 'err'; text: string }[];
  vfs: Vfs;
}

/** The environment a box process gets when a test names none. */
export const DEFAULT_ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root'];

/** Run the adapter `name` on a box made of `files` (or the given Vfs). */
export async function runIn(name: string, input: RunInput): Promise<RunOutput> {
  const vfs = input.vfs ?? Vfs.empty();
  for (const [path, text] of Object.entries(input.files ?? {})) {
    vfs.mkdir(path.slice(0, path.lastIndexOf('/')) || '/', { recursive: true });
    vfs.writeFile(path, enc.encode(text));
  }
  const chunks: RunOutput['chunks'] = [];
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const stdin = typeof input.stdin === 'string' ? enc.encode(input.stdin) : (input.stdin ?? new Uint8Array(0));
  const code = await runAdapter(name, {
    argv: input.argv, env: input.env ?? DEFAULT_ENV, cwd: input.cwd ?? '/', vfs, stdin: bufferInput(stdin),
    stdout: (b) => (out.push(b.slice()), chunks.push({ stream: 'out', text: dec.decode(b) })),
    stderr: (b) => (err.push(b.slice()), chunks.push({ stream: 'err', text: dec.decode(b) })),
  });
  const stdoutBytes = concat(out);
  return { code, stdout: dec.decode(stdoutBytes), stderr: dec.decode(concat(err)), stdoutBytes, chunks, vfs };
}

/** The text of a box file. */
export function readText(vfs: Vfs, path: string): string {
  const node = vfs.get(path);
  if (!(node instanceof FileNode)) throw new Error(`${path} is not a file`);
  return dec.decode(node.bytes());
}

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) all.set(p, (at += p.byteLength) - p.byteLength);
  return all;
}
