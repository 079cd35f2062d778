/**
 * Typed instructions from raw ones: how each keyword splits its arguments and flags (as BuildKit's
 * line parsers do), and the errors a malformed instruction gives.
 */
import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { type Instruction, toInstruction } from '../../src/dockerfile/instructions.js';
import { parseDockerfile } from '../../src/dockerfile/parse.js';

/** The one instruction of `line` (in a file that may start with directives), typed. */
function typed(text: string): Instruction {
  const parsed = parseDockerfile(text);
  return toInstruction(parsed.instructions[parsed.instructions.length - 1], 'Dockerfile', parsed.escape);
}

/** The instruction without the fields every case shares. */
function shape(text: string): Record<string, unknown> {
  const { line: _l, endLine: _e, text: _t, ...rest } = typed(text) as unknown as Record<string, unknown>;
  return rest;
}

describe('argument shapes', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['FROM scratch', { keyword: 'FROM', flags: {}, image: 'scratch', stage: undefined }],
    ['FROM --platform=$BUILDPLATFORM img AS Build', { keyword: 'FROM', flags: { platform: '$BUILDPLATFORM' }, image: 'img', stage: 'build' }],
    ['COPY a "b c" /d/', { keyword: 'COPY', flags: {}, sources: ['a', '"b', 'c"'], dest: '/d/', heredocs: [] }],
    ['COPY ["a b", "/d/"]', { keyword: 'COPY', flags: {}, sources: ['a b'], dest: '/d/', heredocs: [] }],
    ['COPY --from=build --chown=1:2 --link --exclude=a --exclude=b x y', {
      keyword: 'COPY', flags: { from: 'build', chown: '1:2', link: true, exclude: ['a', 'b'] }, sources: ['x'], dest: 'y', heredocs: [],
    }],
    ['ADD --unpack=false --link=false a b', { keyword: 'ADD', flags: { unpack: false, link: false }, sources: ['a'], dest: 'b', heredocs: [] }],
    ['ENV A=1 B="two words" C', { error: /ENV arguments must look like name=value/ }],
    ['ENV LEGACY  value  with spaces', { keyword: 'ENV', flags: {}, pairs: [{ name: 'LEGACY', value: 'value  with spaces' }] }],
    ['ENV A=1 B="x y"', { keyword: 'ENV', flags: {}, pairs: [{ name: 'A', value: '1' }, { name: 'B', value: '"x y"' }] }],
    ['ARG A B=1 C=', { keyword: 'ARG', flags: {}, pairs: [{ name: 'A', value: undefined }, { name: 'B', value: '1' }, { name: 'C', value: '' }] }],
    ['LABEL "a b"=c', { keyword: 'LABEL', flags: {}, pairs: [{ name: '"a b"', value: 'c' }] }],
    ['CMD ["a", "b"]', { keyword: 'CMD', flags: {}, command: { form: 'exec', argv: ['a', 'b'] } }],
    ['CMD [not json', { keyword: 'CMD', flags: {}, command: { form: 'shell', text: '[not json' } }],
    ['ENTRYPOINT exec  "$X"', { keyword: 'ENTRYPOINT', flags: {}, command: { form: 'shell', text: 'exec  "$X"' } }],
    ['ENTRYPOINT []', { keyword: 'ENTRYPOINT', flags: {}, command: { form: 'exec', argv: [] } }],
    ['SHELL ["pwsh", "-c"]', { keyword: 'SHELL', flags: {}, argv: ['pwsh', '-c'] }],
    ['VOLUME ["/a", "/b c"]', { keyword: 'VOLUME', flags: {}, values: ['/a', '/b c'] }],
    ['VOLUME /a   /b', { keyword: 'VOLUME', flags: {}, values: ['/a', '/b'] }],
    ['EXPOSE 80 53/udp', { keyword: 'EXPOSE', flags: {}, values: ['80', '53/udp'] }],
    ['WORKDIR  /a b ', { keyword: 'WORKDIR', flags: {}, value: '/a b' }],
    ['MAINTAINER "Jane" <j@x>', { keyword: 'MAINTAINER', flags: {}, value: '"Jane" <j@x>' }],
    ['HEALTHCHECK NONE', { keyword: 'HEALTHCHECK', flags: {}, command: 'NONE' }],
    ['HEALTHCHECK --interval=5s CMD ["true"]', { keyword: 'HEALTHCHECK', flags: { interval: '5s' }, command: { form: 'exec', argv: ['true'] } }],
    ['HEALTHCHECK cmd curl x', { keyword: 'HEALTHCHECK', flags: {}, command: { form: 'shell', text: 'curl x' } }],
  ];
  it.each(cases)('%s', (line, expected) => {
    if ('error' in expected) expect(() => typed(line)).toThrow(expected.error as RegExp);
    else expect(shape(line)).toEqual(expected);
  });

  it('keeps the ONBUILD trigger as written and types the inner instruction', () => {
    const ins = typed('ONBUILD   copy  --chown=1 a /b');
    expect(ins).toMatchObject({ keyword: 'ONBUILD', trigger: 'copy  --chown=1 a /b', inner: { keyword: 'COPY', flags: { chown: '1' }, sources: ['a'], dest: '/b' } });
    const withDoc = typed('ONBUILD COPY <<E /x\nhi\nE\n');
    expect(withDoc).toMatchObject({ keyword: 'ONBUILD', trigger: 'COPY <<E /x\nhi\nE' });
  });
});

