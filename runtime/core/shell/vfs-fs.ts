// The box filesystem (Vfs) seen through the file interface the built-in shell's commands use (just-bash's
// IFileSystem, matched structurally here so just-bash.ts stays the only file that imports just-bash).
// Errors are the Vfs's own VfsError, which already reads like Node's (`ENOENT: no such file or
// directory, open '/x'`, with `.code`). Runtime code: web-standard APIs only.
import { DirNode, FileNode, SymlinkNode, VfsError, type Inode, type Vfs } from '../vfs.js';
import { deviceRead, deviceStat, isDevice } from './devices.js';
import { decode, encode, latin1, normalize, type Encoding } from './encoding.js';

/** One stat result, shaped as the shell expects: permission bits only (its `stat`/`ls` print mode as given). */
export interface ShellStat {
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
  mode: number;
  size: number;
  mtime: Date;
  ino: number;
}

/** A directory entry with its type. */
export interface ShellDirent {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

/** Called for a plain `readFile(path)` of an executable file; a string it returns is read instead of the bytes. */
export type ScriptReadHook = (path: string, file: FileNode) => string | undefined;

/** How the shell's filesystem is set up besides the box: who creates files, and the shell's hooks. */
export interface ShellFsOptions {
  owner: { uid: number; gid: number };
  onScriptRead?: ScriptReadHook;
  /** Names of the shell's own commands: /bin/NAME and /usr/bin/NAME stand for them where the box has nothing. */
  isCommand?: (name: string) => boolean;
  /** Told when readFileBytes (what a `< FILE` redirection uses) read an empty file. */
  onEmptyRead?: () => void;
}

/** The Vfs as the built-in shell's filesystem: every method of just-bash's IFileSystem, over the box. */
export class VfsFileSystem {
  private readonly owner: { uid: number; gid: number };

  constructor(
    readonly vfs: Vfs,
    private readonly options: ShellFsOptions,
  ) {
    this.owner = options.owner;
  }

  async readFile(path: string, options?: { encoding?: Encoding | null } | Encoding): Promise<string> {
    const encoding = typeof options === 'string' ? options : (options?.encoding ?? 'utf8');
    const hook = this.options.onScriptRead;
    if (options === undefined && hook && !isDevice(path)) {
      const node = this.vfs.lookup(path).node;
      if (node instanceof FileNode && (node.mode & 0o111) !== 0) {
        const replaced = hook(path, node);
        if (replaced !== undefined) return replaced;
      }
    }
    return decode(this.bytesOf(path), encoding);
  }

  async readFileBytes(path: string): Promise<string> {
    const bytes = this.bytesOf(path);
    if (bytes.byteLength === 0) this.options.onEmptyRead?.();
    return latin1(bytes);
  }

  async readFileBuffer(path: string): Promise<Uint8Array> {
    // A copy: the bytes may be a view into the box image, which must never change.
    return this.bytesOf(path).slice();
  }

  async writeFile(path: string, content: string | Uint8Array, options?: { encoding?: Encoding } | Encoding): Promise<void> {
    if (isDevice(path)) return;
    const file = this.vfs.createFile(path, { mode: 0o644, ...this.owner });
    this.vfs.writable(file, path, 'open');
    file.replace(encode(content, options));
  }

  async appendFile(path: string, content: string | Uint8Array, options?: { encoding?: Encoding } | Encoding): Promise<void> {
    if (isDevice(path)) return;
    const file = this.vfs.createFile(path, { mode: 0o644, ...this.owner });
    this.vfs.writable(file, path, 'open');
    file.write(file.size, encode(content, options));
  }

  async exists(path: string): Promise<boolean> {
    if (isDevice(path) || this.commandStandIn(path)) return true;
    try {
      return this.vfs.lookup(path).node !== undefined;
    } catch {
      return false;
    }
  }

  async stat(path: string): Promise<ShellStat> {
    if (this.commandStandIn(path)) return commandStat();
    return isDevice(path) ? deviceStat() : statOf(this.existing(path, 'stat'));
  }

  async lstat(path: string): Promise<ShellStat> {
    if (this.commandStandIn(path)) return commandStat();
    return isDevice(path) ? deviceStat() : statOf(this.existing(path, 'lstat', false));
  }

  async mkdir(path: string, options?: { recursive?: boolean }): Promise<void> {
    this.vfs.mkdir(path, { recursive: options?.recursive ?? false, mode: 0o755, ...this.owner });
  }

  async readdir(path: string): Promise<string[]> {
    return [...this.dir(path).entries().keys()];
  }

  async readdirWithFileTypes(path: string): Promise<ShellDirent[]> {
    return [...this.dir(path).entries()].map(([name, node]) => ({
      name,
      isFile: node instanceof FileNode,
      isDirectory: node instanceof DirNode,
      isSymbolicLink: node instanceof SymlinkNode,
    }));
  }

  async rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void> {
    const node = this.vfs.lookup(path, { follow: false, syscall: 'rm' }).node;
    if (!node) {
      if (options?.force) return;
      throw new VfsError('ENOENT', 'rm', path);
    }
    if (node instanceof DirNode) {
      if (node.entries().size > 0 && !options?.recursive) throw new VfsError('ENOTEMPTY', 'rm', path);
      for (const name of [...node.entries().keys()]) await this.rm(`${path.replace(/\/+$/, '')}/${name}`, options);
    }
    this.vfs.unlink(path, { rmdir: node instanceof DirNode });
  }

