// The guest's fd table. It is the shim's own `fds` array (so the shim's remaining syscalls see the same
// table), with the slot reuse the shim lacks: its path_open always appends, so a guest that opens and
// closes files in a loop grows the table forever. Runtime code: web-standard APIs only.
import type { Fd } from '@bjorn3/browser_wasi_shim';
import type { GuestMemory } from './guest-memory.js';
import type { BoxFd } from './fds.js';
import type { GuestClock } from './clock.js';

/** More open files than this and path_open fails with EMFILE, as a process hits its fd limit. */
export const MAX_FDS = 1 << 16;

/** The open fds, by number. */
export class FdTable {
  /** No free slot below this index (a hint that keeps allocation amortised O(1)). */
  private lowestFree = 0;

  constructor(private readonly list: (Fd | undefined)[]) {}

  get(fd: number): BoxFd | undefined {
    return this.list[fd] as BoxFd | undefined;
  }

  /** Put `fd` in the lowest free slot, as POSIX open does; -1 when the table is full. */
  add(fd: BoxFd): number {
    let n = this.lowestFree;
    while (n < this.list.length && this.list[n] !== undefined) n++;
    if (n >= MAX_FDS) return -1;
    this.list[n] = fd;
    this.lowestFree = n + 1;
    return n;
  }

  /** Close `fd`, freeing its slot. */
  close(fd: number): number {
    const open = this.get(fd);
    if (!open) return -1;
    this.list[fd] = undefined;
    if (fd < this.lowestFree) this.lowestFree = fd;
    return open.fd_close();
  }

  /** fd_renumber: move `from` onto `to`, closing what `to` held. Both must be open (wasmtime agrees). */
  renumber(from: number, to: number): boolean {
    const moving = this.get(from);
    if (!moving || !this.get(to)) return false;
    if (from === to) return true;
    this.close(to);
    this.list[to] = moving;
    this.list[from] = undefined;
    if (from < this.lowestFree) this.lowestFree = from;
    return true;
  }
}

/** What the syscall implementations work on for one run. */
export interface Guest {
  /** The guest's memory views; set once the instance exists, before any guest code runs. */
  mem: GuestMemory;
  fds: FdTable;
  clock: GuestClock;
  /** Called when wasi-libc's preopen scan reaches the first fd that is not a preopen. */
  onPreopensListed?: () => void;
}
