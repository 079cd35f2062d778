// What an executable file is, told from its first bytes the way a kernel's binfmt handlers tell it (the
// extension and the mode do not matter), and the kernel's rules for a `#!` line. Runtime code:
// web-standard APIs only.
import { adapterOf } from '../adapters/index.js';

/** The native binary formats a box cannot run, by the names users know them by. */
export type NativeFormat = 'ELF' | 'Mach-O' | 'PE';

/** What a file's first bytes say it is. */
export type FileFormat =
  | { kind: 'wasm' }
  | { kind: 'adapter'; adapter: string }
  | { kind: 'script'; interpreter: string; arg?: string }
  | { kind: 'native'; format: NativeFormat }
  /** Text without a `#!` line: the kernel refuses it (ENOEXEC); a shell runs it as a shell script. */
  | { kind: 'text' }
  /** Bytes in no format we know (a NUL early on): nothing can run it. */
  | { kind: 'binary' };

/** How many bytes sniffing needs: the kernel reads this much for a `#!` line (BINPRM_BUF_SIZE). */
export const SNIFF_BYTES = 256;

const MACHO_MAGICS = [0xfeedface, 0xfeedfacf, 0xcafebabe];

/** Classify an executable by its first bytes (pass at least SNIFF_BYTES when the file has them). */
export function sniffFormat(head: Uint8Array): FileFormat {
  if (startsWith(head, [0x00, 0x61, 0x73, 0x6d])) return { kind: 'wasm' };
  const adapter = adapterOf(head);
  if (adapter !== undefined) return { kind: 'adapter', adapter };
  if (startsWith(head, [0x23, 0x21])) return { kind: 'script', ...parseShebang(head) };
  const native = nativeFormat(head);
  if (native) return { kind: 'native', format: native };
  // Bash's own test for "cannot execute binary file": a NUL byte in the first line.
  const lineEnd = head.indexOf(0x0a);
  return head.subarray(0, lineEnd < 0 ? 80 : lineEnd).includes(0) ? { kind: 'binary' } : { kind: 'text' };
}

/** The interpreter and its one optional argument from a `#!` line, split the way Linux splits it. */
export function parseShebang(head: Uint8Array): { interpreter: string; arg?: string } {
  const end = head.indexOf(0x0a);
  // One char per byte while splitting, so no byte is lost; names are decoded as UTF-8 afterwards.
  const line = String.fromCharCode(...head.subarray(2, end < 0 ? head.byteLength : end));
  // Linux: skip blanks, the interpreter runs to the next blank, and the whole rest (trimmed, not split) is one argument.
  const text = line.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
  const gap = text.search(/[ \t]/);
  if (gap < 0) return { interpreter: decodeLatin1Utf8(text) };
  const arg = text.slice(gap).replace(/^[ \t]+/, '');
  return { interpreter: decodeLatin1Utf8(text.slice(0, gap)), arg: decodeLatin1Utf8(arg) };
}

function nativeFormat(head: Uint8Array): NativeFormat | undefined {
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46])) return 'ELF';
  if (head.byteLength >= 4) {
    const big = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
    const little = ((head[3] << 24) | (head[2] << 16) | (head[1] << 8) | head[0]) >>> 0;
    if (MACHO_MAGICS.includes(big) || MACHO_MAGICS.includes(little)) return 'Mach-O';
  }
  if (startsWith(head, [0x4d, 0x5a])) return 'PE';
  return undefined;
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.byteLength >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** Shebang lines are bytes; paths in the box are UTF-8, so decode them as such when they are valid. */
function decodeLatin1Utf8(latin1: string): string {
  const bytes = Uint8Array.from(latin1, (c) => c.charCodeAt(0));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return latin1;
  }
}
