import { describe, expect, it } from 'vitest';
import { globTree, hasWildcards, matchPath } from '../../src/build/glob.js';
import { WasmboxError } from '../../src/errors.js';
import { Tree, type Node } from '../../src/fs/tree.js';

// [pattern, path, matches?] — Go's filepath.Match table (path/filepath/match_test.go) plus COPY cases.
const matches: Array<[string, string, boolean]> = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false],
  ['a?b', 'a😀b', true],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[\\-x]', '-', true],
  ['[\\-x]', 'a', false],
  ['*x', 'xxx', true],
  // Go has no `[!...]`: '!' is an ordinary class member.
  ['[!a]b', '!b', true],
  ['[!a]b', 'xb', false],
  ['[z-a]', 'm', false],
  ['[^z-a]', 'm', true],
  ['a[/]b', 'a/b', true],
  ['*.txt', '.hidden.txt', true],
  ['src/*.ts', 'src/a.ts', true],
  ['src/*.ts', 'src/sub/a.ts', false],
  ['a.b', 'axb', false],
  ['(x)+', '(x)+', true],
];

describe('matchPath', () => {
  it.each(matches)('%j vs %j: %s', (pattern, path, expected) => {
    expect(matchPath(pattern, path)).toBe(expected);
  });

  const malformed = ['[]a]', '[-]', '[x-]', '[-x]', '\\', '[a-b-c]', '[', '[^', '[^bc', 'a[', 'a/b[', '[\\'];
  it.each(malformed)('rejects %j', (pattern) => {
    expect(() => matchPath(pattern, 'a')).toThrow(WasmboxError);
    try {
      matchPath(pattern, 'a');
    } catch (err) {
      expect([(err as WasmboxError).code, (err as WasmboxError).value]).toEqual(['PATTERN', pattern]);
    }
  });
});

describe('hasWildcards', () => {
  const rows: Array<[string, boolean]> = [
    ['plain/path.txt', false],
    ['*.txt', true],
    ['file?.txt', true],
    ['[ab].txt', true],
    ['a\\*b', false],
    ['a\\[b', false],
    ['a\\\\*', true],
    ['a]b', false],
  ];
  it.each(rows)('%j: %s', (s, expected) => expect(hasWildcards(s)).toBe(expected));
});

const meta = { mode: 0o644, uid: 0, gid: 0, mtime: 0 };
const file = (): Node => ({ kind: 'file', data: new Uint8Array(), ...meta });
const link = (target: string): Node => ({ kind: 'symlink', target, ...meta });

function sample(): Tree {
  const t = new Tree();
  for (const p of ['app/a.txt', 'app/b.txt', 'app/c.md', 'app/a-b.txt', 'app/sub/d.txt', 'app/sub/deep/e.txt', 'top.md']) t.put(p, file());
  t.put('link', link('/app'));
  t.put('app/lnk', link('sub'));
  t.put('escape', link('../../..'));
  return t;
}

// [pattern, matched paths]
const globs: Array<[string, string[]]> = [
  ['app/*.txt', ['/app/a-b.txt', '/app/a.txt', '/app/b.txt']],
  ['app/*', ['/app/a-b.txt', '/app/a.txt', '/app/b.txt', '/app/c.md', '/app/lnk', '/app/sub']],
  ['/app/*.md', ['/app/c.md']],
  ['app/../app/*.md', ['/app/c.md']],
  ['*.md', ['/top.md']],
  ['*/*.md', ['/app/c.md']],
  ['*', ['/app', '/escape', '/link', '/top.md']],
  ['../../*.md', ['/top.md']],
  ['link/*.md', ['/app/c.md']],
  ['escape/*.md', ['/top.md']],
  ['app/?.txt', ['/app/a.txt', '/app/b.txt']],
  ['app/[ab].txt', ['/app/a.txt', '/app/b.txt']],
  ['app/[^a].txt', ['/app/b.txt']],
  ['app/s*', ['/app/sub']],
  ['app/*/d.txt', ['/app/sub/d.txt']],
  ['app/sub/*/e.txt', ['/app/sub/deep/e.txt']],
  ['app/lnk/*.txt', ['/app/sub/d.txt']],
  ['app/sub', ['/app/sub']],
  ['link', ['/link']],
  ['missing', []],
  ['missing/*.txt', []],
  ['app/a.txt/*', []],
  ['app/*.none', []],
];

describe('globTree', () => {
  it.each(globs)('%j', (pattern, expected) => {
    expect(globTree(sample(), pattern)).toEqual(expected);
  });

  it('rejects a malformed pattern even when nothing could match', () => {
    expect(() => globTree(sample(), 'missing/[')).toThrow(expect.objectContaining({ code: 'PATTERN' }));
  });
});
