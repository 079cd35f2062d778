/**
 * Boxes for the exec and shell tests, built in memory: a Vfs from a table of paths, and a way to launch a
 * process in it and collect what it printed, its exit code and what wasmbox logged.
 */
import { launch } from '../../../runtime/core/exec.js';
import { bufferInput, collectOutput } from '../../../runtime/core/process.js';
import { Vfs } from '../../../runtime/core/vfs.js';

/** One path of a test box: file bytes (text or binary) with a mode, a symlink, or a directory. */
export type BoxEntry = { file: string | Uint8Array; mode?: number } | { symlink: string } | { dir: true; mode?: number };

/** Bytes that look like each native format a box cannot run. */
export const NATIVE = {
  elf: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]),
  machoBE64: new Uint8Array([0xfe, 0xed, 0xfa, 0xcf, 0, 0, 0, 7]),
  machoLE64: new Uint8Array([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]),
  machoLE32: new Uint8Array([0xce, 0xfa, 0xed, 0xfe, 7, 0, 0, 0]),
  fat: new Uint8Array([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]),
  fatLE: new Uint8Array([0xbe, 0xba, 0xfe, 0xca, 2, 0, 0, 0]),
  pe: new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]),
};

/** The PATH docker gives a container whose image sets none. */
export const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A Vfs holding exactly `entries` (parents created as 0755 directories). */
export function makeBox(entries: Record<string, BoxEntry>): Vfs {
  const vfs = Vfs.empty();
  for (const [path, entry] of Object.entries(entries)) {
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    vfs.mkdir(parent, { recursive: true });
    if ('symlink' in entry) vfs.symlink(entry.symlink, path);
    else if ('dir' in entry) vfs.mkdir(path, { recursive: true, mode: entry.mode ?? 0o755 });
    else vfs.writeFile(path, typeof entry.file === 'string' ? new TextEncoder().encode(entry.file) : entry.file, { mode: entry.mode ?? 0o755 });
  }
  return vfs;
}

/** What a finished process left: exit code, output as text, and wasmbox's log lines. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  log: string[];
}

/** Launch `argv` in `vfs` (PATH as docker's default unless `env` says otherwise) and collect everything. */
export async function runIn(vfs: Vfs, argv: string[], options: { env?: string[]; cwd?: string; stdin?: string } = {}): Promise<Ran> {
  const out = collectOutput();
  const err = collectOutput();
  const log: string[] = [];
  const code = await launch({
    argv,
    env: options.env ?? [`PATH=${PATH}`, 'HOME=/root'],
    cwd: options.cwd ?? '/',
    vfs,
    stdin: bufferInput(new TextEncoder().encode(options.stdin ?? '')),
    stdout: out.sink,
    stderr: err.sink,
    log: (m) => log.push(m),
  });
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  return { code, stdout: text(out.bytes()), stderr: text(err.bytes()), log };
}

/** The text of a file in the box. */
export function readText(vfs: Vfs, path: string): string {
  const node = vfs.get(path);
  if (!('bytes' in node)) throw new Error(`${path} is not a file`);
  return new TextDecoder().decode((node as { bytes(): Uint8Array }).bytes());
}
