// The stage's Tree seen as the guest filesystem (a Vfs), without copying: directories are mirrored when
// the guest first looks into them and file nodes view the Tree's bytes until the guest writes them. The
// mirror remembers which tree node each guest node came from, so the changes can be found afterwards
// (sandbox-diff.ts) by comparing only what the guest reached.
import { DirNode as VDir, FileNode as VFile, type Inode, type Lookup, OtherNode as VOther, SymlinkNode as VLink, Vfs, VfsError, nowNs } from '../../runtime/core/vfs.js';
import { WasmboxError } from '../errors.js';
import { Spilled } from '../fs/spill.js';
import type { DirNode, FileNode, Node, Tree } from '../fs/tree.js';

/** Where a guest node came from: the tree node it mirrors and the tree path it was first reached by. */
export interface Origin {
  node: Node;
  path: string;
}

/** Mirrors one Tree into Vfs nodes, lazily, recording each node's origin. */
export class TreeMirror {
  readonly origins = new WeakMap<Inode, Origin>();
  // One guest node per tree file, so hardlinks (one FileNode at several paths) stay one inode.
  private readonly files = new Map<FileNode, VFile>();
  private links: Map<FileNode, string[]> | undefined;

  constructor(private readonly vfs: Vfs, readonly tree: Tree, private readonly readonly = false) {}

  /** The guest node for the tree node at `path`. */
  node(node: Node, path: string): Inode {
    if (node.kind === 'dir') return this.dir(node, path);
    if (node.kind === 'file') return this.file(node, path);
    const mtime = ns(node.mtime);
    const made = node.kind === 'symlink'
      ? new VLink(this.vfs.ino(), node.uid, node.gid, mtime, node.target, this.readonly)
      : new VOther(this.vfs.ino(), node.mode, node.uid, node.gid, mtime, this.readonly);
    this.origins.set(made, { node, path });
    return made;
  }

  /** The guest directory for a tree directory; its children are mirrored when first listed. */
  dir(node: DirNode, path: string): VDir {
    const load = () => this.children(node, path);
    const made = new VDir(this.vfs.ino(), node.mode, node.uid, node.gid, ns(node.mtime), load, this.readonly);
    this.origins.set(made, { node, path });
    return made;
  }

  /** Make `target` (a fresh, empty guest root) mirror the tree's root. */
  fillRoot(target: VDir): void {
    const root = this.tree.root;
    Object.assign(target, { mode: root.mode, uid: root.uid, gid: root.gid, mtime: ns(root.mtime) });
    for (const [name, child] of this.children(root, '/')) {
      target.entries().set(name, child);
      if (child instanceof VDir) child.parent = target;
    }
    this.origins.set(target, { node: root, path: '/' });
  }

  /** Every tree path of a file: more than one for hardlinks. */
  pathsOf(file: FileNode, firstSeen: string): string[] {
    return this.linkIndex().get(file) ?? [firstSeen];
  }

  private children(node: DirNode, path: string): Map<string, Inode> {
    const out = new Map<string, Inode>();
    for (const [name, child] of node.children) out.set(name, this.node(child, join(path, name)));
    return out;
  }

  private file(node: FileNode, path: string): VFile {
    const known = this.files.get(node);
    if (known) return known;
    // Zero-copy: the guest node views the tree's bytes, and copies them only when it writes.
    const made = new VFile(this.vfs.ino(), node.mode, node.uid, node.gid, ns(node.mtime), lazyBytes(node), this.readonly);
    if (node.data instanceof Spilled) {
      // Read from the spill only if the guest reads; `origin` stays set until it writes (sandbox-diff checks it).
      made.setLazySize(node.data.byteLength);
      made.origin = { path, type: 'file', mode: node.mode, uid: node.uid, gid: node.gid, mtime: node.mtime, size: node.data.byteLength, offset: 0, target: '', sha256: '' };
    }
    made.nlink = this.linkIndex().get(node)?.length ?? 1;
    this.files.set(node, made);
    this.origins.set(made, { node, path });
    return made;
  }

  /** Paths of files reachable by more than one path, found in one walk when first needed. */
  private linkIndex(): Map<FileNode, string[]> {
    if (this.links) return this.links;
    const first = new Map<FileNode, string>();
    const links = new Map<FileNode, string[]>();
    const visit = (dir: DirNode, path: string): void => {
      for (const [name, child] of dir.children) {
        const childPath = join(path, name);
        if (child.kind === 'dir') visit(child, childPath);
        if (child.kind !== 'file') continue;
        const seen = first.get(child);
        if (seen === undefined) first.set(child, childPath);
        else links.set(child, [...(links.get(child) ?? [seen]), childPath]);
      }
    };
    visit(this.tree.root, '/');
    return (this.links = links);
  }
}