  async cp(src: string, dest: string, options?: { recursive?: boolean }): Promise<void> {
    const node = this.existing(src, 'cp', false);
    if (node instanceof SymlinkNode) {
      this.vfs.symlink(node.target, dest, this.owner);
    } else if (node instanceof DirNode) {
      if (!options?.recursive) throw new VfsError('EISDIR', 'cp', src);
      this.vfs.mkdir(dest, { recursive: true, mode: node.mode, ...this.owner });
      for (const name of node.entries().keys()) await this.cp(`${src}/${name}`, `${dest}/${name}`, options);
    } else if (node instanceof FileNode) {
      const copy = this.vfs.createFile(dest, { mode: node.mode, ...this.owner });
      this.vfs.writable(copy, dest, 'open');
      copy.replace(node.bytes().slice());
    } else {
      throw new VfsError('EINVAL', 'cp', src);
    }
  }

  async mv(src: string, dest: string): Promise<void> {
    this.vfs.rename(src, dest);
  }

  resolvePath(base: string, path: string): string {
    return normalize(path.startsWith('/') ? path : `${base}/${path}`);
  }

  getAllPaths(): string[] {
    const paths: string[] = [];
    const walk = (dir: DirNode, prefix: string): void => {
      for (const [name, node] of dir.entries()) {
        paths.push(`${prefix}/${name}`);
        if (node instanceof DirNode) walk(node, `${prefix}/${name}`);
      }
    };
    walk(this.vfs.root, '');
    return paths;
  }

  async chmod(path: string, mode: number): Promise<void> {
    const node = this.existing(path, 'chmod');
    this.vfs.writable(node, path, 'chmod');
    node.mode = mode & 0o7777;
    node.touch(false);
  }

  async symlink(target: string, linkPath: string): Promise<void> {
    this.vfs.symlink(target, linkPath, this.owner);
  }

  async link(existingPath: string, newPath: string): Promise<void> {
    this.vfs.hardlink(this.existing(existingPath, 'link', false), newPath);
  }

  async readlink(path: string): Promise<string> {
    const node = this.existing(path, 'readlink', false);
    if (!(node instanceof SymlinkNode)) throw new VfsError('EINVAL', 'readlink', path);
    return node.target;
  }

  async realpath(path: string): Promise<string> {
    const found = this.vfs.lookup(path, { syscall: 'realpath' });
    if (!found.node) throw new VfsError('ENOENT', 'realpath', path);
    if (found.node instanceof DirNode) return this.vfs.pathOf(found.node);
    return normalize(`${this.vfs.pathOf(found.parent)}/${found.name}`);
  }

  async utimes(path: string, atime: Date, mtime: Date): Promise<void> {
    const node = this.existing(path, 'utime');
    this.vfs.writable(node, path, 'utime');
    node.atime = BigInt(Math.trunc(atime.getTime())) * 1_000_000n;
    node.mtime = BigInt(Math.trunc(mtime.getTime())) * 1_000_000n;
    node.touch(false);
  }

  /**
   * Whether `path` is /bin/NAME or /usr/bin/NAME for one of the shell's commands while the box has
   * nothing there. just-bash finds its commands only through such files (its own in-memory filesystem
   * writes them for every command); answering for them here makes echo, cat... available in every box,
   * while a box file at that path (a Wasm ls, a native busybox) is still what the shell sees.
   */
  private commandStandIn(path: string): boolean {
    const match = /^\/(?:usr\/)?bin\/([^/]+)$/.exec(path);
    if (!match || !this.options.isCommand?.(match[1])) return false;
    try {
      return this.vfs.lookup(path, { follow: false }).node === undefined;
    } catch {
      return true;
    }
  }

  private existing(path: string, syscall: string, follow = true): Inode {
    return this.vfs.get(path, { follow, syscall });
  }

  private dir(path: string): DirNode {
    const node = this.existing(path, 'scandir');
    if (!(node instanceof DirNode)) throw new VfsError('ENOTDIR', 'scandir', path);
    return node;
  }

  private bytesOf(path: string): Uint8Array {
    if (isDevice(path)) return deviceRead(path);
    const node = this.existing(path, 'open');
    if (node instanceof DirNode) throw new VfsError('EISDIR', 'read', path);
    if (!(node instanceof FileNode)) throw new VfsError('EINVAL', 'read', path);
    return node.bytes();
  }
}

function commandStat(): ShellStat {
  return { isFile: true, isDirectory: false, isSymbolicLink: false, mode: 0o755, size: 0, mtime: new Date(0), ino: 0 };
}

function statOf(node: Inode): ShellStat {
  return {
    isFile: node instanceof FileNode,
    isDirectory: node instanceof DirNode,
    isSymbolicLink: node instanceof SymlinkNode,
    mode: node.mode & 0o7777,
    size: node instanceof FileNode ? node.size : node instanceof SymlinkNode ? node.target.length : 0,
    mtime: new Date(Number(node.mtime / 1_000_000n)),
    ino: node.ino,
  };
}
