/**
 * What a RUN starts and records, as BuildKit's dispatchRun decides it (no guest runs here): the argv for
 * exec form, shell form, SHELL and the heredoc forms, the environment, the history text with its `|N`
 * ARG prefix, and the `--mount` / `--network` / `--security` checks.
 */
import { describe, expect, it } from 'vitest';
import { type InstructionOf, toInstruction } from '../../src/dockerfile/instructions.js';
import { parseMount } from '../../src/dockerfile/mounts.js';
import { parseDockerfile } from '../../src/dockerfile/parse.js';
import { runCommand, runEnvironment, runHistory } from '../../src/build/run-command.js';
import { newStage } from '../../src/build/stage.js';
import { Tree } from '../../src/fs/tree.js';
import { WasmboxError } from '../../src/errors.js';
import { scratchDir } from '../helpers/fixtures.js';
import { buildIn, scriptedGuest } from './run-helpers.js';

function runIns(text: string): InstructionOf<'RUN'> {
  const parsed = parseDockerfile(text);
  return toInstruction(parsed.instructions[0], 'Dockerfile', parsed.escape) as InstructionOf<'RUN'>;
}

function stage(shell?: string[]) {
  const state = newStage(new Tree(), { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Shell: shell }, rootfs: { type: 'layers', diff_ids: [] } });
  return state;
}

describe('the argv of a RUN', () => {
  it.each([
    ['exec form, as written (never expanded)', 'RUN ["echo", "$HOME"]', ['echo', '$HOME'], undefined],
    ['shell form through /bin/sh -c', 'RUN echo $HOME  &&  ls', ['/bin/sh', '-c', 'echo $HOME  &&  ls'], undefined],
    ['a bare heredoc: its body is the script', 'RUN <<EOF\necho a\necho b\nEOF', ['/bin/sh', '-c', 'echo a\necho b\n'], undefined],
    ['a bare <<- heredoc: tabs stripped', 'RUN <<-EOF\n\techo a\n\tEOF', ['/bin/sh', '-c', 'echo a\n'], undefined],
    ['a quoted bare heredoc', 'RUN <<"EOF"\necho $x\nEOF', ['/bin/sh', '-c', 'echo $x\n'], undefined],
    ['a heredoc with a #! line: run from /dev/pipes', 'RUN <<EOF\n#!/usr/bin/python3\nprint(1)\nEOF', ['/bin/sh', '-c', '/dev/pipes/EOF'], { name: 'EOF', data: '#!/usr/bin/python3\nprint(1)\n' }],
    ['a heredoc fed to a program: handed to the shell whole', 'RUN python3 <<EOF\nprint(1)\nEOF', ['/bin/sh', '-c', 'python3 <<EOF\nprint(1)\nEOF'], undefined],
    ['a heredoc after a shell name', 'RUN <<EOF bash\necho hi\nEOF', ['/bin/sh', '-c', '<<EOF bash\necho hi\nEOF'], undefined],
    ['two heredocs', 'RUN cat <<A <<B > /f\na\nA\nb\nB', ['/bin/sh', '-c', 'cat <<A <<B > /f\na\nA\nb\nB'], undefined],
  ])('%s', (_name, text, argv, script) => {
    expect(runCommand(stage(), runIns(text))).toEqual({ argv, script });
  });

  it('uses the stage SHELL', () => {
    expect(runCommand(stage(['/bin/bash', '-eu', '-c']), runIns('RUN echo hi')).argv).toEqual(['/bin/bash', '-eu', '-c', 'echo hi']);
  });
});

describe('the environment and history of a RUN', () => {
  it('sees ENV and ARG values in order, HOME from the user when unset', () => {
    const s = stage();
    s.vars.set('A', '1');
    s.vars.set('PATH', '/x');
    expect(runEnvironment(s, '/root')).toEqual(['PATH=/x', 'A=1', 'HOME=/root']);
    s.vars.set('HOME', '/h');
    expect(runEnvironment(s, '/root')).toEqual(['PATH=/x', 'A=1', 'HOME=/h']);
  });

  it.each([
    [[], [], 'RUN /bin/sh -c make'],
    [['V'], [['V', '1']], 'RUN |1 V=1 /bin/sh -c make'],
    [['V', 'W', 'V'], [['V', '2']], 'RUN |2 V=2 W= /bin/sh -c make'],
  ])('records declared ARGs %j with values %j as BuildKit does', (args, vars, want) => {
    const s = stage();
    s.args.push(...args);
    for (const [k, v] of vars) s.vars.set(k, v);
    expect(runHistory(s, ['/bin/sh', '-c', 'make'])).toBe(want);
  });
});

