// What a RUN changed, as a layer: the guest filesystem compared with the Tree it mirrors, visiting only
// directories the guest loaded (the rest cannot have changed). The result is a Tree in OCI layer shape
// (changed and new paths with their parent directories, `.wh.` whiteouts for deletions, an opaque marker
// where a directory was replaced), written with the canonical tar writer and applied with the layer
// applier, so a fresh RUN and a cache hit change the stage through exactly the same bytes.
import { DirNode as VDir, FileNode as VFile, type Inode, SymlinkNode as VLink } from '../../runtime/core/vfs.js';
import { canonicalTar } from '../box/canonical-tar.js';
import { OPAQUE, WHITEOUT } from '../fs/apply.js';
import { applyLayer } from '../fs/flatten.js';
import { Spilled } from '../fs/spill.js';
import { EMPTY } from '../fs/tar.js';
import { type DirNode, type FileNode, type Meta, type Node, Tree, dir, pickMeta } from '../fs/tree.js';
import { type TreeMirror, join } from './sandbox.js';

/** How changes are recorded. */
export interface DiffOptions {
  /** SOURCE_DATE_EPOCH: changed paths newer than it get it as mtime (BuildKit's rewrite-timestamp clamp). */
  clamp?: number;
  /** The RUN's user: what it creates belongs to it even if the engine left the owner at root. */
  owner?: { uid: number; gid: number };
  /** Guest nodes that are not part of the filesystem (mounts). */
  skip?: WeakSet<Inode>;
}

/** The changes under the guest directory `root` (mirrored by `mirror` from its tree's root), as a layer tree. */
export function changesOf(mirror: TreeMirror, root: VDir, opts: DiffOptions = {}): Tree {
  return new Differ(mirror, root, opts).run();
}

/** The bytes of a layer tree: a canonical tar, deterministic for the same changes. */
export async function layerBytes(layer: Tree): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of canonicalTar(layer)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Apply layer bytes to a tree with the OCI layer rules (whiteouts remove, directories merge). */
export async function applyLayerBytes(tree: Tree, bytes: Uint8Array, name: string): Promise<void> {
  await applyLayer(tree, (async function* () { yield bytes; })(), { layerName: name });
}

/** Whether a layer tree holds no change at all. */
export function isEmptyLayer(layer: Tree): boolean {
  return layer.root.children.size === 0;
}

const WHITEOUT_META: Meta = { mode: 0, uid: 0, gid: 0, mtime: 0 };

class Differ {
  private readonly out = new Tree();
  // One layer node per guest file, so a file at several paths is written once and hardlinked.
  private readonly files = new Map<VFile, FileNode>();
  private readonly filePaths = new Map<VFile, Set<string>>();

  constructor(private readonly mirror: TreeMirror, private readonly root: VDir, private readonly opts: DiffOptions) {}

  run(): Tree {
    const origin = this.mirror.origins.get(this.root);
    if (origin?.node.kind === 'dir') this.walk(this.root, origin.node, '/');
    this.keepHardlinks();
    return this.out;
  }

  private walk(v: VDir, t: DirNode, path: string): void {
    const entries = v.entries();
    for (const name of t.children.keys()) if (!entries.has(name)) this.put(join(path, WHITEOUT + name), whiteout());
    for (const [name, child] of entries) {
      if (this.opts.skip?.has(child)) continue;
      const before = t.children.get(name);
      if (before !== undefined && this.mirror.origins.get(child)?.node === before) this.compare(join(path, name), child, before);
      else this.add(join(path, name), child, before);
    }
  }

  /** A guest node still where the tree had it: record it if its content or metadata changed. */
  private compare(path: string, v: Inode, t: Node): void {
    if (v instanceof VDir && t.kind === 'dir') {
      if (metaChanged(v, t)) this.put(path, dir(this.meta(v)));
      if (v.loaded) this.walk(v, t, path);
    } else if (v instanceof VFile && t.kind === 'file') {
      if (metaChanged(v, t) || dataChanged(v, t)) this.putFile(path, v);
    } else if (v instanceof VLink && t.kind === 'symlink') {
      if (metaChanged(v, t) || v.target !== t.target) this.put(path, { kind: 'symlink', target: v.target, ...this.meta(v) });
    } else if (metaChanged(v, t)) {
      this.put(path, this.other(v));
    }
  }

