// `-v HOST:GUEST[:ro]`: a host directory shown inside the guest's filesystem. Nodes load lazily, the
// first time the guest looks (lstat for a directory's children, a file's bytes on first read), so a
// mount costs what the guest touches. Host symlinks become guest symlinks that the Vfs resolves inside
// the guest's namespace, so `link -> /etc/passwd` names the box's /etc/passwd and `..` stops at the
// guest's root: nothing outside HOST can be reached. Read-write mounts are written back when the run
// ends (see node-mount-sync.ts). Runs in the guest's worker; synchronous because the guest is.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { DirNode, FileNode, type Errno, type Inode, OtherNode, SymlinkNode, Vfs, VfsError } from '../core/vfs.js';
import type { MountSpec } from './node-channel.js';

/** A mounted host directory: its root node, and where each node came from (for the write-back). */
export interface HostMount {
  spec: MountSpec;
  root: DirNode;
  origins: Origins;
}

/** Where each node came from, relative to the mount's host directory ('' for the root). */
export type Origins = WeakMap<Inode, string>;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Mount the host directory `spec.host` (absolute, a real directory) at `spec.guest` in `vfs`. */
export function mountHost(vfs: Vfs, spec: MountSpec): HostMount {
  const origins: Origins = new WeakMap();
  const loader = new HostLoader(vfs, spec, origins);
  const st = lstatSync(spec.host, { bigint: true });
  if (!st.isDirectory()) throw new VfsError('ENOTDIR', 'mount', spec.host);
  const root = loader.node('', st) as DirNode;
  vfs.mount(spec.guest, root);
  return { spec, root, origins };
}

/** Names a directory may hold on both sides: UTF-8 (the guest's names are strings), no '/', NUL, '.' or '..'. */
export function hostNames(dir: string): string[] {
  const names: string[] = [];
  for (const raw of readdirSync(dir, { encoding: 'buffer' })) {
    let name: string;
    try {
      name = UTF8.decode(raw);
    } catch {
      continue; // not UTF-8: hidden from the guest, and so never touched by a write-back either
    }
    if (validName(name)) names.push(name);
  }
  return names.sort();
}

/** Whether `name` is a single path component the host and the guest both accept. */
export function validName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/** Builds guest nodes for host paths, recording where each came from. */
class HostLoader {
  constructor(
    private readonly vfs: Vfs,
    private readonly spec: MountSpec,
    private readonly origins: Origins,
  ) {}

  /** The guest node for the host path HOST/rel, whose lstat is `st`. */
  node(rel: string, st: BigIntStats): Inode {
    const ro = this.spec.readonly;
    const mode = Number(st.mode & 0o7777n);
    const [uid, gid, mtime] = [Number(st.uid), Number(st.gid), st.mtimeNs];
    const path = join(this.spec.host, rel);
    let node: Inode;
    if (st.isDirectory()) {
      node = new DirNode(this.vfs.ino(), mode, uid, gid, mtime, () => this.children(rel), ro);
    } else if (st.isFile()) {
      const file = new FileNode(this.vfs.ino(), mode, uid, gid, mtime, () => this.read(rel), ro);
      file.setLazySize(Number(st.size));
      node = file;
    } else if (st.isSymbolicLink()) {
      node = new SymlinkNode(this.vfs.ino(), uid, gid, mtime, this.host(() => readlinkSync(path), rel, 'readlink'), ro);
    } else {
      node = new OtherNode(this.vfs.ino(), mode, uid, gid, mtime, ro);
    }
    this.origins.set(node, rel);
    return node;
  }

  private children(rel: string): Map<string, Inode> {
    const dir = join(this.spec.host, rel);
    const children = new Map<string, Inode>();
    for (const name of this.host(() => hostNames(dir), rel, 'open')) {
      const st = lstatSync(join(dir, name), { bigint: true, throwIfNoEntry: false });
      if (st) children.set(name, this.node(rel === '' ? name : `${rel}/${name}`, st));
    }
    return children;
  }

  // O_NOFOLLOW: if the host swapped the file for a symlink since we looked, refuse instead of following it.
  private read(rel: string): Uint8Array {
    return this.host(() => {
      const fd = openSync(join(this.spec.host, rel), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const size = fstatSync(fd).size;
        const buf = new Uint8Array(size);
        let at = 0;
        for (let n = 1; at < size && n > 0; at += n) n = readSync(fd, buf, at, size - at, null);
        return at === size ? buf : buf.subarray(0, at);
      } finally {
        closeSync(fd);
      }
    }, rel, 'read');
  }

  /** Run a host call, turning its failure into the VfsError the guest sees (for its guest path). */
  private host<T>(call: () => T, rel: string, syscall: string): T {
    try {
      return call();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const errno: Errno = code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'EISDIR' ? code : 'EACCES';
      throw new VfsError(errno, syscall, this.spec.guest + (rel === '' ? '' : `/${rel}`));
    }
  }
}
