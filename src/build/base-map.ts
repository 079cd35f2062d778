/**
 * Base-image substitution: which `FROM` references wasmbox replaces, and with what.
 *
 * A base such as `python:3.12-slim` or `ruby:3.4` is a native Linux image: its interpreter is an ELF
 * binary no box can run. So, instead of pulling it, a build starts such a stage from a built-in base that
 * has the same shape and runs the language as WebAssembly:
 *
 *   FROM python[:TAG]                 → builtin:python  CPython from Pyodide; /usr/local/bin/python3 (python,
 *                                        python3.X) run it; Env PATH, LANG, PYTHON_VERSION; Cmd ["python3"]
 *   FROM ruby[:TAG]                   → builtin:ruby    Ruby from ruby.wasm; /usr/local/bin/ruby (irb prints
 *                                        why it is unavailable); Env like the official image; Cmd ["irb"]
 *   FROM busybox|alpine|debian|ubuntu[:TAG] → builtin:shell  no interpreter: /bin/sh is the built-in shell
 *
 * Every built-in base also has /bin, /usr/bin, /usr/local/bin, /etc/passwd and /etc/group with root,
 * /root and /tmp (1777). The build log says what it substituted, and says so when the tag asks for a
 * language version other than the one built in (e.g. python:3.12 while the built-in CPython is 3.14).
 *
 * Only references that would be pulled from a registry are substituted: `scratch`, `oci-layout://`,
 * `docker-archive://`, `oci-archive://` and `--build-context` names are always used as given.
 *
 * Overriding: set WASMBOX_BASE_MAP to
 *   - `off`: no substitution at all (every registry reference is pulled as written);
 *   - the path of a JSON file holding one object of PATTERN → TARGET, tried in order before the
 *     defaults above, e.g. {"python:*": "builtin:python", "myorg/base:1": "oci:./dir:tag", "ruby:2.7": "none"}.
 * PATTERN is a reference as docker spells it (`docker.io/library/` may be left out); `*` matches any
 * text, and a pattern without a tag matches every tag and digest of that name. TARGET is
 * `builtin:python`, `builtin:ruby`, `builtin:shell`, `none` (keep the reference as written), or another
 * image reference: `oci:DIR[:TAG]`, `docker-archive:FILE`, `oci-archive:FILE` (skopeo's spellings) or any
 * reference FROM accepts; relative paths are relative to the JSON file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fail } from '../errors.js';
import { BUILTIN_NAMES, type BuiltinName, builtinRuntime } from '../image/builtin.js';

/** One substitution rule: a reference pattern, what it becomes, and where the rule came from. */
export interface BaseRule {
  pattern: string;
  target: string;
  /** "the defaults" or the map file's path, for messages. */
  origin: string;
}

/** The substitution rules in force, tried in order (empty when substitution is off). */
export interface BaseMap {
  rules: BaseRule[];
}

/** What a reference becomes: a built-in base, another reference, or itself (undefined). */
export type BaseChoice =
  | { kind: 'builtin'; name: BuiltinName; rule: BaseRule }
  | { kind: 'image'; ref: string; rule: BaseRule };

/** The environment variable that overrides the map. */
export const BASE_MAP_VARIABLE = 'WASMBOX_BASE_MAP';

/** The rules that apply unless WASMBOX_BASE_MAP says otherwise. */
export const DEFAULT_BASE_RULES: readonly BaseRule[] = [
  ['python', 'builtin:python'],
  ['ruby', 'builtin:ruby'],
  ['busybox', 'builtin:shell'],
  ['alpine', 'builtin:shell'],
  ['debian', 'builtin:shell'],
  ['ubuntu', 'builtin:shell'],
].map(([pattern, target]) => ({ pattern, target, origin: 'the defaults' }));

