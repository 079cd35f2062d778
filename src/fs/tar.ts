import { WasmboxError } from '../errors.js';
import { Spilled, type FileContent, type Spill } from './spill.js';
import { BLOCK, decodeHeader, foldMeta, isZeroBlock, type Overrides, type RawHeader } from './tar-header.js';

export type { EntryKind } from './tar-header.js';

// Our own streaming reader rather than tar-stream: it runs synchronously over each decompressed chunk
// (no stream or promise per entry), copies a file's bytes straight into one buffer sized from its
// header, skips unwanted files without copying, and knows exactly where a stream ended, so a missing
// end-of-archive marker is accepted while a cut inside an entry is not.

/** One tar entry: header fields and, for a wanted file, its bytes in a buffer of its own or in the spill. */
export interface TarEntry extends RawHeader {
  /** Present for files whose bytes were wanted (always for empty files). */
  data?: FileContent;
}

/** Options of {@link readTar}: which files' bytes to copy out, where to, and how to name the archive in errors. */
export interface ReadTarOptions {
  want?: (entry: TarEntry) => boolean;
  label?: string;
  /** Where wanted files' bytes go, streamed as they arrive, instead of a buffer each (empty files stay {@link EMPTY}). */
  spill?: Spill;
}

const MAX_META = 1 << 20;
/** The bytes of an empty file, shared. */
export const EMPTY = new Uint8Array(0);

/** Read a tar stream to its end, calling `onEntry` for each entry once its data is complete. */
export async function readTar(chunks: AsyncIterable<Uint8Array>, onEntry: (e: TarEntry) => void, opts: ReadTarOptions = {}): Promise<void> {
  const reader = new TarReader(onEntry, opts);
  // Keep draining after the end-of-archive blocks so the layer's digest check reaches EOF.
  for await (const chunk of chunks) reader.push(chunk);
  reader.end();
}

type Phase = 'header' | 'data' | 'meta' | 'pad' | 'end';

/** A push parser over tar bytes; `push` chunks of any size, then `end`. */
export class TarReader {
  private phase: Phase = 'header';
  private readonly block = new Uint8Array(BLOCK);
  private fill = 0;
  private need = 0;
  private entry: TarEntry | undefined;
  private dest: Uint8Array | Spilled | undefined;
  private meta: { type: string; buf: Uint8Array } | undefined;
  private overrides: Overrides = {};
  private zeros = 0;

  constructor(private readonly onEntry: (e: TarEntry) => void, private readonly opts: ReadTarOptions = {}) {}

  /** Feed the next bytes of the archive. */
  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length && this.phase !== 'end') {
      if (this.phase === 'header') off = this.takeHeader(chunk, off);
      else off = this.takeBody(chunk, off);
    }
  }

  /** Signal the end of the bytes; throws if the archive stopped inside an entry. */
  end(): void {
    const where = this.phase === 'data' ? `inside the data of ${this.entry!.name}` : this.phase === 'meta' ? 'inside a long-name or pax header' : undefined;
    if (where) this.truncated(where);
    if (this.phase === 'header' && !isZeroBlock(this.block.subarray(0, this.fill))) this.truncated('inside an entry header');
    if (this.meta || Object.keys(this.overrides).length > 0) this.truncated('after a long-name or pax header, before its entry');
  }

  private takeHeader(chunk: Uint8Array, off: number): number {
    if (this.fill === 0 && chunk.length - off >= BLOCK) {
      this.onHeader(chunk.subarray(off, off + BLOCK));
      return off + BLOCK;
    }
    const n = Math.min(BLOCK - this.fill, chunk.length - off);
    this.block.set(chunk.subarray(off, off + n), this.fill);
    this.fill += n;
    if (this.fill === BLOCK) {
      this.fill = 0;
      this.onHeader(this.block);
    }
    return off + n;
  }

  private takeBody(chunk: Uint8Array, off: number): number {
    const n = Math.min(this.need, chunk.length - off);
    const target = this.phase === 'data' ? this.dest : this.phase === 'meta' ? this.meta!.buf : undefined;
    if (target instanceof Spilled) target.spill.append(chunk.subarray(off, off + n));
    else if (target) target.set(chunk.subarray(off, off + n), target.length - this.need);
    this.need -= n;
    if (this.need === 0) this.finishBody();
    return off + n;
  }

  private finishBody(): void {
    if (this.phase === 'pad') {
      this.phase = 'header';
      return;
    }
    const size = this.phase === 'data' ? this.entry!.size : this.meta!.buf.length;
    if (this.phase === 'data') this.emit(this.dest);
    else this.finishMeta();
    this.startPad(size);
  }

  private startPad(size: number): void {
    this.need = (BLOCK - (size % BLOCK)) % BLOCK;
    this.phase = this.need > 0 ? 'pad' : 'header';
  }

  private onHeader(block: Uint8Array): void {
    if (isZeroBlock(block)) {
      // Two zero blocks end the archive; anything after them is not part of it.
      if (++this.zeros === 2) this.phase = 'end';
      return;
    }
    this.zeros = 0;
    const raw = decodeHeader(block, this.overrides, this.opts.label ?? 'tar archive');
    if ('meta' in raw) return this.startMeta(raw.meta, raw.size);
    this.overrides = {};
    this.startEntry(raw);
  }

  private startMeta(type: string, size: number): void {
    if (size > MAX_META) this.fail('LAYER_FORMAT', `a ${type} header of ${size} bytes is larger than any real one`);
    this.meta = { type, buf: new Uint8Array(size) };
    this.need = size;
    this.phase = size > 0 ? 'meta' : 'header';
    if (size === 0) this.finishMeta();
  }

  private finishMeta(): void {
    const { type, buf } = this.meta!;
    this.meta = undefined;
    this.overrides = foldMeta(this.overrides, type, buf);
  }

  private startEntry(raw: RawHeader): void {
    const entry: TarEntry = { ...raw };
    // Only regular files carry data; other types' size fields are ignored, as Go's reader does.
    if (entry.kind !== 'file' || entry.size === 0) {
      if (entry.kind === 'file') entry.data = EMPTY;
      return this.emit(undefined, entry);
    }
    this.entry = entry;
    this.dest = this.opts.want === undefined || this.opts.want(entry) ? this.allocate(entry) : undefined;
    this.need = entry.size;
    this.phase = 'data';
  }

  private emit(data: FileContent | undefined, entry = this.entry!): void {
    if (data) entry.data = data;
    this.entry = undefined;
    this.dest = undefined;
    this.phase = 'header';
    this.onEntry(entry);
  }

  /** Where one file's bytes go: the next slot of the spill, or a buffer not zero-filled (every byte is about to be written) and not pooled. */
  private allocate(entry: TarEntry): Uint8Array | Spilled {
    const spill = this.opts.spill;
    if (spill) return new Spilled(spill, spill.size, entry.size);
    let buf: Buffer;
    try {
      buf = Buffer.allocUnsafeSlow(entry.size);
    } catch {
      this.fail('LAYER_ENTRY', `entry ${entry.name} declares ${entry.size} bytes, more than one file can hold in memory`);
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, entry.size);
  }

  private truncated(where: string): never {
    this.fail('LAYER_TRUNCATED', `ends ${where}`);
  }

  private fail(code: string, why: string): never {
    const label = this.opts.label ?? 'tar archive';
    throw new WasmboxError(code, `${label} ${why}`, {
      value: label,
      hint: code === 'LAYER_TRUNCATED' ? 'the layer blob is incomplete; download or rebuild the image again' : 'the layer is not a valid tar archive',
    });
  }
}

