// The python3 command line, parsed as CPython parses it (pure: no interpreter is loaded here).
import { describe, expect, it } from 'vitest';
import { type PythonRequest, parsePythonArgs } from '../../../runtime/core/adapters/python-args.js';

const run = (main: object, argv: string[], flags: object = {}): PythonRequest => ({
  kind: 'run',
  invocation: { main, argv, ignoreEnvironment: false, safePath: false, skipFirstLine: false, warnOptions: [], unbuffered: false, ...flags } as never,
});

describe('parsePythonArgs', () => {
  it.each<[string[], PythonRequest]>([
    [['python3'], run({ kind: 'stdin' }, [''])],
    [['python3', 'app.py', '-c', 'x'], run({ kind: 'file', path: 'app.py' }, ['app.py', '-c', 'x'])],
    [['python3', '-u', 'app.py'], run({ kind: 'file', path: 'app.py' }, ['app.py'], { unbuffered: true })],
    [['python3', '-c', 'print(1)', 'a'], run({ kind: 'code', code: 'print(1)' }, ['-c', 'a'])],
    [['python3', '-cprint(1)'], run({ kind: 'code', code: 'print(1)' }, ['-c'])],
    [['python3', '-Bic', 'x'], run({ kind: 'code', code: 'x' }, ['-c'])],
    [['python3', '-m', 'json.tool', 'f.json'], run({ kind: 'module', name: 'json.tool' }, ['-m', 'f.json'])],
    [['python3', '-mjson.tool'], run({ kind: 'module', name: 'json.tool' }, ['-m'])],
    [['python3', '-', 'a'], run({ kind: 'stdin' }, ['-', 'a'])],
    [['python3', '--', '-weird.py'], run({ kind: 'file', path: '-weird.py' }, ['-weird.py'])],
    [['python3', '-I', '-x', 'a.py'], run({ kind: 'file', path: 'a.py' }, ['a.py'], { ignoreEnvironment: true, safePath: true, skipFirstLine: true })],
    [['python3', '-E', '-P', 'a.py'], run({ kind: 'file', path: 'a.py' }, ['a.py'], { ignoreEnvironment: true, safePath: true })],
    [['python3', '-W', 'error', '-Wignore::DeprecationWarning', '-X', 'dev', 'a.py'], run({ kind: 'file', path: 'a.py' }, ['a.py'], { warnOptions: ['error', 'ignore::DeprecationWarning'] })],
    [['python3', '-V'], { kind: 'version', verbose: false }],
    [['python3', '-VV'], { kind: 'version', verbose: true }],
    [['python3', '--version', 'a.py'], { kind: 'version', verbose: false }],
    [['python3', '-V', '-c', 'x'], { kind: 'version', verbose: false }],
    [['python3', '-h'], { kind: 'help' }],
    [['python3', '--help'], { kind: 'help' }],
  ])('%j', (argv, want) => {
    expect(parsePythonArgs(argv)).toEqual(want);
  });

  it.each([
    [['python3', '-Z'], 'unknown option -Z'],
    [['python3', '--frobnicate'], 'unknown option --frobnicate'],
    [['python3', '-c'], 'Argument expected for the -c option'],
    [['python3', '-m'], 'Argument expected for the -m option'],
    [['python3', '-W'], 'Argument expected for the -W option'],
  ])('%j is a usage error', (argv, first) => {
    const got = parsePythonArgs(argv);
    expect(got.kind).toBe('usage-error');
    expect(got.kind === 'usage-error' && got.message.split('\n')[0]).toBe(first);
  });
});
