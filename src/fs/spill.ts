import { closeSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WasmboxError } from '../errors.js';

// A flatten keeps every file of an image; holding their bytes on the JS heap made a build's peak RSS
// twice the image's file bytes. A spill is one append-only temporary file those bytes go to instead:
// reading them back costs a pread from the page cache, which the kernel can drop, not process memory.
// The file is unlinked (and its private directory removed) as soon as it is open, so it lives only as
// long as its descriptor: nothing is left behind when the process exits, fails or is killed, and two
// builds never share one. Where unlinking an open file is refused (Windows), it is removed at exit.

const WRITE_BUFFER = 1 << 20;
const pendingRemoval = new Set<string>();
const closer = new FinalizationRegistry<number>((fd) => closeQuietly(fd));

/** An append-only temporary file holding file bytes; its slots ({@link Spilled}) read them back on demand. */
export class Spill {
  private fd: number;
  private readonly path: string | undefined;
  private readonly pending = Buffer.allocUnsafeSlow(WRITE_BUFFER);
  private fill = 0;
  private flushed = 0;

  /** Create a spill in a new private directory under `dir` (default: the OS temp directory). */
  constructor(private readonly dir: string = tmpdir()) {
    let path: string | undefined;
    try {
      path = join(mkdtempSync(join(dir, 'wasmbox-spill-')), 'bytes');
      this.fd = openSync(path, 'wx+', 0o600);
    } catch (err) {
      if (path) tryTo(() => rmdirSync(dirname(path!)));
      throw spillError('SPILL_CREATE', `cannot create a temporary file under ${dir} for the image's file bytes: ${(err as Error).message}`, dir, err);
    }
    this.path = removeNow(path) ? undefined : path;
    closer.register(this, this.fd, this);
  }

  /** Bytes appended so far. */
  get size(): number {
    return this.flushed + this.fill;
  }

  /** Whether {@link close} was called; a closed spill's slots cannot be read. */
  get closed(): boolean {
    return this.fd < 0;
  }

  /** Append bytes at the end (buffered; big chunks are written through without a copy). */
  append(bytes: Uint8Array): void {
    this.check();
    if (bytes.byteLength >= WRITE_BUFFER / 2 || this.fill + bytes.byteLength > WRITE_BUFFER) this.flush();
    if (bytes.byteLength >= WRITE_BUFFER / 2) return this.writeAt(bytes);
    this.pending.set(bytes, this.fill);
    this.fill += bytes.byteLength;
  }

  /** Fill `into` with the bytes at `offset`; returns `into`. */
  readInto(offset: number, into: Uint8Array): Uint8Array {
    this.check();
    if (offset + into.byteLength > this.flushed) this.flush();
    for (let done = 0; done < into.byteLength; ) {
      const n = readSync(this.fd, into, done, into.byteLength - done, offset + done);
      if (n === 0) throw new WasmboxError('SPILL_READ', `the build's temporary file ended early at byte ${offset + done}`, { hint: 'another process may have truncated it; run the build again' });
      done += n;
    }
    return into;
  }

  /** Close the file, which frees its disk space; reading a slot afterwards throws SPILL_CLOSED. */
  close(): void {
    if (this.fd < 0) return;
    closer.unregister(this);
    closeQuietly(this.fd);
    this.fd = -1;
    if (this.path) removeNow(this.path);
  }

  private flush(): void {
    if (this.fill === 0) return;
    const n = this.fill;
    this.fill = 0;
    this.writeAt(this.pending.subarray(0, n));
  }

  private writeAt(bytes: Uint8Array): void {
    try {
      for (let done = 0; done < bytes.byteLength; ) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, this.flushed + done);
    } catch (err) {
      throw spillError('SPILL_WRITE', `cannot write the image's file bytes to a temporary file in ${this.dir}: ${(err as Error).message}`, this.dir, err);
    }
    this.flushed += bytes.byteLength;
  }

  private check(): void {
    if (this.fd < 0) throw new WasmboxError('SPILL_CLOSED', 'file bytes of a tree whose build was abandoned were read after its temporary file was closed', { hint: 'this is a bug in wasmbox; please report it' });
  }
}

/** One file's bytes in a spill: where they are and how many. Immutable, so trees share it like a Uint8Array. */
export class Spilled {
  constructor(readonly spill: Spill, readonly offset: number, readonly byteLength: number) {}

  /** The bytes, read into a new buffer. */
  read(): Uint8Array {
    const buf = Buffer.allocUnsafeSlow(this.byteLength);
    return this.spill.readInto(this.offset, new Uint8Array(buf.buffer, buf.byteOffset, this.byteLength));
  }
}

/** A regular file's content: bytes in memory, or a slot in a spill. Both say their size as `byteLength`. */
export type FileContent = Uint8Array | Spilled;

/** The bytes of a content: itself when in memory, else read from its spill (a new buffer each call). */
export function contentBytes(content: FileContent): Uint8Array {
  return content instanceof Spilled ? content.read() : content;
}

/** The bytes of a content in pieces of at most `scratch`'s size, each valid until the next is taken. */
export function* contentChunks(content: FileContent, scratch: Uint8Array): Generator<Uint8Array> {
  if (!(content instanceof Spilled)) {
    yield content;
    return;
  }
  for (let at = 0; at < content.byteLength; at += scratch.byteLength) {
    const n = Math.min(scratch.byteLength, content.byteLength - at);
    yield content.spill.readInto(content.offset + at, scratch.subarray(0, n));
  }
}

/** Unlink a spill file and its directory; false when the platform refuses, so they are removed at exit instead. */
function removeNow(path: string): boolean {
  const removed = tryTo(() => unlinkSync(path));
  if (removed) {
    pendingRemoval.delete(path);
    tryTo(() => rmdirSync(dirname(path)));
    return true;
  }
  if (pendingRemoval.size === 0) process.once('exit', removeAll);
  pendingRemoval.add(path);
  return false;
}

function removeAll(): void {
  for (const path of pendingRemoval) {
    tryTo(() => unlinkSync(path));
    tryTo(() => rmdirSync(dirname(path)));
  }
}

function tryTo(step: () => void): boolean {
  try {
    step();
    return true;
  } catch {
    return false;
  }
}

function spillError(code: string, message: string, dir: string, cause: unknown): WasmboxError {
  return new WasmboxError(code, message, { value: dir, hint: 'free some space there, or set TMPDIR to a writable directory with room for the image', cause });
}

function closeQuietly(fd: number): void {
  tryTo(() => closeSync(fd));
}
