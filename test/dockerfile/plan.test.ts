/**
 * The build plan: global ARGs as FROM lines see them, stages and their names, which stages a target
 * needs, and the reference errors BuildKit reports before anything runs.
 */
import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { toInstruction } from '../../src/dockerfile/instructions.js';
import { parseDockerfile } from '../../src/dockerfile/parse.js';
import { type Plan, plan } from '../../src/dockerfile/plan.js';

function planOf(text: string, opts: { buildArgs?: Record<string, string>; target?: string; builtins?: Record<string, string> } = {}): Plan {
  const parsed = parseDockerfile(text);
  const instructions = parsed.instructions.map((raw) => toInstruction(raw, 'Dockerfile', parsed.escape));
  const escape = parsed.escape === '`' ? '`' : '\\';
  return plan(instructions, 'Dockerfile', new Map(Object.entries(opts.buildArgs ?? {})), opts.target, new Map(Object.entries(opts.builtins ?? {})), escape);
}

function planError(text: string, opts: Parameters<typeof planOf>[1] = {}): string {
  try {
    planOf(text, opts);
  } catch (err) {
    if (err instanceof WasmboxError) return err.format();
    throw err;
  }
  throw new Error('planned without error');
}

describe('global ARGs', () => {
  it('expands defaults in order, takes build args verbatim and sees built-ins', () => {
    const p = planOf('ARG A=1\nARG B=${A}-${TARGETARCH}\nARG C=$A\nARG D\nFROM scratch\n', {
      buildArgs: { C: '$A literally', UNUSED: 'x' }, builtins: { TARGETARCH: 'arm64' },
    });
    expect(Object.fromEntries(p.metaArgs)).toEqual({ TARGETARCH: 'arm64', A: '1', B: '1-arm64', C: '$A literally' });
  });

  it('expands FROM with global ARGs only', () => {
    const p = planOf('ARG IMG=scratch\nFROM ${IMG}\nARG IMG=other\nFROM $IMG AS second\n');
    expect(p.stages.map((s) => s.base)).toEqual(['scratch', 'scratch']);
  });

  it('uses the escape directive when expanding', () => {
    const p = planOf('# escape=`\nARG A=a`$b\\c\nFROM x${A}\n');
    expect(p.stages[0].base).toBe('xa$b\\c');
  });
});

describe('stages and targets', () => {
  const file = [
    'FROM scratch AS Base', 'FROM base AS build', 'COPY --from=0 /a /a', 'FROM scratch AS unrelated', 'RUN never',
    'FROM build AS app', 'COPY --from=BUILD /b /b', 'FROM scratch AS last',
  ].join('\n');

  const cases: Array<[string | undefined, { target: number; needed: number[] }]> = [
    [undefined, { target: 4, needed: [4] }],
    ['app', { target: 3, needed: [0, 1, 3] }],
    ['APP', { target: 3, needed: [0, 1, 3] }],
    ['base', { target: 0, needed: [0] }],
  ];
  it.each(cases)('target %s needs its base and --from stages only', (target, expected) => {
    const p = planOf(file, { target });
    expect({ target: p.target, needed: p.needed }).toEqual(expected);
  });

  it('names stages in lower case and links FROM <stage>', () => {
    const p = planOf(file);
    expect(p.stages.map((s) => [s.name, s.baseStage, s.deps])).toEqual([
      ['base', undefined, []], ['build', 0, [0, 0]], ['unrelated', undefined, []], ['app', 1, [1, 1]], ['last', undefined, []],
    ]);
  });

  it('matches FROM against stage names exactly, as BuildKit does', () => {
    const p = planOf('FROM scratch AS base\nFROM Base\n');
    expect(p.stages[1].baseStage).toBeUndefined();
    expect(p.stages[1].base).toBe('Base');
  });

  it('keeps an image reference in COPY --from that names no stage', () => {
    const p = planOf('FROM scratch\nCOPY --from=alpine:3 /a /a\n');
    expect(p.stages[0].deps).toEqual([]);
  });
});

describe('errors', () => {
  const cases: Array<[string, string, RegExp, Parameters<typeof planOf>[1]?]> = [
    ['no FROM at all', 'ARG A=1\n', /the Dockerfile has no FROM instruction/],
    ['an instruction before the first FROM', 'ENV A=1\nFROM x\n', /^error: Dockerfile:1: ENV: ENV before the first FROM/],
    ['a stage name used twice', 'FROM x AS a\nFROM y AS A\n', /^error: Dockerfile:2: FROM: stage name "a" is already used by stage 0/],
    ['COPY --from a later stage', 'FROM x\nCOPY --from=later /a /a\nFROM y AS later\n', /^error: Dockerfile:2: COPY: COPY --from=later refers to a later stage/],
    ['COPY --from its own stage', 'FROM x\nCOPY --from=0 /a /a\n', /refers to the stage itself/],
    ['COPY --from an index past the last stage', 'FROM x\nCOPY --from=3 /a /a\n', /invalid stage index 3/],
    ['variables in COPY --from', 'ARG S=x\nFROM x\nCOPY --from=${S} /a /a\n', /variable expansion is not supported for --from/],
    ['FROM a later stage', 'FROM x\nFROM later\nFROM y AS later\n', /stage "later" is not defined before this FROM/],
    ['a FROM that expands to nothing', 'ARG IMG\nFROM $IMG\n', /^error: Dockerfile:2: FROM: FROM names no image/],
    ['${x:?} in a global ARG', 'ARG A=${B:?"B is required"}\nFROM x\n', /^error: Dockerfile:1: ARG: B: B is required/],
    ['an unknown target far from any name', 'FROM x AS build\nFROM y AS final\n', /target stage "other" could not be found\n  hint: stages are: build, final/, { target: 'other' }],
    ['an unknown target close to a name', 'FROM x AS build\nFROM y AS final\n', /target stage "buil" could not be found\n  hint: did you mean "build"\?/, { target: 'buil' }],
  ];
  it.each(cases)('rejects %s', (_name, text, message, opts) => {
    expect(planError(text, opts)).toMatch(message);
  });
});
