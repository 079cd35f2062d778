import { WasmboxError } from '../errors.js';
import { contentBytes } from '../fs/spill.js';
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
  for (const line of new TextDecoder().decode(contentBytes(node.data)).split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 3 && !line.startsWith('#')) table.set(fields[0], fields);
  }
  return table;
}

/**
 * Resolve `user[:group]` (names or ids) the way BuildKit resolves `--chown`: names through the stage's
 * /etc/passwd and /etc/group. Without a group, a numeric user gets the same number as gid and a named
 * user gets its primary group from /etc/passwd (BuildKit's readUser; docker's docs simplify this).
 */
export function resolveOwner(tree: Tree, spec: string): Owner {
  const [user, group] = spec.split(':', 2);
  const uid = lookup(tree, '/etc/passwd', user, 2, 'user');
  if (group !== undefined) return { uid, gid: lookup(tree, '/etc/group', group, 2, 'group') };
  return { uid, gid: /^\d+$/.test(user) ? uid : lookup(tree, '/etc/passwd', user, 3, 'user') };
}

function lookup(tree: Tree, file: string, name: string, field: number, what: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const entry = readTable(tree, file).get(name);
  const id = entry && /^\d+$/.test(entry[field] ?? '') ? Number(entry[field]) : NaN;
  // BuildKit's code quietly uses 0 for an unknown name; its documentation says the build fails, and
  // failing is what tells the user about the typo.
  if (!Number.isInteger(id)) {
    throw new WasmboxError('CHOWN_UNKNOWN', `unable to find ${what} ${name}: no matching entries in ${file}`, {
      value: name,
      hint: `use a numeric id, or create the ${what} in ${file} first`,
    });
  }
  return id;
}
