/**
 * The line reader's rules, as BuildKit's parser.Parse applies them: directives, comments and blank
 * lines inside continuations, escaped escapes, heredoc bodies, byte order marks and CRLF.
 */
import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { heredocSpecs, parseDockerfile } from '../../src/dockerfile/parse.js';

/** Each instruction as `KEYWORD args @line-endLine`, heredocs as `<<name(expand?)=content`. */
function summary(text: string): string[] {
  return parseDockerfile(text).instructions.map((i) => {
    const docs = i.heredocs.map((h) => ` <<${h.name}${h.expand ? '' : '(raw)'}=${JSON.stringify(h.content)}`).join('');
    return `${i.keyword} ${i.args} @${i.line}-${i.endLine}${docs}`;
  });
}

describe('instructions and continuations', () => {
  const cases: Array<[string, string, string[]]> = [
    ['keywords are upper-cased, arguments kept', 'from scratch\ncopy A b\n', ['FROM scratch @1-1', 'COPY A b @2-2']],
    ['leading blanks and comments are skipped', '\n  # comment\n\tFROM x\n', ['FROM x @3-3']],
    ['a continuation joins lines, keeping inner blanks', 'LABEL a=1 \\\n   b=2\n', ['LABEL a=1    b=2 @1-2']],
    ['comment and blank lines inside a continuation are dropped', 'ENV a=1 \\\n# c\n\n  # d\n b=2\nENV c=3\n', ['ENV a=1  b=2 @1-5', 'ENV c=3 @6-6']],
    ['blanks after the escape still continue', 'ENV a=1 \\  \t\nb=2\n', ['ENV a=1 b=2 @1-2']],
    ['an escaped escape at the end does not continue', 'ENV a=b\\\\\nENV c=d\n', ['ENV a=b\\\\ @1-1', 'ENV c=d @2-2']],
    ['a line holding only the escape starts a continuation', '\\\nFROM x\n', ['FROM x @1-2']],
    ['a continuation may run to the end of the file', 'FROM x\nLABEL a=1 \\', ['FROM x @1-1', 'LABEL a=1 @2-2']],
    ['CRLF line ends and a byte order mark', '\uFEFFFROM x\r\nLABEL a=1 \\\r\n  b=2\r\n', ['FROM x @1-1', 'LABEL a=1   b=2 @2-3']],
    ['with # escape=` the backtick continues and backslash is plain', '# escape=`\nFROM x\nENV p=C:\\ `\n  q=1\n', ['FROM x @2-2', 'ENV p=C:\\   q=1 @3-4']],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(summary(text)).toEqual(expected);
  });
});

describe('parser directives', () => {
  const cases: Array<[string, string, string, string | undefined]> = [
    ['escape on the first line', '# escape=`\nFROM x\n', '`', undefined],
    ['spaces and case are allowed', '#  ESCAPE = ` \nFROM x\n', '`', undefined],
    ['syntax then escape', '# syntax=docker/dockerfile:1\n# escape=`\nFROM x\n', '`', 'docker/dockerfile:1'],
    ['after a plain comment: a comment', '# hello\n# escape=`\nFROM x\n', '\\', undefined],
    ['after a blank line: a comment', '\n# escape=`\nFROM x\n', '\\', undefined],
    ['after an unknown directive: a comment', '# foo=bar\n# escape=`\nFROM x\n', '\\', undefined],
    ['after an instruction: a comment', 'FROM x\n# escape=`\n', '\\', undefined],
  ];
  it.each(cases)('%s', (_name, text, escape, syntax) => {
    const parsed = parseDockerfile(text);
    expect([parsed.escape, parsed.syntax]).toEqual([escape, syntax]);
  });

  const errors: Array<[string, string, RegExp]> = [
    ['a repeated directive', '# escape=`\n# escape=\\\nFROM x\n', /only one escape parser directive/],
    ['an escape that is neither \\ nor `', '# escape=x\nFROM x\n', /escape token must be/],
  ];
  it.each(errors)('rejects %s', (_name, text, message) => {
    expect(() => parseDockerfile(text)).toThrow(message);
    expect(() => parseDockerfile(text)).toThrow(WasmboxError);
  });
});

describe('heredocs', () => {
  const cases: Array<[string, string, string[]]> = [
    ['a body read after the logical line', 'COPY <<EOF \\\n  /x\nhi $A\nEOF\nFROM y\n', ['COPY <<EOF   /x @1-4 <<EOF="hi $A\\n"', 'FROM y @5-5']],
    ['<<- strips leading tabs from body and terminator', 'COPY <<-E /x\n\ta\n\t\t b\n\tE\n', ['COPY <<-E /x @1-4 <<E="a\\n b\\n"']],
    ['a quoted name turns expansion off', "COPY <<'E' /x\n$A\nE\n", ["COPY <<'E' /x @1-3 <<E(raw)=\"$A\\n\""]],
    ['two heredocs are read in order', 'COPY <<A <<B /d/\n1\nA\n2\nB\n', ['COPY <<A <<B /d/ @1-5 <<A="1\\n" <<B="2\\n"']],
    ['ONBUILD carries the heredoc of its trigger', 'ONBUILD COPY <<E /x\nbody\nE\n', ['ONBUILD COPY <<E /x @1-3 <<E="body\\n"']],
    ['the JSON form has none', 'COPY ["<<E", "/x"]\nFROM y\n', ['COPY ["<<E", "/x"] @1-1', 'FROM y @2-2']],
    ['other instructions have none', 'LABEL a=<<E\nFROM y\n', ['LABEL a=<<E @1-1', 'FROM y @2-2']],
    ['an empty body', 'COPY <<E /x\nE\n', ['COPY <<E /x @1-2 <<E=""']],
    ['CRLF bodies keep their line ends', 'COPY <<E /x\r\nline\r\nE\r\n', ['COPY <<E /x @1-3 <<E="line\\r\\n"']],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(summary(text)).toEqual(expected);
  });

  it('rejects an unterminated heredoc, naming its line', () => {
    const err = (() => {
      try {
        parseDockerfile('FROM x\nCOPY <<EOF /x\nno end\n');
      } catch (e) {
        return e as WasmboxError;
      }
    })();
    expect(err).toBeInstanceOf(WasmboxError);
    expect(err?.format()).toMatch(/^error: Dockerfile:2: COPY: unterminated heredoc/);
  });

  const specs: Array<[string, Array<{ name: string; chomp: boolean; expand: boolean }>]> = [
    ['<<EOF /x', [{ name: 'EOF', chomp: false, expand: true }]],
    ['<<-"EOF" /x', [{ name: 'EOF', chomp: true, expand: false }]],
    ["3<<'A'B /x", [{ name: 'AB', chomp: false, expand: false }]],
    ['a<<EOF << EOF <<', []],
    ['"<<EOF"', []],
  ];
  it.each(specs)('finds the markers in %s', (header, expected) => {
    expect(heredocSpecs(header).map(({ name, chomp, expand }) => ({ name, chomp, expand }))).toEqual(expected);
  });
});