describe('--mount values', () => {
  it.each([
    ['type=bind,source=src,target=/src', { type: 'bind', source: 'src', target: '/src', readonly: true }],
    ['type=bind,src=src,dst=/src,rw', { type: 'bind', source: 'src', target: '/src', readonly: false }],
    ['type=bind,from=builder,target=/b,readonly=false', { type: 'bind', from: 'builder', target: '/b', readonly: false }],
    ['target=/x', { type: 'bind', target: '/x', readonly: true }],
    ['type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0700,uid=1000', { type: 'cache', target: '/root/.cache', id: 'pip', sharing: 'locked', mode: 0o700, uid: 1000, readonly: false }],
    ['type=tmpfs,target=/tmp,size=64m', { type: 'tmpfs', target: '/tmp', readonly: false }],
    ['type=bind,"target=/a,b",ro', { type: 'bind', target: '/a,b', readonly: true }],
    ['type=bind,target=$DIR', { target: '/expanded' }],
  ])('%s', (text, want) => {
    expect(parseMount(text, (w) => w.replace('$DIR', '/expanded'))).toMatchObject(want);
  });

  it.each([
    ['type=bnd,target=/x', /unsupported mount type "bnd"/, 'did you mean "bind"?'],
    ['type=bind,tagret=/x', /unexpected key 'tagret'/, 'did you mean "target"?'],
    ['type=cache,target=/x,sharing=lockd', /unsupported sharing value/, 'did you mean "locked"?'],
    ['type=bind,target=/x,mode=0700', /mode not allowed for "bind" type mounts/, undefined],
    ['type=bind,from=$STAGE,target=/x', /doesn't support variable expansion/, undefined],
    ['type=cache', /has no target/, undefined],
    ['type=bind,target=/x,bogus', /invalid field 'bogus'/, undefined],
    ['"type=bind,target=/a"', /unsupported mount type "bind,target=\/a"/, undefined],
  ])('refuses %s', (text, message, hint) => {
    let err: unknown;
    try {
      parseMount(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WasmboxError);
    expect((err as WasmboxError).message).toMatch(message);
    if (hint) expect((err as WasmboxError).hint).toBe(hint);
  });
});

describe('RUN flags at build time', () => {
  it.each([
    ['--network=host', 'RUN --network=host ["echo"]', 'error: Dockerfile:2: RUN: --network=host: a box has no network'],
    ['--network=default', 'RUN --network=default ["echo"]', 'error: Dockerfile:2: RUN: --network=default: a box has no network'],
    ['--network=bogus', 'RUN --network=bogus ["echo"]', 'error: Dockerfile:2: RUN: --network=bogus: invalid network mode'],
    ['--security', 'RUN --security=insecure ["echo"]', 'error: Dockerfile:2: RUN: --security=insecure is not supported'],
    ['a secret mount', 'RUN --mount=type=secret,id=x ["echo"]', 'error: Dockerfile:2: RUN: secret mounts are not supported'],
    ['a mount on /', 'RUN --mount=type=tmpfs,target=/ ["echo"]', 'error: Dockerfile:2: RUN: invalid mount target "/"'],
    ['a missing bind source', 'RUN --mount=source=nope,target=/n ["echo"]', 'error: Dockerfile:2: RUN: /nope not found in the build context'],
    ['a mount target below a file', 'COPY x /x\nRUN --mount=type=tmpfs,target=/x/y ["echo"]', 'error: Dockerfile:3: RUN --mount: cannot mount at /x/y: x on the way is a file'],
    ['an unknown mount type', 'RUN --mount=type=volume,target=/v ["echo"]', 'error: Dockerfile:2: RUN --mount: unsupported mount type "volume"'],
  ])('%s fails at its line', async (_name, line, start) => {
    const ctx = await scratchDir('wasmbox-runflags-');
    try {
      const err = await buildIn(ctx.dir, { dockerfile: `FROM scratch\n${line}\n`, files: { x: 'x' }, launcher: scriptedGuest }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WasmboxError);
      expect((err as WasmboxError).format()).toContain(start);
    } finally {
      await ctx.remove();
    }
  });

  it('--network=none runs', async () => {
    const ctx = await scratchDir('wasmbox-runflags-');
    try {
      const built = await buildIn(ctx.dir, { dockerfile: 'FROM scratch\nRUN --network=none ["echo", "ok"]\n', launcher: scriptedGuest });
      expect(built.output).toBe('ok\n');
    } finally {
      await ctx.remove();
    }
  });
});
