import { WasmboxError } from '../errors.js';
import { splitPath } from '../fs/tree.js';
import { anchored, tokenizePattern, tokenRegex, type PatternToken } from './glob.js';

/** One `.dockerignore` rule: the cleaned pattern, whether it re-includes (`!`), its source line, and its matchers. */
export interface IgnorePattern {
  /** Cleaned like Go's filepath.Clean, relative to the context root, without the `!`. */
  pattern: string;
  exception: boolean;
  file: string;
  line: number;
  /** Matches a whole context-relative path. */
  regex: RegExp;
  /** Per-segment matchers (`'any'` from the first segment holding `**`); undefined when a class may match '/'. */
  segments: Array<RegExp | 'any'> | undefined;
}

/** Parse .dockerignore text into patterns (keeps source line numbers for errors). */
export function parseDockerignore(text: string, file = '.dockerignore'): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  text.replace(/^\uFEFF/, '').split('\n').forEach((raw, index) => {
    // As in moby, only a '#' in the very first column starts a comment.
    if (raw.startsWith('#')) return;
    let line = raw.trim();
    if (line === '') return;
    const exception = line.startsWith('!');
    if (exception) line = line.slice(1).trim();
    const where = { file, line: index + 1 };
    if (line === '') invalid(where, raw.trim(), 'a lone "!" re-includes nothing', 'write the path to re-include after the "!"');
    patterns.push(compilePattern(relativeClean(line), exception, where, raw));
  });
  return patterns;
}

/** filepath.Clean, then a leading '/' dropped: patterns are always relative to the context root. */
function relativeClean(pattern: string): string {
  const rooted = pattern.startsWith('/');
  const out: string[] = [];
  for (const part of pattern.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') out.push(part);
    else if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (!rooted) out.push('..');
  }
  if (out.length === 0) return rooted ? '/' : '.';
  return out.join('/');
}

function compilePattern(pattern: string, exception: boolean, where: { file: string; line: number }, raw: string): IgnorePattern {
  let tokens: PatternToken[];
  try {
    tokens = tokenizePattern(pattern);
  } catch (err) {
    if (!(err instanceof WasmboxError)) throw err;
    invalid(where, raw.trim(), err.message, err.hint);
  }
  return { pattern, exception, ...where, regex: anchored(wholeRegex(tokens)), segments: segmentMatchers(tokens) };
}

function invalid(where: { file: string; line: number }, value: string, why: string, hint?: string): never {
  throw new WasmboxError('DOCKERIGNORE', `invalid .dockerignore pattern at ${where.file}:${where.line}: ${why}`, {
    location: where,
    value,
    hint,
  });
}

const isStar = (t: PatternToken | undefined): boolean => t?.kind === 'star';
const isSlash = (t: PatternToken | undefined): boolean => t?.kind === 'char' && t.char === '/';

/**
 * The moby regex for a pattern: `**` followed by '/' matches any number of leading directories, a
 * trailing `**` matches anything. A leading `**` before a plain literal is moby's suffix test, so
 * `**file` also excludes `dir/myfile`.
 */
function wholeRegex(tokens: PatternToken[]): string {
  let source = '';
  for (let i = 0; i < tokens.length; ) {
    if (!(isStar(tokens[i]) && isStar(tokens[i + 1]))) {
      source += tokenRegex(tokens[i++]);
      continue;
    }
    const atStart = i === 0;
    i += 2;
    const slash = isSlash(tokens[i]);
    if (slash) i++;
    const suffixTest = atStart && !slash && tokens.slice(i).every((t) => t.kind === 'char');
    source += i === tokens.length || suffixTest ? '.*' : '(?:.*/)?';
  }
  return source;
}

function segmentMatchers(tokens: PatternToken[]): Array<RegExp | 'any'> | undefined {
  if (tokens.some((t) => t.kind === 'class' && classMayMatchSlash(t))) return undefined;
  const segments: PatternToken[][] = [[]];
  for (const t of tokens) {
    if (isSlash(t)) segments.push([]);
    else segments[segments.length - 1].push(t);
  }
  const out: Array<RegExp | 'any'> = [];
  for (const seg of segments) {
    if (seg.some((t, i) => isStar(t) && isStar(seg[i + 1]))) return [...out, 'any'];
    out.push(anchored(seg.map(tokenRegex).join('')));
  }
  return out;
}

function classMayMatchSlash(t: Extract<PatternToken, { kind: 'class' }>): boolean {
  const inRange = t.ranges.some(([lo, hi]) => lo <= 0x2f && 0x2f <= hi);
  return t.negated !== inRange;
}

/** Decides whether a context-relative path is excluded by .dockerignore patterns, with moby's rules. */
export class IgnoreMatcher {
  private readonly exceptions: IgnorePattern[];

  constructor(private readonly patterns: IgnorePattern[]) {
    this.exceptions = patterns.filter((p) => p.exception);
  }

  /**
   * Whether a context-relative path (no leading slash, '/' separators) is excluded: later patterns
   * override earlier ones, and a pattern matching any parent directory matches the path too.
   */
  excludes(relPath: string): boolean {
    const parts = splitPath(relPath).parts;
    if (parts.length === 0) return false;
    const path = parts.join('/');
    const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const p of this.patterns) {
      // An exclusion cannot change an excluded path, nor an exception an included one.
      if (p.exception !== excluded) continue;
      if (p.regex.test(path) || parents.some((d) => p.regex.test(d))) excluded = !p.exception;
    }
    return excluded;
  }

  /** True if some exception could re-include something below this excluded dir (so the walker must still descend). */
  mayHaveExceptionsBelow(relDir: string): boolean {
    const dirs = splitPath(relDir).parts;
    return this.exceptions.some((p) => mayMatchBelow(p.segments, dirs));
  }
}

/**
 * Whether segment matchers could match a path strictly below `dirs`. An exception that only matches the
 * directory or an ancestor treats the children the same way as the directory, so it cannot help.
 */
function mayMatchBelow(segments: Array<RegExp | 'any'> | undefined, dirs: string[]): boolean {
  if (segments === undefined) return true;
  for (let i = 0; i < dirs.length; i++) {
    const seg = segments[i];
    if (seg === undefined) return false;
    if (seg === 'any') return true;
    if (!seg.test(dirs[i])) return false;
  }
  return segments.length > dirs.length;
}
