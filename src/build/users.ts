import { WasmboxError } from '../errors.js';
import type { Tree } from '../fs/tree.js';

/** A numeric owner. */
export interface Owner {
  uid: number;
  gid: number;
}

/** Parse an /etc/passwd or /etc/group file of the stage into name → fields. */
function readTable(tree: Tree, path: string): Map<string, string[]> {
  const node = tree.get(path);
  const table = new Map<string, string[]>();
  if (node?.kind !== 'file') return table;
  for (const line of new TextDecoder().decode(node.data).split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 3 && !line.startsWith('#')) table.set(fields[0], fields);
  }
  return table;
}

/**
 * Resolve `user[:group]` (names or ids) the way BuildKit resolves `--chown`: names through the stage's
 * /etc/passwd and /etc/group; a user without a group uses the same number as its gid.
 */
export function resolveOwner(tree: Tree, spec: string): Owner {
  const [user, group] = spec.split(':', 2);
  const uid = lookup(tree, '/etc/passwd', user, 2, 'user');
  const gid = group === undefined ? uid : lookup(tree, '/etc/group', group, 2, 'group');
  return { uid, gid };
}

function lookup(tree: Tree, file: string, name: string, field: number, what: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const entry = readTable(tree, file).get(name);
  const id = entry ? Number(entry[field]) : NaN;
  if (!Number.isInteger(id)) {
    throw new WasmboxError('CHOWN_UNKNOWN', `unable to find ${what} ${name}: no matching entries in ${file}`, {
      value: name,
      hint: `use a numeric id, or create the ${what} in ${file} first`,
    });
  }
  return id;
}
