// The shell patterns of `${x#p}`, `${x%p}` and `${x/p/r}`, matched the way BuildKit matches them.
// BuildKit turns a pattern into a Go regexp; we match the same language directly (a set of reachable
// positions per pattern token), which keeps the cost linear per start and immune to backtracking blowups.

/** One pattern element: a literal code point, `?` (one char) or `*` (any run); neither crosses a newline. */
type Token = { kind: 'lit'; ch: string } | { kind: 'one' } | { kind: 'star' };

/** Why a pattern could not be used: BuildKit only lets `\` escape `*`, `?`, `\`, `}` and `/`. */
export class PatternError extends Error {}

/** The tokens of a pattern; brackets are literal, as in BuildKit (it has no `[...]` classes). */
export function parsePattern(pattern: string): Token[] {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') tokens.push({ kind: 'star' });
    else if (ch === '?') tokens.push({ kind: 'one' });
    else if (ch !== '\\') tokens.push({ kind: 'lit', ch });
    // `\}` and `\/` only protect the delimiter while scanning ${...}; the backslash is not part of the pattern.
    else if (chars[i + 1] === '}' || chars[i + 1] === '/') continue;
    else if (chars[i + 1] === '*' || chars[i + 1] === '?' || chars[i + 1] === '\\') tokens.push({ kind: 'lit', ch: chars[++i] });
    else throw new PatternError(`invalid escape '\\${chars[i + 1] ?? ''}'`);
  }
  return tokens;
}

/** Marks (1) every position of `chars` where a match of `tokens` starting at `start` can end. */
function matchEnds(tokens: Token[], chars: string[], start: number): Uint8Array {
  let cur = new Uint8Array(chars.length + 1);
  cur[start] = 1;
  for (const token of tokens) {
    const next = new Uint8Array(chars.length + 1);
    let open = false;
    for (let p = start; p <= chars.length; p++) {
      if (token.kind === 'star') {
        open ||= cur[p] === 1;
        if (open) next[p] = 1;
        if (chars[p] === '\n') open = false;
      } else if (cur[p] && p < chars.length && (token.kind === 'one' ? chars[p] !== '\n' : chars[p] === token.ch)) {
        next[p + 1] = 1;
      }
    }
    cur = next;
  }
  return cur;
}

/** The shortest or longest match end from `start`, or -1. With all stars equally greedy this is what a
 * leftmost-first regexp engine (Go's) picks too. */
function matchAt(tokens: Token[], chars: string[], start: number, longest: boolean): number {
  const ends = matchEnds(tokens, chars, start);
  return longest ? ends.lastIndexOf(1) : ends.indexOf(1);
}

/** `${x#p}` / `${x##p}`: the value without its shortest (longest) prefix matching the pattern. */
export function trimPrefix(value: string, pattern: string, longest: boolean): string {
  const chars = Array.from(value);
  const end = matchAt(parsePattern(pattern), chars, 0, longest);
  return end < 0 ? value : chars.slice(end).join('');
}

/** `${x%p}` / `${x%%p}`: the value without its shortest (longest) suffix matching the pattern. */
export function trimSuffix(value: string, pattern: string, longest: boolean): string {
  // Like BuildKit, match the reversed pattern against the reversed value so "suffix" becomes "prefix".
  const reversed = trimPrefix(Array.from(value).reverse().join(''), reversePattern(pattern), longest);
  return Array.from(reversed).reverse().join('');
}

/** The pattern backwards, keeping each `\c` escape pair in order (`a\*c` becomes `c\*a`). */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    pieces.push(chars[i] === '\\' && i < chars.length - 1 ? chars[i] + chars[++i] : chars[i]);
  }
  return pieces.reverse().join('');
}

/** `${x/p/r}` and `${x//p/r}`: replace the first (or every) leftmost-longest match of the pattern. */
export function replacePattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const tokens = parsePattern(pattern);
  const chars = Array.from(value);
  if (!all) {
    const m = findFrom(tokens, chars, 0);
    return m ? chars.slice(0, m[0]).join('') + replacement + chars.slice(m[1]).join('') : value;
  }
  // Go's ReplaceAllString: an empty match right after a previous match is not replaced, and the
  // replacement is a template in which `$0` / `${0}` is the match and other references are empty.
  let out = '';
  let last = 0;
  for (let search = 0; search <= chars.length; ) {
    const m = findFrom(tokens, chars, search);
    if (!m) break;
    out += chars.slice(last, m[0]).join('');
    if (m[1] > last || m[0] === 0) out += expandTemplate(replacement, chars.slice(m[0], m[1]).join(''));
    last = m[1];
    search = Math.max(search + 1, m[1]);
  }
  return out + chars.slice(last).join('');
}

/** The leftmost match starting at or after `from`, longest at that start, as [start, end]. */
function findFrom(tokens: Token[], chars: string[], from: number): [number, number] | undefined {
  for (let start = from; start <= chars.length; start++) {
    const end = matchAt(tokens, chars, start, true);
    if (end >= 0) return [start, end];
  }
  return undefined;
}

const TEMPLATE_REF = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u;

/** A Go regexp replacement template applied to a match of a pattern that has no capture groups. */
function expandTemplate(template: string, match: string): string {
  let out = '';
  let i = 0;
  for (let d = template.indexOf('$'); d >= 0; d = template.indexOf('$', i)) {
    out += template.slice(i, d);
    i = d + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const ref = TEMPLATE_REF.exec(template.slice(i));
    if (!ref) out += '$';
    else if ((ref[1] ?? ref[2]) === '0') out += match;
    if (ref) i += ref[0].length;
  }
  return out + template.slice(i);
}
