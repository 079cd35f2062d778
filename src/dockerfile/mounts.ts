// `RUN --mount=...` values, read the way BuildKit's instructions/commands_runmount.go reads them: CSV
// fields of `key=value` (or a bare `ro`/`rw`), every value expanded against the stage's variables except
// `from`, which names a stage or image and may hold no variables.
import { WasmboxError, suggest } from '../errors.js';
import type { InstructionOf } from './instructions.js';

/** The mount types BuildKit knows. */
export const MOUNT_TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
/** One of {@link MOUNT_TYPES}. */
export type MountType = (typeof MOUNT_TYPES)[number];

const SHARING = ['shared', 'private', 'locked'] as const;
const KEYS = ['type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env'];

/** A parsed `--mount`, values expanded. */
export interface RunMount {
  type: MountType;
  /** A stage name or index, or an image; undefined means the build context (bind) or nothing (cache). */
  from?: string;
  /** The path inside `from` (default its root). */
  source: string;
  target: string;
  readonly: boolean;
  /** Cache mounts: the cache's identity (BuildKit's default is the cleaned target). */
  id?: string;
  sharing?: (typeof SHARING)[number];
  /** Cache mounts: the mode and owner of the cache directory when it is first made. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** The text after `--mount=`, for messages. */
  text: string;
}

/** Parse one `--mount` value; `expand` expands a value against the stage's variables. */
export function parseMount(text: string, expand: (word: string) => string = (w) => w): RunMount {
  const bad = (message: string, hint?: string, value = text): never => {
    throw new WasmboxError('MOUNT_INVALID', message, { instruction: 'RUN --mount', value, hint: hint ?? 'write --mount=type=bind,source=dir,target=/path' });
  };
  const m: Partial<RunMount> & { type: MountType } = { type: 'bind', source: '', text };
  let roAuto = true;
  for (const field of csvFields(text, bad)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'ro' || key === 'readonly') m.readonly = true;
      else if (key === 'rw' || key === 'readwrite') m.readonly = false;
      else bad(`invalid field '${field}' must be a key=value pair`, suggest(key, KEYS), field);
      roAuto = false;
      continue;
    }
    const raw = field.slice(eq + 1);
    if (key === 'from' && /\$./.test(raw)) bad(`'from' doesn't support variable expansion, define alias stage instead`, 'name a stage with FROM $IMAGE AS src and mount from=src', raw);
    const value = key === 'from' ? raw : expand(raw);
    roAuto = setField(m, key, value, field, bad) && roAuto;
  }
  return finish(m, roAuto, bad);
}

type Bad = (message: string, hint?: string, value?: string) => never;

/** Apply one `key=value`; returns false when it set read-only explicitly. */
function setField(m: Partial<RunMount> & { type: MountType }, key: string, value: string, field: string, bad: Bad): boolean {
  const bool = () => (/^(1|t|true)$/i.test(value) ? true : /^(0|f|false)$/i.test(value) ? false : bad(`invalid value for ${key}: ${value}`, 'write true or false', value));
  const int = (radix: number) => (radix === 8 ? /^[0-7]+$/ : /^\d+$/).test(value) ? parseInt(value, radix) : bad(`invalid value ${value} for ${key}`, undefined, value);
  switch (key) {
    case 'type': {
      const type = value.toLowerCase();
      if (!(MOUNT_TYPES as readonly string[]).includes(type)) bad(`unsupported mount type "${value}"`, suggest(value, MOUNT_TYPES) ?? `mount types are ${MOUNT_TYPES.join(', ')}`, value);
      m.type = type as MountType;
      return true;
    }
    case 'from': m.from = value; return true;
    case 'source': case 'src': m.source = value; return true;
    case 'target': case 'dst': case 'destination': m.target = value; return true;
    case 'readonly': case 'ro': m.readonly = bool(); return false;
    case 'readwrite': case 'rw': m.readonly = !bool(); return false;
    case 'id': m.id = value; return true;
    case 'sharing': {
      const sharing = value.toLowerCase();
      if (!(SHARING as readonly string[]).includes(sharing)) bad(`unsupported sharing value "${value}"`, suggest(value, SHARING) ?? `sharing is ${SHARING.join(', ')}`, value);
      m.sharing = sharing as RunMount['sharing'];
      return true;
    }
    case 'mode': m.mode = int(8); return true;
    case 'uid': m.uid = int(10); return true;
    case 'gid': m.gid = int(10); return true;
    // Accepted as BuildKit does; a box build has no size limits, secrets or agents to apply them to.
    case 'size': case 'required': case 'env': return true;
    default: return bad(`unexpected key '${key}' in '${field}'`, suggest(key, KEYS), field);
  }
}

function finish(m: Partial<RunMount> & { type: MountType }, roAuto: boolean, bad: Bad): RunMount {
  const fileInfo = m.type === 'cache' || m.type === 'secret' || m.type === 'ssh';
  for (const key of ['mode', 'uid', 'gid'] as const) {
    if (!fileInfo && m[key] !== undefined) bad(`${key} not allowed for "${m.type}" type mounts`, 'mode, uid and gid apply to cache mounts');
  }
  if (m.sharing !== undefined && m.type !== 'cache') bad(`invalid cache sharing set for ${m.type} mount`, 'sharing applies to cache mounts');
  if (roAuto) m.readonly = m.type !== 'cache' && m.type !== 'tmpfs';
  if (m.type !== 'secret' && m.type !== 'ssh' && !m.target) bad(`the ${m.type} mount has no target`, 'add target=/path');
  return m as RunMount;
}

/** Split CSV fields the way Go's encoding/csv does for one record: commas separate, `"..."` quotes ("" inside). */
function csvFields(text: string, bad: Bad): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (i >= text.length) bad('unterminated quote in --mount', 'close the quote, e.g. "target=/a,b"');
        if (text[i] === '"' && text[i + 1] === '"') field += text[i++];
        else if (text[i] === '"') break;
        else field += text[i];
      }
      i++;
      if (i < text.length && text[i] !== ',') bad('unexpected text after a quoted --mount field', 'quote the whole field: "key=value"');
    } else {
      const end = text.indexOf(',', i);
      field = text.slice(i, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    }
    fields.push(field);
    if (i >= text.length) return fields.filter((f) => f !== '');
    i++;
  }
}

/** The `from=` references of a RUN's mounts, unexpanded, for the planner's stage dependencies. */
export function mountRefs(ins: InstructionOf<'RUN'>): string[] {
  const mounts = Array.isArray(ins.flags.mount) ? ins.flags.mount : [];
  const refs: string[] = [];
  for (const text of mounts) {
    try {
      const from = parseMount(text).from;
      if (from !== undefined && from !== '') refs.push(from);
    } catch {
      // A malformed mount fails with its full message when the RUN runs.
    }
  }
  return refs;
}
