// The WASI preview1 imports ruby.wasm runs on: the engine's own syscall layer (runtime/core/wasi) over the
// box Vfs, set up for a reactor (`_initialize`, then calls into the VM) instead of a command (`_start`).
//
// ruby+stdlib.wasm carries its stdlib and gems inside (wasi-vfs): it answers every path under /usr and
// /bundle itself and passes the rest to these imports. wasi-libc sends a path to the preopen with the
// longest matching name, so each box directory directly under /usr, /usr/local, /usr/local/lib and
// /bundle is preopened under its own name (/usr/src, /usr/local/bundle, ...): those box paths win over
// the packed tree, which keeps only /usr/local/lib/ruby for itself. Runtime code: web-standard APIs only.
import { WASI, type Fd } from '@bjorn3/browser_wasi_shim';
import type { ProcessSpec } from '../process.js';
import { DirNode, type Vfs } from '../vfs.js';
import { GuestClock } from '../wasi/clock.js';
import { DirFd } from '../wasi/dir-fd.js';
import { ALL_RIGHTS } from '../wasi/errno.js';
import { FdTable, type Guest } from '../wasi/fd-table.js';
import { InputFd, OutputFd } from '../wasi/fds.js';
import { GuestMemory } from '../wasi/guest-memory.js';
import { installSyscalls } from '../wasi/syscalls.js';

/** A WASI implementation in the shape @ruby/wasm-wasi takes (`wasip1`). */
export interface ReactorWasi {
  wasiImport: WebAssembly.ModuleImports;
  initialize(instance: WebAssembly.Instance): void;
}

/** The directories ruby.wasm serves from its packed files, and which of their entries it keeps. */
const PACKED: readonly [string, readonly string[]][] = [
  ['/usr', ['local']],
  ['/usr/local', ['lib']],
  ['/usr/local/lib', ['ruby']],
  ['/bundle', []],
];

/** WASI imports over the box for one Ruby process: stdio from the spec, the box root and its /usr dirs preopened. */
export function reactorWasi(spec: ProcessSpec, argv: string[]): ReactorWasi {
  const clock = new GuestClock();
  const list: (Fd | undefined)[] = [];
  const shim = new WASI(argv, spec.env, list as Fd[], { debug: false });
  const fds = new FdTable(list);
  fds.add(new InputFd(spec.stdin, clock));
  fds.add(new OutputFd(spec.stdout));
  fds.add(new OutputFd(spec.stderr));
  const owner = { uid: spec.uid ?? 0, gid: spec.gid ?? 0 };
  for (const [name, node] of preopens(spec.vfs)) fds.add(new DirFd(spec.vfs, node, owner, ALL_RIGHTS, ALL_RIGHTS, name));
  // The memory exists only once the instance does; initialize() sets it before any guest code runs.
  const g: Guest = { mem: undefined as unknown as GuestMemory, fds, clock };
  installSyscalls(shim, g, argv, spec.env);
  return {
    wasiImport: shim.wasiImport as WebAssembly.ModuleImports,
    initialize(instance) {
      g.mem = new GuestMemory(instance.exports.memory as WebAssembly.Memory);
      shim.initialize(instance as { exports: { memory: WebAssembly.Memory; _initialize?: () => unknown } });
    },
  };
}

/** "/" and every box directory the packed tree would otherwise hide, by the path the guest names it. */
export function preopens(vfs: Vfs): [string, DirNode][] {
  const dirs: [string, DirNode][] = [['/', vfs.root]];
  for (const [path, kept] of PACKED) {
    const dir = directory(vfs, path);
    if (!dir) continue;
    for (const name of dir.entries().keys()) {
      const child = kept.includes(name) ? undefined : directory(vfs, `${path}/${name}`);
      if (child) dirs.push([`${path}/${name}`, child]);
    }
  }
  return dirs;
}

/** The directory at `path` (symlinks followed inside the box), if there is one. */
function directory(vfs: Vfs, path: string): DirNode | undefined {
  try {
    const node = vfs.get(path);
    return node instanceof DirNode ? node : undefined;
  } catch {
    return undefined;
  }
}
