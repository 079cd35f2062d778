/**
 * `wasmbox run` flag parsing and value checks: one row per command line, the flags it gives (or the
 * error it raises), following docker run's rules.
 */
import { describe, expect, it } from 'vitest';
import { WasmboxError } from '../../src/errors.js';
import { type RunFlags, parseRunArgs } from '../../src/cli/run-args.js';
import { guestEnv, parseEnvFile, parseMemory, parseTimeout, parseVolume } from '../../src/cli/run-values.js';

const NONE: Omit<RunFlags, 'box'> = { args: [], env: [], envFiles: [], volumes: [], insecureRegistry: [], interactive: false, help: false };

describe('parseRunArgs', () => {
  const cases: [string, string[], Partial<RunFlags>][] = [
    ['the box alone', ['box'], { box: 'box' }],
    ['args after the box go to the guest, dashes and all', ['box', 'ls', '-l', '--all', '-e', 'X'], { box: 'box', args: ['ls', '-l', '--all', '-e', 'X'] }],
    ['options before and after the box', ['-i', 'box', '-e', 'A=1', 'cmd'], { box: 'box', interactive: true, env: ['A=1'], args: ['cmd'] }],
    ['-- ends the options', ['box', '--', '-e', 'A=1'], { box: 'box', args: ['-e', 'A=1'] }],
    ['-- before the box', ['-e', 'A=1', '--', 'box', 'x'], { box: 'box', env: ['A=1'], args: ['x'] }],
    ['a second -- goes to the guest', ['box', 'sh', '--', 'x'], { box: 'box', args: ['sh', '--', 'x'] }],
    ['long forms with = and with a space', ['--env=A=1', '--env', 'B=2', '--workdir=/w', '--entrypoint', 'e', 'box'], { box: 'box', env: ['A=1', 'B=2'], workdir: '/w', entrypoint: 'e' }],
    ['short forms: separate, attached, with =', ['-e', 'A=1', '-eB=2', '-e=C=3', '-w/x', 'box'], { box: 'box', env: ['A=1', 'B=2', 'C=3'], workdir: '/x' }],
    ['a cluster ending in a flag with a value', ['-iw', '/x', 'box'], { box: 'box', interactive: true, workdir: '/x' }],
    ['repeated lists keep their order', ['-v', 'a:/a', '--volume', 'b:/b:ro', '--env-file', 'f1', '--env-file=f2', 'box'], { box: 'box', volumes: ['a:/a', 'b:/b:ro'], envFiles: ['f1', 'f2'] }],
    ['an empty --entrypoint', ['--entrypoint', '', 'box'], { box: 'box', entrypoint: '' }],
    ['--entrypoint=', ['--entrypoint=', 'box'], { box: 'box', entrypoint: '' }],
    ['the rest', ['--timeout', '5', '-m', '64m', '--memory=1g', '--engine', 'wasi', 'box'], { box: 'box', timeout: '5', memory: '1g', engine: 'wasi' }],
    ['--interactive=false', ['--interactive=false', 'box'], { box: 'box', interactive: false }],
    ['a box named -', ['-', 'x'], { box: '-', args: ['x'] }],
    ['--help needs no box', ['--help'], { box: '', help: true }],
    ['an option value that looks like an option', ['-e', '--x', 'box'], { box: 'box', env: ['--x'] }],
  ];
  it.each(cases)('%s', (_name, argv, want) => {
    expect(parseRunArgs(argv)).toEqual({ ...NONE, ...want });
  });

  const errors: [string, string[], RegExp][] = [
    ['no box', [], /name the box to run/],
    ['only options', ['-i'], /name the box to run/],
    ['-- and nothing', ['--'], /name the box to run/],
    ['an unknown long option, with a suggestion', ['--workdri', 'x', 'box'], /unknown option --workdri[^]*hint: did you mean "--workdir"\?/],
    ['an unknown short option', ['-t', 'box'], /unknown option -t/],
    ['an unknown option in a cluster', ['-ix', 'box'], /unknown option -ix/],
    ['a value missing at the end', ['box', '--timeout'], /--timeout needs a value/],
    ['a value on a boolean', ['--interactive=yes', 'box'], /--interactive takes no value \(got "yes"\)/],
  ];
  it.each(errors)('refuses %s', (_name, argv, message) => {
    const err = (() => {
      try {
        parseRunArgs(argv);
      } catch (e) {
        return e as WasmboxError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(WasmboxError);
    expect(err.format()).toMatch(message);
  });
});

describe('flag values', () => {
  it.each([
    ['64k', 65536],
    ['512m', 512 * 2 ** 20],
    ['512M', 512 * 2 ** 20],
    ['1g', 2 ** 30],
    ['1.5g', 1.5 * 2 ** 30],
    ['512MiB', 512 * 2 ** 20],
    ['64kb', 65536],
    ['1048576', 1048576],
    ['2t', 2 * 2 ** 40],
  ])('--memory %s is %i bytes', (value, bytes) => expect(parseMemory(value)).toBe(bytes));

  it.each(['', 'm', '12q', '-1m', '1e6', '100', '65535', '0x10m'])('--memory refuses %j', (value) => {
    expect(() => parseMemory(value)).toThrow(/--memory|memory/);
  });

  it.each([
    ['1', 1000],
    ['0.25', 250],
    ['90', 90_000],
  ])('--timeout %s is %i ms', (value, ms) => expect(parseTimeout(value)).toBe(ms));

  it.each(['0', '-1', 'abc', '1s', '', '99999999'])('--timeout refuses %j', (value) => {
    expect(() => parseTimeout(value)).toThrow(WasmboxError);
  });

  it.each([
    ['dir:/data', { host: 'dir', guest: '/data', readonly: false }],
    ['/abs/dir:/data/:ro', { host: '/abs/dir', guest: '/data', readonly: true }],
    ['./d:/a/../b:rw', { host: './d', guest: '/b', readonly: false }],
  ])('-v %s', (value, want) => expect(parseVolume(value)).toEqual(want));

  it.each([
    ['dir', /HOST:GUEST/],
    [':/data', /HOST:GUEST/],
    ['dir:', /HOST:GUEST/],
    ['dir:data', /not absolute/],
    ['dir:/', /over the box's root/],
    ['dir:/x:rx', /unknown volume mode "rx"/],
    ['a:b:c:d', /HOST:GUEST/],
  ])('-v refuses %s', (value, message) => expect(() => parseVolume(value)).toThrow(message));
});

describe('the guest environment', () => {
  const host = { FROM_HOST: 'h', EMPTY: '' };
  it.each([
    ['K=V as written', ['A=1', 'B=x=y', 'C='], ['A=1', 'B=x=y', 'C=']],
    ['K alone from the host', ['FROM_HOST', 'EMPTY'], ['FROM_HOST=h', 'EMPTY=']],
    ['K alone, unset on the host: left out', ['NOT_SET'], []],
  ])('-e: %s', (_name, env, want) => expect(guestEnv(env, [], host)).toEqual(want));

  it('refuses -e without a name', () => expect(() => guestEnv(['=v'], [], host)).toThrow(/needs a name/));

  it('reads env files first, then -e', () => {
    const file = { name: 'f.env', bytes: new TextEncoder().encode('A=file\nB=file\n') };
    expect(guestEnv(['A=flag'], [file], host)).toEqual(['A=file', 'B=file', 'A=flag']);
  });

  it('parses docker\'s env-file format', () => {
    const file = '\uFEFF# comment\n\n  A=1\nB= 2\nFROM_HOST\nNOT_SET\nC=a b  \r\n  # indented comment\nD=#not a comment\n';
    expect(parseEnvFile('f.env', new TextEncoder().encode(file), host)).toEqual(['A=1', 'B= 2', 'FROM_HOST=h', 'C=a b  ', 'D=#not a comment']);
  });

  it('refuses a name with whitespace, naming the line', () => {
    expect(() => parseEnvFile('f.env', new TextEncoder().encode('A=1\nB = 2\n'), host)).toThrow(expect.objectContaining({ message: "variable 'B ' contains whitespace", location: { file: 'f.env', line: 2 } }));
  });

  it('refuses an env file that is not UTF-8, naming the line', () => {
    expect(() => parseEnvFile('f.env', new Uint8Array([0x41, 0x3d, 0x31, 0x0a, 0x42, 0x3d, 0xff]), host)).toThrow(/not UTF-8/);
    try {
      parseEnvFile('f.env', new Uint8Array([0x41, 0x3d, 0x31, 0x0a, 0x42, 0x3d, 0xff]), host);
    } catch (err) {
      expect((err as WasmboxError).format()).toMatch(/^error: f\.env:2: --env-file:/);
    }
  });

  it('refuses a line without a name', () => expect(() => parseEnvFile('f.env', new TextEncoder().encode('=v'), host)).toThrow(/no variable name/));
});
