// How the box filesystem reaches a guest of @wasmer/sdk 0.16, which takes no pluggable filesystem: the box
// tree is copied in and what the guest changed is copied back. The sdk offers two places for files:
//  - package files, at any path, which every command sees as a private writable overlay (its writes are
//    thrown away when it exits; nothing can read them back), and
//  - sandbox files, only under /workspace, which persist and can be read back after the run.
// So files outside /workspace go into a package and files under it into the sandbox; only the latter's
// changes reach the box. Symlinks cannot be expressed, so they are followed (the guest sees copies);
// empty directories outside /workspace cannot be expressed either. Runtime code: web-standard APIs only.
import { DirNode, FileNode, SymlinkNode, VfsError, type Inode, type Vfs } from '../vfs.js';

/** The only directory whose changes the sdk keeps (and lets us read back). */
export const WORKSPACE = '/workspace';

/** The box tree, split the way the sdk needs it. File bytes are views into the box (the sdk copies them). */
export interface BoxCopy {
  /** Files outside /workspace, by absolute path: read-only in effect (per-command overlays). */
  outside: Record<string, Uint8Array>;
  /** Identifies `outside` (paths, inodes, versions): an equal key means an equal tree, so reuse is safe. */
  key: string;
  /** Files under /workspace, by absolute path: persistent, compared after the run. */
  workspace: Map<string, Uint8Array>;
  /** Directories under /workspace (not /workspace itself), so empty ones exist and removals show. */
  workspaceDirs: Set<string>;
  /** How many files and bytes were copied, for cost reporting. */
  files: number;
  bytes: number;
}

/** Copy the box tree out of `vfs`, following symlinks inside the box and skipping device nodes. */
export function copyBox(vfs: Vfs): BoxCopy {
  const copy: BoxCopy = { outside: {}, key: '', workspace: new Map(), workspaceDirs: new Set(), files: 0, bytes: 0 };
  const keys: string[] = [];
  walk(vfs, vfs.root, '', new Set(), (path, node) => {
    const bytes = node.bytes();
    if (inWorkspace(path)) {
      copy.workspace.set(path, bytes);
    } else if (!path.includes('\\')) {
      // The sdk refuses package paths with a backslash; such a file cannot be shown outside /workspace.
      copy.outside[path] = bytes;
      keys.push(`${path}\0${node.ino}.${node.version}`);
    } else {
      return;
    }
    copy.files++;
    copy.bytes += bytes.byteLength;
  }, (path) => {
    if (inWorkspace(path) && path !== WORKSPACE) copy.workspaceDirs.add(path);
  });
  copy.key = keys.join('\n');
  return copy;
}

/** Whether `path` is /workspace or inside it. */
export function inWorkspace(path: string): boolean {
  return path === WORKSPACE || path.startsWith(WORKSPACE + '/');
}

type FileVisitor = (path: string, node: FileNode) => void;

/** Depth-first over `dir`; `onPath` holds the directories being walked, so a symlink loop stops. */
function walk(vfs: Vfs, dir: DirNode, path: string, onPath: Set<DirNode>, file: FileVisitor, directory: (path: string) => void): void {
  onPath.add(dir);
  for (const [name, entry] of dir.entries()) {
    const child = `${path}/${name}`;
    const node = entry instanceof SymlinkNode ? resolve(vfs, child) : entry;
    if (node instanceof FileNode) file(child, node);
    else if (node instanceof DirNode && !onPath.has(node)) {
      directory(child);
      walk(vfs, node, child, onPath, file, directory);
    }
  }
  onPath.delete(dir);
}

/** What a symlink leads to inside the box, or undefined when it dangles or loops. */
function resolve(vfs: Vfs, path: string): Inode | undefined {
  try {
    return vfs.lookup(path, { follow: true }).node;
  } catch (error) {
    if (error instanceof VfsError) return undefined;
    throw error;
  }
}

/** The part of the sdk's sandbox filesystem (`sandbox.fs`) the copy-back reads. */
export interface WorkspaceReader {
  readDir(path: string): Promise<readonly { name: string; kind: 'file' | 'directory' }[]>;
  readFile(path: string): Promise<Uint8Array>;
}

/** Bring the guest's changes under /workspace into `vfs`: removals, new directories, new and changed
 *  files. Only what differs from `before` is touched, so runs that overlap on one box keep each other's
 *  changes. A change the box refuses (a read-only mount) is reported through `warn` and skipped. */
export async function copyBack(reader: WorkspaceReader, vfs: Vfs, before: BoxCopy, warn: (message: string) => void): Promise<void> {
  const after = await readWorkspace(reader);
  const apply = (path: string, change: () => void, removal = false): void => {
    try {
      change();
    } catch (error) {
      if (!(error instanceof VfsError)) throw error;
      // Removing what is already gone, or a directory holding entries the guest never saw, is no loss.
      if (removal && (error.code === 'ENOENT' || error.code === 'ENOTEMPTY')) return;
      warn(`the guest's change to ${path} cannot be kept: ${error.message}`);
    }
  };
  // Removals first, deepest first, so a file replaced by a directory (or the reverse) makes room.
  for (const path of before.workspace.keys()) if (!after.files.has(path)) apply(path, () => vfs.unlink(path), true);
  for (const path of [...before.workspaceDirs].sort(deepestFirst)) {
    if (after.dirs.has(path)) continue;
    // A directory the guest saw through a symlink goes as a symlink.
    apply(path, () => vfs.unlink(path, { rmdir: !(vfs.lookup(path, { follow: false }).node instanceof SymlinkNode) }), true);
  }
  // The sdk always has /workspace; the box gets one when the guest left something there.
  const dirs = after.files.size + after.dirs.size > 0 ? [WORKSPACE, ...after.dirs] : [];
  for (const path of dirs) apply(path, () => vfs.mkdir(path, { recursive: true }));
  for (const [path, bytes] of after.files) {
    const old = before.workspace.get(path);
    if (!old || !sameBytes(old, bytes)) apply(path, () => vfs.writeFile(path, bytes));
  }
}

/** Every file (with its bytes) and directory under /workspace in the sandbox. */
async function readWorkspace(reader: WorkspaceReader): Promise<{ files: Map<string, Uint8Array>; dirs: Set<string> }> {
  const files = new Map<string, Uint8Array>();
  const dirs = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await reader.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.kind === 'directory') {
        dirs.add(path);
        await visit(path);
      } else {
        files.set(path, await reader.readFile(path));
      }
    }
  };
  await visit(WORKSPACE);
  return { files, dirs };
}

function deepestFirst(a: string, b: string): number {
  return b.split('/').length - a.split('/').length;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