/** A file's bytes for a guest node: the tree's own when in memory, a loader when they are in a spill. */
function lazyBytes(node: FileNode): Uint8Array | (() => Uint8Array) {
  const data = node.data;
  return data instanceof Spilled ? () => data.read() : data;
}

/** One mount placed over the guest filesystem, with what it hid and the directories made to hold it. */
interface Attachment {
  parent: VDir;
  name: string;
  node: Inode;
  hidden: Inode | undefined;
  stubs: { parent: VDir; name: string; dir: VDir }[];
}

/** A stage's filesystem as a guest sees it, and the mounts laid over it for one RUN. */
export class Sandbox {
  readonly vfs = Vfs.empty();
  readonly mirror: TreeMirror;
  /** Nodes that belong to mounts: never part of the stage's changes, wherever the guest moved them. */
  readonly mounted = new WeakSet<Inode>();
  private readonly attached: Attachment[] = [];

  constructor(tree: Tree) {
    this.mirror = new TreeMirror(this.vfs, tree);
    this.mirror.fillRoot(this.vfs.root);
  }

  /** Place `node` at the absolute `path`, hiding what is there; missing directories on the way are made. */
  attach(path: string, node: Inode): void {
    const names = path.split('/').filter((p) => p !== '' && p !== '.');
    if (names.length === 0 || names.includes('..')) throw mountError(path, 'a mount target must be a path below / without ".."');
    const stubs: Attachment['stubs'] = [];
    let dir = this.vfs.root;
    for (const name of names.slice(0, -1)) dir = this.stepInto(dir, name, path, stubs);
    const spot = lookupIn(this.vfs, names[names.length - 1], dir, path);
    this.attached.push({ parent: spot.parent, name: spot.name, node, hidden: spot.node, stubs });
    spot.parent.entries().set(spot.name, node);
    if (node instanceof VDir) node.parent = spot.parent;
    this.mounted.add(node);
  }

  /** Take every mount away again, restoring what they hid and removing mount points that are still empty stubs. */
  detachAll(): void {
    for (const a of this.attached.reverse()) {
      if (a.parent.entries().get(a.name) === a.node) {
        if (a.hidden) a.parent.entries().set(a.name, a.hidden);
        else a.parent.entries().delete(a.name);
      }
      // Like BuildKit's MountStubsCleaner: directories made only to hold the mount go if nothing else was put there.
      for (const stub of a.stubs.reverse()) {
        if (stub.parent.entries().get(stub.name) === stub.dir && stub.dir.entries().size === 0) stub.parent.entries().delete(stub.name);
      }
    }
    this.attached.length = 0;
  }

  private stepInto(dir: VDir, name: string, path: string, stubs: Attachment['stubs']): VDir {
    let next = lookupIn(this.vfs, name, dir, path);
    if (next.node === undefined) {
      const made = new VDir(this.vfs.ino(), 0o755, 0, 0, nowNs());
      made.parent = next.parent;
      next.parent.entries().set(next.name, made);
      stubs.push({ parent: next.parent, name: next.name, dir: made });
      next = { ...next, node: made };
    }
    if (!(next.node instanceof VDir)) throw mountError(path, `${name} on the way is a ${next.node!.kind}, not a directory`);
    return next.node;
  }
}

/** Where `name` lands in `dir` (symlinks followed inside the namespace), as a mount error if it cannot be resolved. */
function lookupIn(vfs: Vfs, name: string, dir: VDir, path: string): Lookup {
  try {
    return vfs.lookup(name, { cwd: dir, follow: true, syscall: 'mount' });
  } catch (err) {
    if (err instanceof VfsError) throw mountError(path, `${name} on the way cannot be resolved (${err.message})`);
    throw err;
  }
}

function mountError(path: string, why: string): WasmboxError {
  return new WasmboxError('MOUNT_TARGET', `cannot mount at ${path}: ${why}`, { value: path, hint: 'mount at an absolute path such as /mnt/data or /root/.cache' });
}

/** Seconds (tree) to nanoseconds (guest). */
function ns(seconds: number): bigint {
  return BigInt(Math.trunc(seconds)) * 1_000_000_000n;
}

/** `dir` + `/` + `name`, for absolute paths. */
export function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}
