// What the flatten and pull benchmark children report about a flattened tree.

const MB = 1 << 20;

/** Entries and distinct file bytes in MB (hardlinks counted once). */
export function measure(tree) {
  const files = new Set();
  let entries = 0;
  for (const [, node] of tree.walk()) {
    entries++;
    if (node.kind === 'file') files.add(node.data);
  }
  let bytes = 0;
  for (const data of files) bytes += data.length;
  return { fileMB: bytes / MB, entries };
}
