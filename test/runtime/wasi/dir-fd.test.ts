// readdir over a directory fd: cookies index one snapshot per listing, so reading a huge directory
// through a buffer that holds one entry at a time still walks the directory once.
import { describe, expect, it, vi } from 'vitest';
import { DirNode, Vfs } from '../../../runtime/core/vfs.js';
import { DirFd } from '../../../runtime/core/wasi/dir-fd.js';
import { ALL_RIGHTS } from '../../../runtime/core/wasi/errno.js';
import { GuestMemory } from '../../../runtime/core/wasi/guest-memory.js';

/** Read the whole directory through a `bufLen`-byte buffer; returns the names in order and the calls made. */
function readAll(fd: DirFd, mem: GuestMemory, bufLen: number): { names: string[]; calls: number } {
  const names: string[] = [];
  let cookie = 0n;
  let calls = 0;
  for (;;) {
    calls++;
    const used = fd.readdir(mem, 0, bufLen, cookie);
    let at = 0;
    // Only complete entries count; a cut-short one is read again from its cookie with the next call.
    while (at + 24 <= used) {
      const namlen = mem.view.getUint32(at + 16, true);
      if (at + 24 + namlen > used) break;
      names.push(mem.string(at + 24, namlen));
      cookie = mem.view.getBigUint64(at, true);
      at += 24 + namlen;
    }
    if (used < bufLen) return { names, calls };
  }
}

describe('DirFd.readdir', () => {
  const vfs = Vfs.empty();
  const dir = vfs.mkdir('/many');
  for (let i = 0; i < 20000; i++) vfs.writeFile(`/many/f${i}`, new Uint8Array());
  const mem = new GuestMemory(new WebAssembly.Memory({ initial: 1 }));
  const open = () => new DirFd(vfs, dir, { uid: 0, gid: 0 }, ALL_RIGHTS, ALL_RIGHTS);

  it.each([64, 4096])('lists 20000 entries plus . and .. through a %i-byte buffer, walking the directory once', (bufLen) => {
    const entries = vi.spyOn(DirNode.prototype, 'entries');
    const start = performance.now();
    const { names, calls } = readAll(open(), mem, bufLen);
    console.log(`readdir of 20002 entries through ${bufLen}-byte buffers: ${calls} calls, ${(performance.now() - start).toFixed(1)} ms`);
    expect(names.length).toBe(20002);
    expect(names.slice(0, 3)).toEqual(['.', '..', 'f0']);
    expect(names[20001]).toBe('f19999');
    expect(entries).toHaveBeenCalledTimes(1);
    entries.mockRestore();
  });

  it('takes a fresh snapshot when the guest starts over (rewinddir asks for cookie 0)', () => {
    const fd = open();
    readAll(fd, mem, 4096);
    vfs.writeFile('/many/late', new Uint8Array());
    expect(readAll(fd, mem, 4096).names).toContain('late');
  });

  it('reports a buffer too small for one entry as full, with the header cut short', () => {
    const used = open().readdir(mem, 0, 10, 0n);
    expect(used).toBe(10);
    expect(mem.view.getBigUint64(0, true)).toBe(1n);
  });
});
