import { WasmboxError } from '../errors.js';
import { EMPTY, type TarEntry } from './tar.js';
import { dir, splitPath, type DirNode, type FileNode, type Meta, type Node, type Tree } from './tree.js';

/** The OCI whiteout prefix and the opaque-directory marker. */
export const WHITEOUT = '.wh.';
export const OPAQUE = '.wh..wh..opq';

/** Options of a {@link LayerApplier}. */
export interface ApplyOptions {
  /** Whether `.wh.` entries are OCI whiteouts (the default, for image layers) or plain files (archives ADD unpacks). */
  whiteouts?: boolean;
}

/**
 * Applies one layer's entries, in archive order, onto a tree with the OCI layer rules, the way umoci
 * unpacks: parents are resolved through symlinks inside the root, a whiteout or opaque marker removes
 * only what lower layers put there (paths this layer touched survive it, whatever their order), a
 * directory over a directory keeps its children, anything else replaces what was there.
 */
export class LayerApplier {
  // Paths this layer created (resolved, and all their ancestors): whiteouts never remove these.
  private readonly touched = new Set<string>(['/']);

  private readonly whiteouts: boolean;

  constructor(private readonly tree: Tree, private readonly layer: string, opts: ApplyOptions = {}) {
    this.whiteouts = opts.whiteouts ?? true;
  }

  /** Apply one entry; returns the node it placed (the root for a root entry), or undefined for a whiteout. */
  apply(e: TarEntry): Node | undefined {
    const { parts, escaped } = splitPath(e.name);
    if (escaped) this.refuse(e, 'its ".." components climb out of the root');
    if (parts.length === 0) return this.applyRoot(e);
    const base = parts[parts.length - 1];
    const parentPath = '/' + parts.slice(0, -1).join('/');
    if (this.whiteouts && base.startsWith(WHITEOUT)) return this.whiteout(e, parentPath, base);
    const parent = this.parent(e, parentPath);
    const path = join(parent.path, base);
    const node = this.makeNode(e, parent.dir.children.get(base));
    parent.dir.children.set(base, node);
    this.touch(path);
    return node;
  }

  private applyRoot(e: TarEntry): Node {
    if (e.kind !== 'dir') this.refuse(e, `it would replace the root directory with a ${e.kind}`);
    Object.assign(this.tree.root, meta(e));
    return this.tree.root;
  }

  private makeNode(e: TarEntry, existing: Node | undefined): Node {
    switch (e.kind) {
      case 'dir':
        // A directory over a directory updates its metadata and keeps what lower layers put inside.
        if (existing?.kind === 'dir') return Object.assign(existing, meta(e));
        return dir(meta(e));
      case 'file':
        return { kind: 'file', data: e.data ?? EMPTY, ...meta(e) };
      case 'symlink':
        return { kind: 'symlink', target: e.linkname, ...meta(e) };
      case 'link':
        return this.hardlinkTarget(e);
      default:
        return { kind: 'other', device: e.kind, ...meta(e) };
    }
  }

  /** The file a hardlink names, looked up now (it may come from a lower layer); its metadata is the file's. */
  private hardlinkTarget(e: TarEntry): FileNode {
    const { escaped } = splitPath(e.linkname);
    if (escaped) this.refuse(e, `its hardlink target ${e.linkname} climbs out of the root`);
    let target: Node | undefined;
    try {
      target = this.tree.resolve(e.linkname).node;
    } catch (err) {
      this.refuse(e, `its hardlink target ${e.linkname} cannot be resolved (${(err as Error).message})`, err);
    }
    if (target === undefined) this.refuse(e, `its hardlink target ${e.linkname} does not exist`);
    if (target.kind !== 'file') this.refuse(e, `its hardlink target ${e.linkname} is a ${target.kind}, not a regular file`);
    return target;
  }

  /** The directory an entry goes in, resolved through symlinks inside the root; missing ones are made 0755. */
  private parent(e: TarEntry, path: string): { dir: DirNode; path: string } {
    try {
      const spot = this.tree.resolve(path, { create: true, followLast: true });
      if (spot.node === undefined) spot.parent.children.set(spot.name, (spot.node = dir()));
      if (spot.node.kind !== 'dir') this.refuse(e, `its parent ${spot.path} is a ${spot.node.kind}, not a directory`);
      return { dir: spot.node, path: spot.path };
    } catch (err) {
      if (err instanceof WasmboxError && err.code === 'LAYER_ENTRY') throw err;
      this.refuse(e, `its parent directory cannot be resolved (${(err as Error).message})`, err);
    }
  }

  private whiteout(e: TarEntry, parentPath: string, base: string): undefined {
    const dirSpot = this.existingDir(parentPath);
    if (base === OPAQUE) {
      if (dirSpot) this.removeUntouched(dirSpot.dir, dirSpot.path);
      return;
    }
    // `.wh..wh.*` names are aufs bookkeeping, never part of the image.
    if (base.startsWith(WHITEOUT + WHITEOUT)) return;
    const name = base.slice(WHITEOUT.length);
    if (name === '' || name === '.' || name === '..') this.refuse(e, 'it is a whiteout without a name to remove');
    const node = dirSpot?.dir.children.get(name);
    if (!dirSpot || node === undefined) return;
    const path = join(dirSpot.path, name);
    if (!this.touched.has(path)) dirSpot.dir.children.delete(name);
    else if (node.kind === 'dir') this.removeUntouched(node, path);
  }

  /** Remove everything under `d` that this layer did not put there. */
  private removeUntouched(d: DirNode, path: string): void {
    for (const [name, child] of d.children) {
      const childPath = join(path, name);
      if (!this.touched.has(childPath)) d.children.delete(name);
      else if (child.kind === 'dir') this.removeUntouched(child, childPath);
    }
  }

  private existingDir(path: string): { dir: DirNode; path: string } | undefined {
    try {
      const spot = this.tree.resolve(path, { followLast: true });
      return spot.node?.kind === 'dir' ? { dir: spot.node, path: spot.path } : undefined;
    } catch {
      return undefined; // a whiteout under a missing or non-directory path has nothing to remove
    }
  }

  private touch(path: string): void {
    for (let p = path; !this.touched.has(p); p = p.slice(0, Math.max(1, p.lastIndexOf('/')))) this.touched.add(p);
  }

  private refuse(e: TarEntry, why: string, cause?: unknown): never {
    throw new WasmboxError('LAYER_ENTRY', `${this.layer}: refusing entry ${e.name}: ${why}`, {
      value: e.name,
      hint: 'the layer is malformed or hostile; rebuild it from a trusted source',
      cause,
    });
  }
}


function meta(e: TarEntry): Meta {
  return { mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime };
}

function join(dirPath: string, name: string): string {
  return dirPath === '/' ? `/${name}` : `${dirPath}/${name}`;
}
