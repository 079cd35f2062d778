// Writing a read-write mount back to its host directory when the run ends. We write back once rather
// than through on every change because guests change files through FileNode.write and Vfs methods that
// have no hooks, and one pass at the end sees the final state (a file rewritten a thousand times is
// written once). Only what the guest could have changed is visited: directories it never listed were
// never loaded, and unchanged nodes still in their place are skipped.
//
// Safety: every path written is HOST + names from the guest's tree, each checked to be one component;
// each directory is lstat-checked before we write into it and a symlink found there is replaced, never
// followed; files are opened with O_NOFOLLOW; removal (fs.rm) removes links, not what they point at.
import { closeSync, constants, fchmodSync, futimesSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DirNode, FileNode, type Inode, SymlinkNode } from '../core/vfs.js';
import type { MountSpec } from './node-channel.js';
import { type HostMount, hostNames, validName, type Origins } from './node-mount.js';

/** Make each read-write mount's HOST match the guest's view of it; returns a warning per path not written. */
export function writeBack(mounts: readonly HostMount[]): string[] {
  const roots = new Set(mounts.map((m) => m.root));
  const syncs = mounts.filter((m) => !m.spec.readonly).map((m) => ({ m, sync: new Sync(m.spec, m.origins, roots) }));
  // All reads first: a file the guest moved from one mount to another must be read before either is written.
  for (const { m, sync } of syncs) sync.detach(m.root, '');
  for (const { m, sync } of syncs) sync.node(m.root, '');
  return syncs.flatMap(({ sync }) => sync.warnings);
}

class Sync {
  readonly warnings: string[] = [];

  constructor(
    private readonly spec: MountSpec,
    private readonly origins: Origins,
    private readonly mountRoots: Set<DirNode>,
  ) {}

  /**
   * Pull into memory everything that is about to be written from somewhere else: a node the guest moved
   * still reads its bytes lazily from its old host path, which this pass may delete or overwrite first.
   */
  detach(node: Inode, rel: string): void {
    const moved = this.origins.get(node) !== rel; // new nodes too: they may hold lazy nodes of another mount
    if (node instanceof FileNode && (moved || node.version > 0)) this.guard(rel, () => node.bytes());
    if (!(node instanceof DirNode) || (!moved && !node.loaded) || this.isOtherMount(node, rel)) return;
    const entries = this.guard(rel, () => node.entries());
    for (const [name, child] of entries ?? []) this.detach(child, join(rel, name));
  }

  /** Write `node` to HOST/rel when the guest created, changed or moved it. */
  node(node: Inode, rel: string): void {
    const inPlace = this.origins.get(node) === rel;
    const path = join(this.spec.host, rel);
    if (node instanceof DirNode) {
      if (inPlace && !node.loaded) return;
      if (!this.guard(rel, () => this.ensureDir(path))) return;
      if (this.isOtherMount(node, rel)) return; // another mount's mountpoint: the directory only, as docker makes it
      this.children(node, rel, path);
      if (!inPlace || node.version > 0) this.guard(rel, () => this.meta(path, node));
    } else if (inPlace && node.version === 0) {
      return;
    } else if (node instanceof FileNode) {
      this.guard(rel, () => this.writeFile(path, node));
    } else if (node instanceof SymlinkNode) {
      this.guard(rel, () => {
        rmSync(path, { recursive: true, force: true });
        symlinkSync(node.target, path);
      });
    } else if (!inPlace) {
      this.warnings.push(`${this.where(rel)}: a device or FIFO cannot be created on the host; skipped`);
    }
  }

  private children(dir: DirNode, rel: string, path: string): void {
    const want = dir.entries();
    for (const name of this.guard(rel, () => hostNames(path)) ?? []) {
      if (!want.has(name)) this.guard(join(rel, name), () => rmSync(join(path, name), { recursive: true, force: true }));
    }
    for (const [name, child] of want) {
      if (validName(name)) this.node(child, join(rel, name));
      else this.warnings.push(`${this.where(rel)}: the name ${JSON.stringify(name)} cannot be written on the host; skipped`);
    }
  }

  /** HOST/rel becomes (or stays) a real directory; a file or symlink there is replaced, not followed. */
  private ensureDir(path: string): true {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) return true;
    if (st) rmSync(path, { force: true });
    mkdirSync(path, { mode: 0o755 });
    return true;
  }

  private writeFile(path: string, file: FileNode): void {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
    let fd: number;
    try {
      fd = openSync(path, flags, file.mode & 0o777);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ELOOP' && code !== 'EISDIR' && code !== 'ETXTBSY') throw err;
      rmSync(path, { recursive: true, force: true }); // a symlink or a directory is in the way: replace it
      fd = openSync(path, flags, file.mode & 0o777);
    }
    try {
      const bytes = file.bytes();
      for (let at = 0; at < bytes.byteLength; ) at += writeSync(fd, bytes, at, bytes.byteLength - at);
      fchmodSync(fd, file.mode & 0o7777);
      futimesSync(fd, seconds(file.atime), seconds(file.mtime));
    } finally {
      closeSync(fd);
    }
  }

  private meta(path: string, dir: DirNode): void {
    lutimesSync(path, seconds(dir.atime), seconds(dir.mtime));
    const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      fchmodSync(fd, dir.mode & 0o7777);
    } finally {
      closeSync(fd);
    }
  }

  private isOtherMount(dir: DirNode, rel: string): boolean {
    return rel !== '' && this.mountRoots.has(dir);
  }

  /** Run one host step; a failure becomes a warning and the rest of the write-back goes on. */
  private guard<T>(rel: string, step: () => T): T | undefined {
    try {
      return step();
    } catch (err) {
      this.warnings.push(`${this.where(rel)}: cannot write back: ${(err as Error).message}`);
      return undefined;
    }
  }

  private where(rel: string): string {
    return `-v ${this.spec.host}:${this.spec.guest}: ${join(this.spec.host, rel)}`;
  }
}

function seconds(ns: bigint): number {
  return Number(ns) / 1e9;
}
