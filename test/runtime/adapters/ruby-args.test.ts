// The ruby command line, parsed as ruby parses it (pure: no VM is started here).
import { describe, expect, it } from 'vitest';
import { type RubyRequest, parseRubyArgs } from '../../../runtime/core/adapters/ruby-args.js';

const run = (main: object, args: string[], switches: object = {}): RubyRequest => ({
  kind: 'run',
  invocation: { main, args, requires: [], includes: [], syntaxOnly: false, verbose: undefined, printVersion: false, features: [], ...switches } as never,
});

describe('parseRubyArgs', () => {
  it.each<[string[], RubyRequest]>([
    [['ruby'], run({ kind: 'stdin' }, [])],
    [['ruby', 'app.rb', '-w', 'x'], run({ kind: 'file', path: 'app.rb' }, ['-w', 'x'])],
    [['ruby', '-', 'a'], run({ kind: 'stdin' }, ['a'])],
    [['ruby', '--', '-odd.rb'], run({ kind: 'file', path: '-odd.rb' }, [])],
    [['ruby', '-e', 'puts 1', '-e', 'puts 2', 'a'], run({ kind: 'code', code: 'puts 1\nputs 2' }, ['a'])],
    [['ruby', '-eputs 1'], run({ kind: 'code', code: 'puts 1' }, [])],
    [['ruby', '-rjson', '-r', 'set', '-Ilib', '-I', 'vendor', 'x.rb'], run({ kind: 'file', path: 'x.rb' }, [], { requires: ['json', 'set'], includes: ['lib', 'vendor'] })],
    [['ruby', '-C', '/srv', '-wc', 'x.rb'], run({ kind: 'file', path: 'x.rb' }, [], { chdir: '/srv', verbose: true, syntaxOnly: true })],
    [['ruby', '-W0', 'x.rb'], run({ kind: 'file', path: 'x.rb' }, [], { verbose: null })],
    [['ruby', '-W1', 'x.rb'], run({ kind: 'file', path: 'x.rb' }, [], { verbose: false })],
    [['ruby', '-W:no-deprecated', 'x.rb'], run({ kind: 'file', path: 'x.rb' }, [])],
    [['ruby', '-E', 'UTF-8', '-Ku', '--disable-gems', '--enable=frozen-string-literal', '--yjit', 'x.rb'], run({ kind: 'file', path: 'x.rb' }, [], { features: ['--disable-gems', '--enable=frozen-string-literal'] })],
    [['ruby', '-v', 'x.rb'], run({ kind: 'file', path: 'x.rb' }, [], { printVersion: true, verbose: true })],
    [['ruby', '-v'], { kind: 'version' }],
    [['ruby', '--version', 'x.rb'], { kind: 'version' }],
    [['ruby', '-h'], { kind: 'help' }],
    [['ruby', '--help'], { kind: 'help' }],
  ])('%j', (argv, want) => {
    expect(parseRubyArgs(argv)).toEqual(want);
  });

  it.each([
    [['ruby', '-e'], 'ruby: no code specified for -e\n'],
    [['ruby', '-r'], 'ruby: no argument given for -r\n'],
    [['ruby', '-Z'], 'ruby: invalid option -Z  (-h will show valid options)\n'],
    [['ruby', '--frob'], 'ruby: invalid option --frob  (-h will show valid options)\n'],
    [['ruby', '-pe', 'x'], "ruby: the -p switch is not supported by wasmbox's built-in Ruby; write the loop in the script\n"],
  ])('%j is a usage error', (argv, message) => {
    expect(parseRubyArgs(argv)).toEqual({ kind: 'usage-error', message });
  });
});
