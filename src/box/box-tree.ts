import { BoxFormatError, type FsEntry, type FsImage } from '../../runtime/core/fs-image.js';
import { Tree, dir, pickMeta, type DirNode, type FileNode, type Node } from '../fs/tree.js';

/**
 * The build-side tree of a box filesystem, so it can be written out again (as a canonical tar): files
 * are zero-copy views of the image's bytes, a hardlink row becomes the same FileNode as the path it
 * names, and rows are placed straight into their parent directory (walk order lists parents first), so
 * no symlink is ever followed. A box does not record which kind of device an "other" row is; they come
 * back as character devices, the only kind root filesystems hold in practice (/dev/null, /dev/console).
 */
export function treeFromFsImage(fs: FsImage): Tree {
  const root = fs.entries[0];
  const tree = new Tree(dir(root));
  const dirs = new Map<string, DirNode>([['/', tree.root]]);
  const files = new Map<string, FileNode>();
  for (const entry of fs.entries.slice(1)) {
    const cut = entry.path.lastIndexOf('/');
    const parent = dirs.get(cut === 0 ? '/' : entry.path.slice(0, cut));
    // parseFsImage checked the rows, not that each one's parent precedes it; a box we wrote always does.
    if (parent === undefined) throw new BoxFormatError(`rootfs.wbfs lists ${entry.path} before its parent directory`);
    const node = nodeOf(fs, entry, files);
    parent.children.set(entry.path.slice(cut + 1), node);
    if (node.kind === 'dir') dirs.set(entry.path, node);
    if (entry.type === 'file') files.set(entry.path, node as FileNode);
  }
  return tree;
}

function nodeOf(fs: FsImage, entry: FsEntry, files: Map<string, FileNode>): Node {
  const meta = pickMeta(entry);
  switch (entry.type) {
    case 'dir':
      return dir(meta);
    case 'file':
      return { kind: 'file', data: fs.read(entry), ...meta };
    case 'hardlink': {
      const first = files.get(entry.target);
      if (first === undefined) throw new BoxFormatError(`rootfs.wbfs: hardlink ${entry.path} names ${entry.target}, which comes later or is not a file`);
      return first;
    }
    case 'symlink':
      return { kind: 'symlink', target: entry.target, ...meta };
    case 'other':
      return { kind: 'other', device: 'char', ...meta };
  }
}