/** The map WASMBOX_BASE_MAP (its value passed in) asks for. */
export function loadBaseMap(setting: string | undefined, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): BaseMap {
  if (setting === undefined || setting === '') return { rules: [...DEFAULT_BASE_RULES] };
  if (setting === 'off') return { rules: [] };
  const path = resolve(setting);
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    return bad(`cannot read the base map file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, setting, 'set WASMBOX_BASE_MAP to a JSON file, or to "off"');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return bad(`the base map file ${path} is not JSON (${(err as Error).message})`, setting, 'write one object of "PATTERN": "TARGET" pairs');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad(`the base map file ${path} must hold one JSON object`, setting, 'write e.g. {"python:*": "builtin:python"}');
  const rules = Object.entries(json).map(([pattern, target]) => fileRule(pattern, target, path));
  return { rules: [...rules, ...DEFAULT_BASE_RULES] };
}

function fileRule(pattern: string, target: unknown, path: string): BaseRule {
  if (typeof target !== 'string' || target.trim() === '') return bad(`the base map file ${path} maps "${pattern}" to ${JSON.stringify(target)}, not to a reference`, pattern, 'give a builtin:NAME, "none" or an image reference');
  if (pattern.trim() === '') return bad(`the base map file ${path} has an empty pattern`, pattern, 'write a reference pattern such as "python:*"');
  const builtin = /^builtin:(.*)$/.exec(target);
  if (builtin && !(BUILTIN_NAMES as readonly string[]).includes(builtin[1])) {
    return bad(`the base map file ${path} names an unknown built-in base "${target}"`, target, `use one of ${BUILTIN_NAMES.map((n) => `builtin:${n}`).join(', ')}`);
  }
  return { pattern, target: builtin || target === 'none' ? target : localTarget(target, dirname(path)), origin: path };
}

/** skopeo's `oci:DIR[:TAG]` and archive spellings as FROM references, with paths made absolute. */
function localTarget(target: string, base: string): string {
  const skopeo = /^(oci|oci-archive|docker-archive):(?!\/\/)(.*)$/.exec(target);
  const scheme = /^(oci-layout|oci-archive|docker-archive):\/\/(.*)$/.exec(target);
  const found = skopeo ? [skopeo[1] === 'oci' ? 'oci-layout' : skopeo[1], skopeo[2]] : scheme ? [scheme[1], scheme[2]] : undefined;
  if (!found) return target;
  const [kind, rest] = found;
  return `${kind}://${rest.startsWith('/') ? rest : resolve(base, rest)}`;
}

function bad(message: string, value: string, hint: string): never {
  return fail('BASE_MAP', message, { instruction: BASE_MAP_VARIABLE, value, hint });
}

/** What `ref` (a registry reference as FROM wrote it) becomes under `map`; undefined keeps it. */
export function chooseBase(ref: string, map: BaseMap): BaseChoice | undefined {
  const subject = spelled(ref);
  for (const rule of map.rules) {
    if (!matches(subject, spelled(rule.pattern))) continue;
    if (rule.target === 'none') return undefined;
    const builtin = /^builtin:(.*)$/.exec(rule.target);
    return builtin ? { kind: 'builtin', name: builtin[1] as BuiltinName, rule } : { kind: 'image', ref: rule.target, rule };
  }
  return undefined;
}

/** A reference split the way patterns are matched: the short repository name, its tag and digest. */
interface Spelled {
  name: string;
  tag?: string;
  digest?: string;
}

function spelled(ref: string): Spelled {
  let rest = ref.replace(/^docker-image:\/\//, '');
  const at = rest.indexOf('@');
  const digest = at >= 0 ? rest.slice(at + 1) : undefined;
  if (at >= 0) rest = rest.slice(0, at);
  const colon = rest.lastIndexOf(':');
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : undefined;
  const name = (tag === undefined ? rest : rest.slice(0, colon)).replace(/^(?:docker\.io|index\.docker\.io)\//, '').replace(/^library\/(?=[^/]+$)/, '');
  return { name, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

function matches(subject: Spelled, pattern: Spelled): boolean {
  if (!glob(pattern.name).test(subject.name)) return false;
  if (pattern.tag === undefined && pattern.digest === undefined) return true;
  if (pattern.digest !== undefined && !glob(pattern.digest).test(subject.digest ?? '')) return false;
  return pattern.tag === undefined || glob(pattern.tag).test(subject.tag ?? (subject.digest ? '' : 'latest'));
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** The build log lines for a substitution: what replaced the image, and a note when versions differ. */
export function describeChoice(ref: string, choice: BaseChoice): string[] {
  if (choice.kind === 'image') return [`FROM ${ref}: using ${choice.ref} instead (${BASE_MAP_VARIABLE}: ${choice.rule.origin})`];
  const runtime = builtinRuntime(choice.name);
  const what = choice.name === 'shell' ? 'the built-in shell base (/bin/sh is wasmbox\'s built-in shell)' : `the built-in ${runtime.language} (${runtime.provider})`;
  const lines = [`FROM ${ref}: using ${what} instead of the native image`];
  const asked = /^(\d+)(?:\.(\d+))?/.exec(spelled(ref).tag ?? '');
  if (asked && runtime.version) {
    const [major, minor] = runtime.version.split('.');
    if (asked[1] !== major || (asked[2] !== undefined && asked[2] !== minor)) {
      const wanted = asked[2] === undefined ? asked[1] : `${asked[1]}.${asked[2]}`;
      lines.push(`FROM ${ref}: the tag asks for ${runtime.language} ${wanted} but the built-in ${runtime.language} is ${runtime.version}; code that depends on ${wanted}-specific behaviour may differ`);
    }
  }
  return lines;
}
