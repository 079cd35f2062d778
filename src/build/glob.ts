import { WasmboxError } from '../errors.js';
import { compareNames, splitPath, type DirNode, type Tree } from '../fs/tree.js';

/** One element of a wildcard pattern: a literal character, `*`, `?` or a `[...]` class of code-point ranges. */
export type PatternToken =
  | { kind: 'char'; char: string }
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

/**
 * Pattern tokens under Go's filepath.Match grammar: `[^...]` negates (`!` is an ordinary character, as in
 * Go), `\` escapes, `[]...]`, `[-]` and unterminated classes are malformed. Throws WasmboxError 'PATTERN'.
 */
export function tokenizePattern(pattern: string): PatternToken[] {
  // Go matches runes, so work on code points rather than UTF-16 units.
  const chars = Array.from(pattern);
  const tokens: PatternToken[] = [];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i++];
    if (c === '*') tokens.push({ kind: 'star' });
    else if (c === '?') tokens.push({ kind: 'any' });
    else if (c === '[') i = readClass(chars, i, tokens, pattern);
    else if (c !== '\\') tokens.push({ kind: 'char', char: c });
    else if (i < chars.length) tokens.push({ kind: 'char', char: chars[i++] });
    else malformed(pattern, 'ends with a lone backslash');
  }
  return tokens;
}

function readClass(chars: string[], i: number, out: PatternToken[], pattern: string): number {
  const negated = chars[i] === '^';
  if (negated) i++;
  const ranges: Array<[number, number]> = [];
  while (!(chars[i] === ']' && ranges.length > 0)) {
    const [lo, afterLo] = classChar(chars, i, pattern);
    let [hi, next] = [lo, afterLo];
    if (chars[afterLo] === '-') [hi, next] = classChar(chars, afterLo + 1, pattern);
    ranges.push([lo, hi]);
    i = next;
  }
  out.push({ kind: 'class', negated, ranges });
  return i + 1;
}

/** One (possibly escaped) class character and the index after it; a class must still be open after it. */
function classChar(chars: string[], i: number, pattern: string): [number, number] {
  let c = chars[i];
  if (c === undefined || c === '-' || c === ']') malformed(pattern, 'has a malformed [...] character class');
  if (c === '\\') c = chars[++i];
  if (c === undefined || i + 1 >= chars.length) malformed(pattern, 'has an unterminated [...] character class');
  return [c.codePointAt(0)!, i + 1];
}

function malformed(pattern: string, why: string): never {
  throw new WasmboxError('PATTERN', `pattern ${JSON.stringify(pattern)} ${why}`, {
    value: pattern,
    hint: 'close every "[" with "]", or escape a literal "[", "*", "?" or "\\" with a backslash',
  });
}

/** The regular-expression source for one token: `*` and `?` never match '/', a class may (as in Go). */
export function tokenRegex(token: PatternToken): string {
  switch (token.kind) {
    case 'star':
      return '[^/]*';
    case 'any':
      return '[^/]';
    case 'char':
      return escapeChar(token.char);
    case 'class': {
      // A reversed range matches nothing in Go but is a syntax error in a RegExp, so drop it.
      const ranges = token.ranges.filter(([lo, hi]) => lo <= hi);
      const body = ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');
      return `[${token.negated ? '^' : ''}${body}]`;
    }
  }
}

function escapeChar(c: string): string {
  return /^[A-Za-z0-9_]$/.test(c) ? c : hex(c.codePointAt(0)!);
}

function hex(codePoint: number): string {
  return `\\u{${codePoint.toString(16)}}`;
}

/** A whole-string RegExp for a regex source built from tokens (flags: code points, `.` matches newlines). */
export function anchored(source: string): RegExp {
  return new RegExp(`^${source}$`, 'su');
}

const compiled = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = anchored(tokenizePattern(pattern).map(tokenRegex).join(''));
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/** Whether `path` matches a COPY source pattern with Go filepath.Match semantics. Throws WasmboxError 'PATTERN' if malformed. */
export function matchPath(pattern: string, path: string): boolean {
  return compile(pattern).test(path);
}

/** Whether a string contains wildcard characters (`*`, `?`, `[`) that are not escaped with `\`. */
export function hasWildcards(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '*' || s[i] === '?' || s[i] === '[') return true;
  }
  return false;
}

/**
 * All tree paths matching a COPY source pattern given relative to the root, sorted. As BuildKit does, the
 * literal directories before the first wildcard are resolved (symlinks followed, confined to the tree) and
 * the results name that resolved directory; below it, the rest of the pattern is matched against relative
 * paths without following symlinks, and a matched directory is not searched further.
 * A pattern without wildcards yields its cleaned path if something exists there.
 */
export function globTree(tree: Tree, pattern: string): string[] {
  const parts = splitPath(pattern).parts;
  const first = parts.findIndex(hasWildcards);
  if (first < 0) {
    const path = '/' + parts.join('/');
    return tree.get(path, false) === undefined ? [] : [path];
  }
  const rest = parts.slice(first).join('/');
  const re = compile(rest);
  const base = tree.get(parts.slice(0, first).join('/'));
  if (base?.kind !== 'dir') return [];
  const basePath = tree.resolve(parts.slice(0, first).join('/'), { followLast: true }).path;
  // A class can match '/', so only a pattern without one has a fixed depth we can stop at.
  const depth = rest.includes('[') ? Infinity : rest.split('/').length;
  const out: string[] = [];
  collect(base, '', re, depth, out);
  const prefix = basePath === '/' ? '' : basePath;
  return out.map((rel) => `${prefix}/${rel}`).sort(compareNames);
}

function collect(dir: DirNode, prefix: string, re: RegExp, depth: number, out: string[]): void {
  for (const [name, node] of dir.children) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    if (re.test(rel)) out.push(rel);
    else if (node.kind === 'dir' && depth > 1) collect(node, rel, re, depth - 1, out);
  }
}
