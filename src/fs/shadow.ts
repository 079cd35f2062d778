import type { TarEntry } from './tar.js';
import { OPAQUE, WHITEOUT } from './apply.js';
import { relativePath } from './tree.js';

const ALL = 1;
const BELOW = 2;

/**
 * What upper layers hide from lower ones, by lexical path. Reading layers newest first, it says which
 * files' bytes can be skipped because nothing will ever show them, so a flatten never holds bytes that
 * a later layer deletes. It is only an estimate (a symlinked parent can move a path), which is why the
 * flattener replays every entry with the exact rules and re-reads the rare file it guessed wrong.
 */
export class Shadow {
  // ALL hides the path and everything below it; BELOW (an opaque directory) only what is below it.
  private readonly marks = new Map<string, number>();
  private readonly pending: Array<[string, number]> = [];
  // Hardlink targets: their bytes may be needed even where the path itself is hidden.
  private readonly wanted = new Set<string>();

  /** Note what an entry of the current layer hides from the layers below it. */
  note(e: TarEntry): void {
    const key = keyOf(e.name);
    const slash = key.lastIndexOf('/');
    const base = key.slice(slash + 1);
    const dir = slash < 0 ? '' : key.slice(0, slash);
    if (base === OPAQUE) this.pending.push([dir, BELOW]);
    else if (base.startsWith(WHITEOUT + WHITEOUT)) return;
    else if (base.startsWith(WHITEOUT)) this.pending.push([(dir ? dir + '/' : '') + base.slice(WHITEOUT.length), ALL]);
    else if (e.kind !== 'dir') this.pending.push([key, ALL]);
    if (e.kind === 'link') this.wanted.add(keyOf(e.linkname));
  }

  /** Whether a file entry of the current layer may show in the result (or back a hardlink). */
  visible(e: TarEntry): boolean {
    const key = keyOf(e.name);
    if (this.wanted.has(key)) return true;
    if (this.marks.get(key) === ALL || this.marks.has('')) return false;
    for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) {
      if (this.marks.has(key.slice(0, i))) return false;
    }
    return true;
  }

  /** Close the current layer: what it hides now applies to every layer below. */
  endLayer(): void {
    for (const [key, mark] of this.pending) if (mark === ALL || !this.marks.has(key)) this.marks.set(key, mark);
    this.pending.length = 0;
  }
}

const keyOf = relativePath;