describe('errors', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown instruction, with a suggestion', 'COPPY a b', /Dockerfile:1: COPPY: unknown instruction COPPY\n  hint: did you mean "COPY"\?/],
    ['an unknown flag, with a suggestion', 'COPY --chwon=1 a b', /COPY: unknown flag --chwon\n  hint: did you mean --chown\?/],
    ['a flag on an instruction that takes none', 'LABEL --x=1 a=b', /LABEL: unknown flag --x\n  hint: LABEL takes no flags/],
    ['a flag given twice', 'COPY --from=a --from=b x y', /--from given twice/],
    ['a bool flag with another value', 'COPY --link=maybe a b', /--link expects true or false/],
    ['a string flag without a value', 'COPY --chown a b', /--chown needs a value/],
    ['COPY without a destination', 'COPY a', /COPY needs at least one source and a destination/],
    ['a heredoc as destination', 'COPY a <<EOF\nx\nEOF', /cannot accept a heredoc as a destination/],
    ['a JSON array holding numbers', 'ENTRYPOINT ["sleep", 5]', /arrays must be comprised of strings only/],
    ['SHELL not in JSON form', 'SHELL /bin/sh -c', /SHELL requires the arguments in JSON form/],
    ['FROM with two words', 'FROM a b', /FROM takes an image and optionally "AS name"/],
    ['an invalid stage name', 'FROM a AS 1st', /invalid stage name "1st"/],
    ['ONBUILD ONBUILD', 'ONBUILD ONBUILD RUN x', /ONBUILD is not allowed as an ONBUILD trigger/],
    ['ONBUILD FROM', 'ONBUILD from x', /FROM is not allowed as an ONBUILD trigger/],
    ['HEALTHCHECK without CMD', 'HEALTHCHECK curl x', /HEALTHCHECK needs CMD or NONE/],
    ['HEALTHCHECK NONE with arguments', 'HEALTHCHECK NONE x', /HEALTHCHECK NONE takes no other arguments/],
    ['an ENV with a blank name', 'ENV =x', /ENV name cannot be empty/],
    ['an instruction without arguments', 'WORKDIR', /WORKDIR needs arguments/],
  ];
  it.each(cases)('rejects %s', (_name, line, message) => {
    let thrown: unknown;
    try {
      typed(line);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(WasmboxError);
    expect((thrown as WasmboxError).format()).toMatch(message);
  });
});
