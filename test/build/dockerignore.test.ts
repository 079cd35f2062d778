import { describe, expect, it } from 'vitest';
import { IgnoreMatcher, parseDockerignore } from '../../src/build/dockerignore.js';
import { WasmboxError } from '../../src/errors.js';

// [.dockerignore text, context-relative path, excluded?] — cases follow moby/patternmatcher and the docker docs.
const cases: Array<[string, string, boolean]> = [
  // plain names, anchoring at the context root
  ['*', 'fileutils.go', true],
  ['*.go', 'fileutils.go', true],
  ['*.go', 'dir/fileutils.go', false],
  ['Dockerfile', 'Dockerfile', true],
  ['.dockerignore', '.dockerignore', true],
  ['docs', 'docsx', false],
  ['docs', 'other/docs', false],
  ['/docs', 'docs/a', true],
  ['a/b', 'a', false],
  ['/', 'anything', false],
  ['*/temp*', 'somedir/temporary.txt', true],
  ['*/temp*', 'temp', false],
  ['*/*/temp*', 'somedir/subdir/temporary.txt', true],
  ['temp?', 'tempa', true],
  ['temp?', 'temp', false],
  // a pattern matching a directory excludes everything below it
  ['docs', 'docs/sub/deep/file', true],
  ['docs/', 'docs/x', true],
  ['node_modules', 'node_modules/pkg/index.js', true],
  ['a/*', 'a/b/c/d', true],
  // ** : any number of directories
  ['**', 'anything/at/all', true],
  ['**/', 'x', true],
  ['**/docs', 'docs', true],
  ['**/docs', 'other/docs', true],
  ['**/docs', 'other/docs/file', true],
  ['**/node_modules', 'packages/a/node_modules/x/y.js', true],
  ['dir/**', 'dir', false],
  ['dir/**', 'dir/file', true],
  ['dir/**', 'dir/a/b', true],
  ['**/dir2/*', 'dir/dir2/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**file', 'dir/file', true],
  ['**file', 'dir/myfile', true],
  ['**/file', 'dir/myfile', false],
  ['**/file*.txt', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'file.txt', true],
  ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true],
  ['**/*.log', 'logs/x.log', true],
  ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false],
  ['a/*.txt**', 'a/file.txt', true],
  ['**/.foo', 'bar.foo', false],
  // ?, classes, escapes, regex metacharacters taken literally
  ['abc?def', 'abcZdef', true],
  ['abc?def', 'abc/def', false],
  ['a?c', 'a/c', false],
  ['a[b-d]e', 'ace', true],
  ['a[b-d]e', 'aae', false],
  ['a[b-d]e', 'ae', false],
  ['a[^b-d]e', 'aze', true],
  ['[a-c]*', 'beta', true],
  ['[!a]x', '!x', true],
  ['[!a]x', 'bx', false],
  ['[\\]a]', ']', true],
  ['a[/]c', 'a/c', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'axb', false],
  ['.*', '.foo', true],
  ['.*', 'foo', false],
  ['abc.def', 'abcdef', false],
  ['a(b)c/def', 'a(b)c/def', true],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  // cleaning: ./, .., doubled and trailing slashes, whitespace
  ['./foo/../bar', 'bar', true],
  ['foo/./bar//baz', 'foo/bar/baz', true],
  ['/../foo', 'foo', true],
  ['  foo  ', 'foo', true],
  ['\n\n   \nfoo', 'foo', true],
  ['\uFEFFfoo', 'foo', true],
  ['foo\r\nbar\r\n', 'bar', true],
  // comments: only a '#' in the first column
  ['# comment\nfoo', '# comment', false],
  [' # not a comment', '# not a comment', true],
  // exceptions; the last matching pattern wins
  ['!fileutils.go\n*.go', 'fileutils.go', true],
  ['*.go\n!fileutils.go', 'fileutils.go', false],
  ['!foo', 'foo', false],
  ['*\n! /keep', 'keep', false],
  ['docs\n!docs/README.md', 'docs/README.md', false],
  ['docs/\n!docs/README.md', 'docs/README.md', false],
  ['docs/*\n!docs/README.md', 'docs/README.md', false],
  ['docs\n!docs/README.md', 'docs/other.md', true],
  ['vendor\n!vendor/keep', 'vendor/keep/file', false],
  ['vendor\n!vendor/keep', 'vendor/other', true],
  ['*.log\n!important.log', 'logs/x.log', false],
  ['*.md\n!README*.md\nREADME-secret.md', 'README-secret.md', true],
  ['*.md\n!README*.md\nREADME-secret.md', 'README.md', false],
  ['*.md\n!README*.md\nREADME-secret.md', 'CHANGES.md', true],
  ['*.md\nREADME-secret.md\n!README*.md', 'README-secret.md', false],
  ['*\n!*.go\n*_test.go', 'x_test.go', true],
  ['*\n!*.go\n*_test.go', 'x.go', false],
  ['**\n!util/docker/web', 'util/docker/web/foo', false],
  ['**\n!util/docker/web\nutil/docker/web/foo', 'util/docker/web/foo', true],
  ['**\n!dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
];

