import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { expand, expandWord, expandWords, unsetNames, type ExpandOptions } from '../../src/dockerfile/expand.js';

/** The variables every case sees; UNSET, UNSET2, aaa, foo ... are deliberately not set. */
const VARS = new Map<string, string>([
  ['PWD', '/home'],
  ['SHELL', 'bash'],
  ['EMPTY', ''],
  ['KOREAN', '한국어'],
  ['FILE', '/usr/lib/libfoo.so.1.2'],
  ['URL', 'http://example.com/a/b'],
  ['STARS', 'a***yy*'],
  ['GLOBS', '/foo*/*/*.txt'],
  ['GLOB', '\\*/'],
  ['NEEDLE', '/?/'],
  ['HASH', '#'],
  ['DOLLAR', '$'],
  ['NL', 'a\nb'],
  ['X', 'x'],
  ['BRACKET', '[ab]c'],
  ['PAREN', '(a)+b.c'],
  ['VARIANT', 'v7'],
  ['SPACED', '  ab  c  '],
  ['PORT', '443'],
]);

interface Case {
  line: number;
  input: string;
  expected: string;
  escape: '\\' | '`';
}

/** A side of a case: trimmed text, or an exact JSON string after `json:`. */
function field(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith('json:') ? (JSON.parse(trimmed.slice(5)) as string) : trimmed;
}

/** The cases of a table file: `input => expected`, `#` comments, `@escape c` switches. */
function load(name: string): Case[] {
  const cases: Case[] = [];
  let escape: '\\' | '`' = '\\';
  readFileSync(new URL(name, import.meta.url), 'utf8').split('\n').forEach((text, i) => {
    if (text.trim() === '' || text.startsWith('#')) return;
    if (text.startsWith('@escape ')) {
      escape = text.slice(8).trim() as '\\' | '`';
      return;
    }
    const arrow = / =>( |$)/.exec(text);
    if (!arrow) throw new Error(`${name}:${i + 1}: expected "input => expected"`);
    const expected = text.slice(arrow.index + arrow[0].length).trim();
    cases.push({ line: i + 1, input: field(text.slice(0, arrow.index)), expected, escape });
  });
  return cases;
}

/** Runs `fn` and checks it fails with an EXPAND WasmboxError carrying the word and a hint. */
function expectExpandError(fn: () => unknown, input: string, text: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WasmboxError);
  const error = caught as WasmboxError;
  expect(error.code).toBe('EXPAND');
  expect(error.message).toContain(text);
  expect(error.value).toBe(input);
  expect(error.hint).toBeTruthy();
}

const label = (c: Case): string => `line ${c.line}: ${JSON.stringify(c.input)} (escape ${c.escape})`;

describe('expandWord', () => {
  const cases = load('expand-cases.txt');
  it('has a broad table', () => expect(cases.length).toBeGreaterThanOrEqual(120));

  it.each(cases.map((c) => [label(c), c] as const))('%s', (_, c) => {
    const opts: ExpandOptions = { escape: c.escape };
    if (c.expected.startsWith('error:')) {
      expectExpandError(() => expandWord(c.input, VARS, opts), c.input, c.expected.slice(6).trim());
    } else {
      expect(expandWord(c.input, VARS, opts)).toBe(field(c.expected));
    }
  });
});

describe('expandWords', () => {
  it.each(load('words-cases.txt').map((c) => [label(c), c] as const))('%s', (_, c) => {
    if (c.expected.startsWith('error:')) {
      expectExpandError(() => expandWords(c.input, VARS), c.input, c.expected.slice(6).trim());
    } else {
      expect(expandWords(c.input, VARS)).toEqual(JSON.parse(c.expected));
    }
  });
});

describe('expand', () => {
  it('reports the names that were looked up and not set', () => {
    const result = expand('$PWD ${UNSET:-$UNSET2} ${EMPTY} $1 ${X:+$UNSET3}', VARS);
    expect(result.value).toBe('/home    ');
    expect(result.words).toEqual(['/home']);
    expect(new Set(result.unset)).toEqual(new Set(['UNSET', 'UNSET2', '1', 'UNSET3']));
  });

  it('gives no unset names for a word that does not expand', () => {
    expect(unsetNames('${UNSET', VARS)).toEqual([]);
    expect(unsetNames('a$B', VARS)).toEqual(['B']);
  });

  it('reads a name exactly: no case folding, unicode letters allowed', () => {
    expect(expandWord('$Pwd|$안녕', new Map([['PWD', 'x'], ['안녕', 'hi']]))).toBe('|hi');
  });

  it('turns runaway nesting into an EXPAND error, never a RangeError', () => {
    const deep = '${A:-'.repeat(20000) + 'x' + '}'.repeat(20000);
    expectExpandError(() => expandWord(deep, VARS), deep, 'cannot expand word');
  });

  it('stays fast on patterns that would backtrack badly as a regexp', () => {
    const value = 'a'.repeat(3000);
    const started = Date.now();
    expect(expandWord('${V%%*a*a*a*a*b}', new Map([['V', value]]))).toBe(value);
    expect(expandWord('${V//a*b/x}', new Map([['V', value]]))).toBe(value);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
