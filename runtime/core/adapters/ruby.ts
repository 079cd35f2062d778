// `ruby` in a box: ruby.wasm (a WASI reactor with its stdlib packed in) through @ruby/wasm-wasi's RubyVM,
// the only file that imports `@ruby/*`. Every process gets a fresh VM (~0.7 s) on the engine's WASI layer
// over the box Vfs (ruby-wasi.ts), so Ruby's global state never leaks between processes; the compiled
// module is shared. Runtime code: web-standard APIs only.
import { RbError, RubyVM } from '@ruby/wasm-wasi';
import { WASIProcExit } from '@bjorn3/browser_wasi_shim';
import type { ProcessSpec } from '../process.js';
import { ADAPTER_FILES, adapterLocations } from './index.js';
import { type RubyInvocation, RUBY_HELP, parseRubyArgs } from './ruby-args.js';
import { rubyLiteral, rubyRunner } from './ruby-main.js';
import { reactorWasi } from './ruby-wasi.js';

let compiled: Promise<WebAssembly.Module> | undefined;

/** Raised when a guest reaches for JavaScript: the js gem would hand it the host's globals. */
class JsInteropRefused extends Error {
  constructor(what: string) {
    super(`JavaScript interop (${what}) is not available inside a box`);
  }
}

/** Run `ruby ARGS...` (or `irb`) as one box process; resolves to its exit code. */
export async function runRuby(spec: ProcessSpec): Promise<number> {
  const say = (text: string, sink = spec.stdout) => sink(new TextEncoder().encode(text));
  const program = spec.argv[0] ?? 'ruby';
  if (program.slice(program.lastIndexOf('/') + 1) === 'irb') {
    say(`${program}: the interactive Ruby shell needs a terminal, which a box does not have; run a script with "ruby FILE" or "ruby -e CODE"\n`, spec.stderr);
    return 1;
  }
  const request = parseRubyArgs(spec.argv);
  if (request.kind === 'usage-error') return say(request.message, spec.stderr), 1;
  if (request.kind === 'help') return say(RUBY_HELP), 0;
  const invocation = request.kind === 'version' ? undefined : request.invocation;
  return inVm(spec, invocation, say);
}

/** ruby.wasm compiled once per host thread: from the host's configuration, else fetched from the package. */
export function rubyModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const given = adapterLocations().rubyModule;
    if (given) return typeof given === 'function' ? given() : given;
    const url = import.meta.resolve(ADAPTER_FILES.ruby);
    const response = await fetch(url).catch((err: unknown) => {
      throw new Error(`cannot load ruby.wasm from ${url} (${(err as Error).message}); the host must call configureAdapters({ rubyModule })`);
    });
    return WebAssembly.compileStreaming(response);
  })().catch((err: unknown) => {
    compiled = undefined;
    throw err;
  });
  return compiled;
}

async function inVm(spec: ProcessSpec, inv: RubyInvocation | undefined, say: (text: string, sink?: (b: Uint8Array) => void) => void): Promise<number> {
  // ruby-init parses these as ruby's own main would (ARGV, RUBYOPT, features); the program itself runs
  // from the runner, since a reactor's init never runs the main script.
  const args = ['ruby', ...(inv?.features ?? []), '-EUTF-8', '-e_=0', '--', ...(inv?.args ?? [])];
  let module: WebAssembly.Module;
  try {
    module = await rubyModule();
  } catch (err) {
    return say(`ruby: cannot start the built-in Ruby: ${(err as Error).message}\n`, spec.stderr), 126;
  }
  try {
    const { vm } = await RubyVM.instantiateModule({ module, wasip1: reactorWasi(spec, args), args, addToImports: refuseJs });
    // An exit! or a refused JS call unwinds through the VM as a host exception, and @ruby/wasm-wasi then
    // dumps the VM's state to stderr as for a crash; the VM is thrown away after this run anyway.
    (vm.guest as unknown as { rbVmBugreport(): void }).rbVmBugreport = () => undefined;
    if (!inv) return say(`${vm.eval('RUBY_DESCRIPTION').toString()}\n`), 0;
    const status = vm.eval(`eval(${rubyLiteral(rubyRunner(inv, spec.cwd || '/'))}, TOPLEVEL_BINDING, '<wasmbox>', 1)`);
    return Number(status.toString()) & 0xff;
  } catch (err) {
    if (err instanceof WASIProcExit) return err.code & 0xff;
    const message = err instanceof JsInteropRefused || err instanceof RbError ? err.message : `the Ruby interpreter stopped: ${String(err)}`;
    say(`ruby: ${message}\n`, spec.stderr);
    return 1;
  }
}

/**
 * Replace the js gem's host functions (eval-js, global-this, reflect-apply...) with ones that refuse:
 * they would give a guest the host's globalThis (process, env, fetch). The VM's own calls never use them.
 */
function refuseJs(imports: WebAssembly.Imports): void {
  const host = imports['rb-js-abi-host'] as Record<string, unknown>;
  for (const name of Object.keys(host)) {
    if (name === 'rb_wasm_throw_prohibit_rewind_exception') continue;
    host[name] = () => {
      throw new JsInteropRefused(name.replace(/:.*/s, ''));
    };
  }
}
