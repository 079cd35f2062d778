// `ruby` in a box, run by real ruby.wasm (a fresh VM per process) on the engine's WASI layer over an
// in-memory box filesystem.
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinRuntime } from '../../../src/image/builtin.js';
import { configureNodeAdapters } from '../../../runtime/hosts/node-adapters.js';
import { SymlinkNode, Vfs } from '../../../runtime/core/vfs.js';
import { readText, runIn } from './harness.js';

const FILES = {
  '/app/app.rb': [
    'at_exit { puts "second handler" }',
    'at_exit { puts "first handler" }',
    'puts "argv=#{ARGV.inspect} $0=#{$0} main=#{__FILE__ == $0} cwd=#{Dir.pwd}"',
    'puts ENV.to_h.sort.inspect',
    'print DATA.read',
    'exit Integer(ARGV.fetch(0, "0"))',
    '__END__',
    'data after __END__',
    '',
  ].join('\n'),
  '/app/boom.rb': 'def f\n  raise ArgumentError, "bad"\nend\nf\n',
  '/app/lib/greeting.rb': 'module Greeting\n  def self.hi = "hi from lib"\nend\n',
  '/usr/src/app/main.rb': 'require_relative "helper"\nputs HELPER\nFile.write("/usr/src/app/out.txt", "written under /usr")\n',
  '/usr/src/app/helper.rb': 'HELPER = "helper under /usr/src"\n',
};
const ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root', 'LANG=C.UTF-8'];

interface Case {
  name: string;
  argv: string[];
  stdin?: string;
  cwd?: string;
  code?: number;
  stdout?: string | RegExp;
  stderr?: string | RegExp;
}

const cases: Case[] = [
  {
    name: 'a script: ARGV, $0 == __FILE__, cwd, ENV exactly the process env, DATA, at_exit order, exit status',
    argv: ['ruby', 'app.rb', '3', 'x y'], cwd: '/app', code: 3,
    stdout: 'argv=["3", "x y"] $0=app.rb main=true cwd=/app\n[["HOME", "/root"], ["LANG", "C.UTF-8"], ["PATH", "/usr/local/bin:/usr/bin:/bin"]]\ndata after __END__\nfirst handler\nsecond handler\n',
  },
  { name: 'an uncaught exception: ruby\'s message and backtrace, exit 1', argv: ['ruby', '/app/boom.rb'], code: 1, stderr: /^\/app\/boom.rb:2:in 'Object#f': bad \(ArgumentError\)\n[\s\S]*\tfrom \/app\/boom.rb:4:in '<main>'\n$/ },
  { name: '-e with ARGV and stdin', argv: ['ruby', '-e', 'puts ARGV.inspect, $stdin.read.upcase', '--', '-x'], stdin: 'hello\n', stdout: '["-x"]\nHELLO\n' },
  { name: 'the program from stdin', argv: ['ruby'], stdin: 'puts 6 * 7', stdout: '42\n' },
  { name: '--disable-gems reaches the interpreter', argv: ['ruby', '--disable-gems', '-e', 'p defined?(Gem)'], stdout: 'nil\n' },
  { name: '-r and -I: a library from the box and one from the stdlib', argv: ['ruby', '-I', 'lib', '-r', 'greeting', '-rjson', '-e', 'puts Greeting.hi, JSON.generate([1])'], cwd: '/app', stdout: 'hi from lib\n[1]\n' },
  { name: 'a box directory under /usr, where ruby.wasm keeps its own stdlib', argv: ['ruby', 'main.rb'], cwd: '/usr/src/app', stdout: 'helper under /usr/src\n' },
  { name: 'exit! skips at_exit', argv: ['ruby', '-e', 'at_exit { puts "no" }; exit!(5)'], code: 5, stdout: '' },
  { name: 'abort prints and fails', argv: ['ruby', '-e', 'abort "aborting"'], code: 1, stderr: 'aborting\n' },
  { name: 'a syntax error names the program', argv: ['ruby', '-e', 'def ('], code: 1, stderr: /^-e: -e:1: syntax errors? found \(SyntaxError\)\n/ },
  { name: '-c checks syntax only', argv: ['ruby', '-c', '/app/boom.rb'], stdout: 'Syntax OK\n' },
  { name: 'a missing script', argv: ['ruby', 'missing.rb'], code: 1, stderr: 'ruby: No such file or directory -- missing.rb (LoadError)\n' },
  { name: 'the js gem cannot reach the host', argv: ['ruby', '-e', 'require "js"; p JS.global[:process]'], code: 1, stderr: /^ruby: JavaScript interop \(.+\) is not available inside a box\n$/ },
  { name: 'an unsupported switch', argv: ['ruby', '-ne', 'print'], code: 1, stderr: /^ruby: the -n switch is not supported/ },
  { name: 'irb explains itself', argv: ['/usr/local/bin/irb'], code: 1, stderr: /^\/usr\/local\/bin\/irb: the interactive Ruby shell needs a terminal/ },
];

beforeAll(() => {
  configureNodeAdapters();
});

describe('ruby (ruby.wasm) in a box', () => {
  it.each(cases)('$name', async (c) => {
    const r = await runIn('ruby', { argv: c.argv, files: FILES, stdin: c.stdin, env: ENV, cwd: c.cwd });
    expect({ code: r.code, ...(c.stderr === undefined && { stderr: r.stderr }) }).toEqual({ code: c.code ?? 0, ...(c.stderr === undefined && { stderr: '' }) });
    if (typeof c.stdout === 'string') expect(r.stdout).toBe(c.stdout);
    if (typeof c.stderr === 'string') expect(r.stderr).toBe(c.stderr);
    if (c.stderr instanceof RegExp) expect(r.stderr).toMatch(c.stderr);
  });

  it('--version is the Ruby the build log names', async () => {
    const r = await runIn('ruby', { argv: ['ruby', '--version'] });
    expect(r.stdout).toMatch(new RegExp(`^ruby ${builtinRuntime('ruby').version.replace(/\./g, '\\.')} \\(.*\\) .*\\[wasm32-wasi\\]\\n$`));
  });

  it('reads, writes, renames and deletes box files', async () => {
    const vfs = Vfs.empty();
    const program = [
      'require "fileutils"',
      'FileUtils.mkdir_p("/data/sub")',
      'File.write("/data/a.txt", File.read("/app/in.txt").upcase)',
      'File.open("/data/a.txt", "a") { |f| f.write("!") }',
      'File.rename("/data/a.txt", "/data/sub/b.txt")',
      'File.symlink("/data/sub/b.txt", "/data/link")',
      'File.delete("/app/gone.txt")',
      'File.write("/usr/src/app/out.txt", "under usr")',
      'puts Dir.glob("/data/**/*").sort.inspect, File.read("/data/link"), File.readlink("/data/link")',
    ].join('\n');
    const files = { '/app/in.txt': 'input', '/app/gone.txt': 'x', '/usr/src/app/.keep': '' };
    const r = await runIn('ruby', { argv: ['ruby', '-e', program], files, vfs });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('["/data/link", "/data/sub", "/data/sub/b.txt"]\nINPUT!\n/data/sub/b.txt\n');
    expect(readText(vfs, '/data/sub/b.txt')).toBe('INPUT!');
    expect((vfs.get('/data/link', { follow: false }) as SymlinkNode).target).toBe('/data/sub/b.txt');
    expect(vfs.lookup('/app/gone.txt').node).toBeUndefined();
    expect(readText(vfs, '/usr/src/app/out.txt')).toBe('under usr');
  });
});