describe('IgnoreMatcher.excludes', () => {
  it.each(cases)('%j excludes %j: %s', (text, path, expected) => {
    expect(new IgnoreMatcher(parseDockerignore(text)).excludes(path)).toBe(expected);
  });

  it('never excludes the context root', () => {
    expect(new IgnoreMatcher(parseDockerignore('**\n*\n.')).excludes('')).toBe(false);
  });
});

// [.dockerignore text, excluded directory, may an exception re-include something below it?]
const descendCases: Array<[string, string, boolean]> = [
  ['vendor', 'vendor', false],
  ['vendor\n!vendor/keep', 'vendor', true],
  ['vendor\n!vendor/keep/x', 'vendor/keep', true],
  ['vendor\n!vendor/keep', 'vendor/keep2', false],
  ['vendor\n!vendor/*.go', 'vendor', true],
  ['vendor\n!vendor/*.go', 'vendor/sub', false],
  ['vendor\n!**/keep', 'vendor/deep/er', true],
  ['vendor\n!vendor/**/keep', 'vendor/a/b', true],
  ['a\n!a', 'a', false],
  ['node_modules\n!src/keep', 'node_modules', false],
  ['x\n!x/[^a]/y', 'x', true],
];

describe('IgnoreMatcher.mayHaveExceptionsBelow', () => {
  it.each(descendCases)('%j under %j: %s', (text, dir, expected) => {
    expect(new IgnoreMatcher(parseDockerignore(text)).mayHaveExceptionsBelow(dir)).toBe(expected);
  });
});

describe('parseDockerignore', () => {
  it('cleans patterns, strips the root slash and keeps line numbers', () => {
    const text = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n  # spaced';
    const got = parseDockerignore(text, 'ctx/.dockerignore').map((p) => [p.pattern, p.exception, p.line, p.file]);
    expect(got).toEqual([
      ['test1', false, 1, 'ctx/.dockerignore'],
      ['test2', false, 2, 'ctx/.dockerignore'],
      ['a/file/here', false, 3, 'ctx/.dockerignore'],
      ['lastfile', false, 5, 'ctx/.dockerignore'],
      ['inverted/abs/path', true, 7, 'ctx/.dockerignore'],
      ['# spaced', false, 8, 'ctx/.dockerignore'],
    ]);
  });

  // [.dockerignore text, line of the bad pattern, the pattern as written]
  const bad: Array<[string, number, string]> = [
    ['ok\n[', 2, '['],
    ['ok\n\n  a[b-c-d]  ', 3, 'a[b-c-d]'],
    ['[]a]', 1, '[]a]'],
    ['foo\\', 1, 'foo\\'],
    ['*.go\n!', 2, '!'],
    ['*.go\n  !   ', 2, '!'],
  ];
  it.each(bad)('rejects %j at line %i', (text, line, value) => {
    let error: unknown;
    try {
      parseDockerignore(text, 'app/.dockerignore');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WasmboxError);
    const e = error as WasmboxError;
    expect([e.code, e.location, e.value]).toEqual(['DOCKERIGNORE', { file: 'app/.dockerignore', line }, value]);
    expect(e.message).toContain(`app/.dockerignore:${line}`);
    expect(e.hint).toBeTruthy();
  });
});
