import type { Tree } from '../../src/fs/tree.js';

/** One line of a tree listing: `path kind mode uid:gid size|->target`, the shape tests compare. */
export function listing(tree: Tree): string[] {
  const lines: string[] = [];
  for (const [path, node] of tree.walk()) {
    const own = `${path} ${node.kind} ${node.mode.toString(8).padStart(4, '0')} ${node.uid}:${node.gid}`;
    if (node.kind === 'file') lines.push(`${own} ${node.data.byteLength}`);
    else if (node.kind === 'symlink') lines.push(`${own} -> ${node.target}`);
    else if (node.kind === 'other') lines.push(`${own} ${node.device}`);
    else lines.push(own);
  }
  return lines;
}
