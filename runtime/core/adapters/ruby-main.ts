// The Ruby side of the ruby.wasm adapter: the program one `ruby` process runs in a fresh VM. ruby.wasm is
// a reactor, so nothing runs a main script for us and nothing runs at_exit handlers when it ends: this
// runs the program the way ruby's own main does (switches, $0, the script with __FILE__ as given, DATA),
// turns SystemExit and uncaught exceptions into an exit status, and then runs the at_exit handlers.
import type { RubyInvocation } from './ruby-args.js';

/** A Ruby literal for a string or list of strings (`#` escaped, so nothing interpolates). */
export function rubyLiteral(value: string | string[]): string {
  if (Array.isArray(value)) return `[${value.map((v) => rubyLiteral(v)).join(', ')}]`;
  // JSON's escapes (\n, \", \\, \uXXXX) are all valid in a double-quoted Ruby string.
  return JSON.stringify(value).replace(/#/g, '\\#');
}

/** The Ruby code (evaluated as `<wasmbox>`) that runs `inv` and evaluates to its exit status. */
export function rubyRunner(inv: RubyInvocation, cwd: string): string {
  const main = inv.main;
  const target = main.kind === 'file' ? main.path : main.kind === 'code' ? main.code : '';
  const verbose = inv.verbose === undefined ? '' : `$VERBOSE = ${inv.verbose === null ? 'nil' : String(inv.verbose)}`;
  return `
module Kernel
  private def at_exit(&block)
    raise ArgumentError, 'called without a block' unless block
    ($__wasmbox_at_exit ||= []) << block
    block
  end
end

def __wasmbox_report(error)
  trace = error.backtrace || []
  ours = trace.index { |line| line.start_with?('<wasmbox>') }
  error.set_backtrace(trace[0...ours]) if ours
  # With no frame of the program left (a syntax error), ruby names the program instead.
  return __wasmbox_report_bare(error) if ours == 0
  $stderr.write(error.full_message(highlight: false))
  error.is_a?(Interrupt) ? 130 : 1
end

def __wasmbox_report_bare(error)
  $stderr.write("#{$0}: #{error.detailed_message(highlight: false)}\n")
  1
end

def __wasmbox_main(kind, target)
  case kind
  when 'file'
    unless File.file?(target)
      $stderr.puts "ruby: No such file or directory -- #{target} (LoadError)"
      return 1
    end
    code = RubyVM::InstructionSequence.compile_file(target)
    return (puts('Syntax OK') || 0) if ${inv.syntaxOnly}
    source = File.binread(target)
    if (at = source.index(/^__END__\\r?\\n/))
      require 'stringio'
      Object.const_set(:DATA, StringIO.new(source[(source.index("\\n", at) + 1)..]))
    end
    code.eval
  when 'code'
    return (puts('Syntax OK') || 0) if ${inv.syntaxOnly} && RubyVM::InstructionSequence.compile(target, '-e')
    TOPLEVEL_BINDING.eval(target, '-e', 1)
  else
    TOPLEVEL_BINDING.eval($stdin.read, '-', 1)
  end
  0
end

__wasmbox_status = begin
  Dir.chdir(${rubyLiteral(cwd)})
  ${inv.chdir === undefined ? '' : `Dir.chdir(${rubyLiteral(inv.chdir)})`}
  $LOAD_PATH.unshift(*${rubyLiteral(inv.includes)}.map { |dir| File.expand_path(dir) })
  ${verbose}
  $stdout.puts(RUBY_DESCRIPTION) if ${inv.printVersion}
  $0 = ${rubyLiteral(main.kind === 'file' ? main.path : main.kind === 'code' ? '-e' : '-')}
  ${rubyLiteral(inv.requires)}.each { |lib| require lib }
  __wasmbox_main(${rubyLiteral(main.kind)}, ${rubyLiteral(target)})
rescue SystemExit => e
  e.status
rescue Exception => e
  __wasmbox_report(e)
end

($__wasmbox_at_exit || []).reverse_each do |handler|
  handler.call
rescue SystemExit => e
  __wasmbox_status = e.status
rescue Exception => e
  __wasmbox_status = __wasmbox_report(e)
end
[$stdout, $stderr].each { |io| io.flush rescue nil }
__wasmbox_status
`;
}