  /** A guest node new at `path` (made, moved or replacing what was there): recorded whole. */
  private add(path: string, v: Inode, before: Node | undefined): void {
    if (v instanceof VDir) {
      this.put(path, dir(this.meta(v)));
      // A directory replacing a directory hides everything the old one held.
      if (before?.kind === 'dir') this.put(join(path, OPAQUE), whiteout());
      for (const [name, child] of v.entries()) if (!this.opts.skip?.has(child)) this.add(join(path, name), child, undefined);
    } else if (v instanceof VFile) {
      this.putFile(path, v);
    } else if (v instanceof VLink) {
      this.put(path, { kind: 'symlink', target: v.target, ...this.meta(v) });
    } else {
      this.put(path, this.other(v));
    }
  }

  private other(v: Inode): Node {
    const origin = this.mirror.origins.get(v)?.node;
    return { kind: 'other', device: origin?.kind === 'other' ? origin.device : 'fifo', ...this.meta(v) };
  }

  private putFile(path: string, v: VFile): void {
    let node = this.files.get(v);
    if (!node) {
      node = { kind: 'file', data: v.bytes(), ...this.meta(v) };
      this.files.set(v, node);
      this.filePaths.set(v, new Set());
    }
    this.filePaths.get(v)!.add(path);
    this.put(path, node);
  }

  /**
   * A changed or newly linked file is written at every path that still holds it, so paths the guest never
   * looked at stay hardlinked to it when the layer is applied.
   */
  private keepHardlinks(): void {
    for (const [v, node] of this.files) {
      const origin = this.mirror.origins.get(v);
      if (origin?.node.kind !== 'file') continue;
      const done = this.filePaths.get(v)!;
      for (const path of this.mirror.pathsOf(origin.node, origin.path)) {
        if (!done.has(path) && this.guestAt(path) === v) this.put(path, node);
      }
    }
  }

  /** The guest node at a path, walking real directories only (no symlinks), or undefined. */
  private guestAt(path: string): Inode | undefined {
    let node: Inode | undefined = this.root;
    for (const name of path.split('/').filter((p) => p !== '')) {
      if (!(node instanceof VDir)) return undefined;
      node = node.entries().get(name);
    }
    return node;
  }

  /** Place a node in the layer; parents missing there are added with the metadata they have now. */
  private put(path: string, node: Node): void {
    const names = path.split('/').filter((p) => p !== '');
    let outDir = this.out.root;
    let guest: VDir = this.root;
    for (const name of names.slice(0, -1)) {
      guest = guest.entries().get(name) as VDir;
      let next = outDir.children.get(name);
      if (next?.kind !== 'dir') outDir.children.set(name, (next = dir(this.parentMeta(guest))));
      outDir = next;
    }
    const name = names[names.length - 1];
    const existing = outDir.children.get(name);
    if (existing?.kind === 'dir' && node.kind === 'dir') Object.assign(existing, pickMeta(node));
    else outDir.children.set(name, node);
  }

  /** An unchanged parent keeps its exact tree metadata; a changed one gets what the guest left. */
  private parentMeta(guest: VDir): Meta {
    const origin = this.mirror.origins.get(guest)?.node;
    return origin?.kind === 'dir' && !metaChanged(guest, origin) ? pickMeta(origin) : this.meta(guest);
  }

  private meta(v: Inode): Meta {
    const seconds = Number(v.mtime / 1_000_000_000n);
    const clamp = this.opts.clamp;
    const meta = { mode: v.mode & 0o7777, uid: v.uid, gid: v.gid, mtime: clamp !== undefined && seconds > clamp ? clamp : seconds };
    const owner = this.opts.owner;
    // A user other than root cannot make root-owned files; an engine that did not record the owner left it at 0.
    if (owner && owner.uid !== 0 && meta.uid === 0 && meta.gid === 0 && !this.mirror.origins.has(v)) Object.assign(meta, owner);
    return meta;
  }
}

function whiteout(): FileNode {
  return { kind: 'file', data: EMPTY, ...WHITEOUT_META };
}

function metaChanged(v: Inode, t: Node): boolean {
  const modeChanged = v.kind !== 'symlink' && (v.mode & 0o7777) !== (t.mode & 0o7777);
  return modeChanged || v.uid !== t.uid || v.gid !== t.gid || Number(v.mtime / 1_000_000_000n) !== Math.trunc(t.mtime);
}

function dataChanged(v: VFile, t: FileNode): boolean {
  // A spilled file's guest node keeps `origin` until its first write or replace (see TreeMirror.file), and
  // asking it for its bytes would read them all in: the origin says it without reading.
  if (t.data instanceof Spilled) return v.origin === undefined;
  const now = v.bytes();
  return now.buffer !== t.data.buffer || now.byteOffset !== t.data.byteOffset || now.byteLength !== t.data.byteLength;
}
