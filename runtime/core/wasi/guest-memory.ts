// Views of a guest's linear memory that are made once and remade only when the memory grows (growing
// detaches the old ArrayBuffer), so syscalls do not allocate a DataView each. Runtime code: web-standard APIs only.
import { wasi } from '@bjorn3/browser_wasi_shim';
import { FileNode, SymlinkNode, type Inode } from '../vfs.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Called when the memory has grown; may throw to end the run (the soft memory limit does). */
export type GrowthCheck = (byteLength: number) => void;

/** Cached views of one guest memory. */
export class GuestMemory {
  private buffer: ArrayBuffer | undefined;
  private dv!: DataView;
  private u8!: Uint8Array;

  constructor(readonly memory: WebAssembly.Memory, private readonly onGrow?: GrowthCheck) {}

  /** A DataView of the whole memory, current after any growth. */
  get view(): DataView {
    if (this.memory.buffer !== this.buffer) this.refresh();
    return this.dv;
  }

  /** A byte view of the whole memory, current after any growth. */
  get bytes(): Uint8Array {
    if (this.memory.buffer !== this.buffer) this.refresh();
    return this.u8;
  }

  /** The UTF-8 string at `ptr` (invalid sequences become U+FFFD); RangeError when it lies outside memory. */
  string(ptr: number, len: number): string {
    const bytes = this.bytes;
    if (ptr + len > bytes.byteLength) throw new RangeError('string outside guest memory');
    return decoder.decode(bytes.subarray(ptr, ptr + len));
  }

  /** Write `s` and a NUL at `ptr`; returns the bytes written, NUL included. */
  writeCString(ptr: number, s: string): number {
    const { written } = encoder.encodeInto(s, this.bytes.subarray(ptr));
    this.bytes[ptr + written] = 0;
    return written + 1;
  }

  private refresh(): void {
    this.buffer = this.memory.buffer as ArrayBuffer;
    this.dv = new DataView(this.buffer);
    this.u8 = new Uint8Array(this.buffer);
    this.onGrow?.(this.buffer.byteLength);
  }
}

/** Every box node reports device 1; preview1 has no field for a distinct device per mount. */
const BOX_DEVICE = 1n;

/** The preview1 file type of a node. */
export function filetypeOf(node: Inode): number {
  switch (node.kind) {
    case 'file': return wasi.FILETYPE_REGULAR_FILE;
    case 'dir': return wasi.FILETYPE_DIRECTORY;
    case 'symlink': return wasi.FILETYPE_SYMBOLIC_LINK;
    default: return wasi.FILETYPE_UNKNOWN;
  }
}

/**
 * Write a preview1 `filestat` (64 bytes) for `node`, or for a stream (stdio) when `node` is undefined.
 * Preview1's filestat has no mode, uid or gid fields: permission bits and ownership from the image are
 * invisible to guests (wasi-libc's stat reports mode from the file type only, and uid/gid 0).
 */
export function writeFilestat(view: DataView, ptr: number, node: Inode | undefined, streamType = wasi.FILETYPE_UNKNOWN): void {
  view.setBigUint64(ptr, node ? BOX_DEVICE : 0n, true);
  view.setBigUint64(ptr + 8, BigInt(node?.ino ?? 0), true);
  view.setUint8(ptr + 16, node ? filetypeOf(node) : streamType);
  view.setBigUint64(ptr + 24, BigInt(node?.nlink ?? 1), true);
  view.setBigUint64(ptr + 32, BigInt(sizeOf(node)), true);
  view.setBigUint64(ptr + 40, node?.atime ?? 0n, true);
  view.setBigUint64(ptr + 48, node?.mtime ?? 0n, true);
  view.setBigUint64(ptr + 56, node?.ctime ?? 0n, true);
}

/** Bytes for files; a symlink's size is the byte length of its target, as lstat reports it. */
function sizeOf(node: Inode | undefined): number {
  if (node instanceof FileNode) return node.size;
  if (node instanceof SymlinkNode) return encoder.encode(node.target).byteLength;
  return 0;
}
