// The `ruby` command line, parsed the way ruby parses it: switches up to the program (a file, `-e` code
// or stdin), then the program's own arguments. Switches that only tune the native interpreter are
// accepted and have no effect; the loop switches (-n -p -a -l -i -s -x) are refused with a clear message.
// Runtime code: web-standard APIs only.

/** What the interpreter runs: a script file, `-e` code (all -e joined by newlines), or stdin. */
export type RubyMain = { kind: 'file'; path: string } | { kind: 'code'; code: string } | { kind: 'stdin' };

/** One parsed `ruby` invocation. */
export interface RubyInvocation {
  main: RubyMain;
  /** ARGV. */
  args: string[];
  /** -r libraries, in order. */
  requires: string[];
  /** -I directories, in order. */
  includes: string[];
  /** -C: the directory to change to first. */
  chdir?: string;
  /** -c: check the syntax only. */
  syntaxOnly: boolean;
  /** -w / -W2 / -v: warnings on ($VERBOSE = true); -W0: off ($VERBOSE = nil). */
  verbose: boolean | null | undefined;
  /** -v: print the version first (and exit when there is no program). */
  printVersion: boolean;
  /** --enable/--disable switches, handed to the interpreter's own option parser (--disable-gems skips ~0.4 s of RubyGems loading). */
  features: string[];
}

/** What a command line asks for. */
export type RubyRequest =
  | { kind: 'run'; invocation: RubyInvocation }
  | { kind: 'version' }
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string };

const TAKES_VALUE = new Set(['e', 'r', 'I', 'C', 'E', 'K', 'F', '0']);
const ATTACHED_ONLY = new Set(['0', 'K', 'F']);
const IGNORED = new Set(['d', 'U', 'y', 'S']);
const UNSUPPORTED = new Set(['n', 'p', 'a', 'l', 'i', 's', 'x']);

/** Switches seen so far, and the -e code lines. */
type Switches = Omit<RubyInvocation, 'main' | 'args'> & { code: string[] };

/** Parse `argv` (argv[0] is the interpreter as invoked). */
export function parseRubyArgs(argv: string[]): RubyRequest {
  const seen: Switches = { requires: [], includes: [], syntaxOnly: false, verbose: undefined, printVersion: false, features: [], code: [] };
  let i = 1;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) break;
    const stop = arg.startsWith('--') ? longSwitch(arg, seen) : shortSwitches(arg, seen, () => argv[++i]);
    if (stop) return stop;
  }
  return program(seen, argv.slice(i));
}

/** Apply one word of short switches (`-w`, `-rjson`, `-e CODE`); a request when parsing must stop. */
function shortSwitches(arg: string, seen: Switches, next: () => string | undefined): RubyRequest | undefined {
  for (let j = 1; j < arg.length; j++) {
    const flag = arg[j];
    const rest = arg.slice(j + 1);
    if (TAKES_VALUE.has(flag)) {
      // -0, -K and -F only take a value written right after them; the others also take the next word.
      const value = rest !== '' || ATTACHED_ONLY.has(flag) ? rest : next();
      if (value === undefined) return usage(flag === 'e' ? 'no code specified for -e' : `no argument given for -${flag}`);
      if (flag === 'e') seen.code.push(value);
      if (flag === 'r') seen.requires.push(value);
      if (flag === 'I') seen.includes.push(value);
      if (flag === 'C') seen.chdir = value;
      return undefined;
    }
    if (flag === 'W') {
      // -W0 silences, -W1 is ruby's default level, -W and -W2 are verbose; -W:category only picks categories.
      if (!rest.startsWith(':')) seen.verbose = rest === '0' ? null : rest === '1' ? false : true;
      return undefined;
    }
    if (flag === 'h') return { kind: 'help' };
    if (flag === 'v') seen.printVersion = true;
    if (flag === 'v' || flag === 'w') seen.verbose = true;
    else if (flag === 'c') seen.syntaxOnly = true;
    else if (UNSUPPORTED.has(flag)) return usage(`the -${flag} switch is not supported by wasmbox's built-in Ruby; write the loop in the script`);
    else if (!IGNORED.has(flag)) return usage(`invalid option -${flag}  (-h will show valid options)`);
  }
  return undefined;
}

/** What runs once the switches end: -e code, else the program file, else stdin (`ruby -v` alone prints the version). */
function program(seen: Switches, rest: string[]): RubyRequest {
  const { code, ...inv } = seen;
  if (code.length > 0) return { kind: 'run', invocation: { ...inv, main: { kind: 'code', code: code.join('\n') }, args: rest } };
  if (rest.length === 0 && inv.printVersion) return { kind: 'version' };
  const [first, ...args] = rest;
  if (first === undefined || first === '-') return { kind: 'run', invocation: { ...inv, main: { kind: 'stdin' }, args } };
  return { kind: 'run', invocation: { ...inv, main: { kind: 'file', path: first }, args } };
}

/** A long switch: --version and --help answer at once, features are kept, tuning switches ignored, others refused. */
function longSwitch(arg: string, seen: Switches): RubyRequest | undefined {
  const known = long(arg);
  if (known === 'version' || known === 'help') return { kind: known };
  if (known === 'bad') return usage(`invalid option ${arg}  (-h will show valid options)`);
  if (/^--(?:en|dis)able[-=]/.test(arg)) seen.features.push(arg);
  return undefined;
}

/** A long option's meaning: accepted and ignored (undefined), version, help, or unknown. */
function long(arg: string): 'version' | 'help' | 'bad' | undefined {
  if (arg === '--version') return 'version';
  if (arg === '--help') return 'help';
  const ok = /^--(?:(?:en|dis)able(?:-|=)[\w,-]+|verbose|yjit.*|jit.*|encoding=.*|external-encoding=.*|internal-encoding=.*|copyright|backtrace-limit=\d+|crash-report=.*)$/;
  return ok.test(arg) ? undefined : 'bad';
}

function usage(message: string): RubyRequest {
  return { kind: 'usage-error', message: `ruby: ${message}\n` };
}

/** The text `ruby -h` prints. */
export const RUBY_HELP = `Usage: ruby [switches] [--] [programfile] [arguments]
  -Cdirectory     cd to directory before executing your script
  -c              check syntax only
  -e 'command'    one line of script. Several -e's allowed. Omit [programfile]
  -Idirectory     specify $LOAD_PATH directory (may be used more than once)
  -rlibrary       require the library before executing your script
  -v              print the version number, then turn on verbose mode
  -w              turn warnings on for your script
  -W[level=2]     set warning level; 0=silence, 1=medium, 2=verbose
  --version       print the version number, then exit
This ruby is Ruby on WebAssembly (ruby.wasm), built into wasmbox. -n, -p, -a, -l, -i, -s and -x are not
supported; -d, -E, -K and -U are accepted and have no effect. --disable-gems starts faster.
`;
