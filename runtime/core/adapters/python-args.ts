// The `python3` command line, parsed the way CPython parses it: options up to the first of `-c CMD`,
// `-m MOD`, a script path or `-`, then the script's own arguments. Options that only tune the native
// interpreter are accepted and have no effect. Runtime code: web-standard APIs only.

/** What the interpreter runs: a script (or directory/zip with __main__.py), code, a module, or stdin. */
export type PythonMain =
  | { kind: 'file'; path: string }
  | { kind: 'code'; code: string }
  | { kind: 'module'; name: string }
  | { kind: 'stdin' };

/** One parsed `python3` invocation. */
export interface PythonInvocation {
  main: PythonMain;
  /** sys.argv as CPython sets it before the program starts. */
  argv: string[];
  /** -E / -I: ignore PYTHON* variables (PYTHONPATH). */
  ignoreEnvironment: boolean;
  /** -P / -I: do not put the script's directory (or cwd) first on sys.path. */
  safePath: boolean;
  /** -x: skip the script's first line. */
  skipFirstLine: boolean;
  /** -W options, in order. */
  warnOptions: string[];
  /** -u: stdout and stderr unbuffered (PYTHONUNBUFFERED does the same unless -E). */
  unbuffered: boolean;
}

/** What a command line asks for instead of running a program. */
export type PythonRequest =
  | { kind: 'run'; invocation: PythonInvocation }
  | { kind: 'version'; verbose: boolean }
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string };

const NO_ARG_FLAGS = new Set('bBdEhiIOPqsSuvVx?');
const USAGE = 'usage: python3 [option] ... [-c cmd | -m mod | file | -] [arg] ...';

/** Parse `argv` (argv[0] is the interpreter as invoked). */
export function parsePythonArgs(argv: string[]): PythonRequest {
  const flags = { ignoreEnvironment: false, safePath: false, skipFirstLine: false, warnOptions: [] as string[], unbuffered: false };
  let version = 0;
  // CPython prints the version and exits whatever else the command line holds.
  const run = (what: { main: PythonMain; argv: string[] }): PythonRequest =>
    version > 0 ? { kind: 'version', verbose: version > 1 } : { kind: 'run', invocation: { ...flags, ...what } };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--version') { version++; continue; }
    if (arg === '--help' || arg === '--help-all') return { kind: 'help' };
    if (arg === '--') return run(fileMain(argv, i + 1));
    if (arg === '-' || !arg.startsWith('-')) return run(fileMain(argv, i));
    if (arg.startsWith('--')) return usageError(`unknown option ${arg}`);
    for (let j = 1; j < arg.length; j++) {
      const flag = arg[j];
      const rest = arg.slice(j + 1);
      if (flag === 'c' || flag === 'm' || flag === 'W' || flag === 'X') {
        const value = rest !== '' ? rest : argv[++i];
        if (value === undefined) return usageError(`Argument expected for the -${flag} option`);
        if (flag === 'c') return run({ main: { kind: 'code', code: value }, argv: ['-c', ...argv.slice(i + 1)] });
        if (flag === 'm') return run({ main: { kind: 'module', name: value }, argv: ['-m', ...argv.slice(i + 1)] });
        if (flag === 'W') flags.warnOptions.push(value);
        break;
      }
      if (!NO_ARG_FLAGS.has(flag)) return usageError(`unknown option -${flag}`);
      if (flag === 'h' || flag === '?') return { kind: 'help' };
      if (flag === 'V') version++;
      if (flag === 'E') flags.ignoreEnvironment = true;
      if (flag === 'P') flags.safePath = true;
      if (flag === 'I') flags.ignoreEnvironment = flags.safePath = true;
      if (flag === 'x') flags.skipFirstLine = true;
      if (flag === 'u') flags.unbuffered = true;
    }
  }
  return run({ main: { kind: 'stdin' }, argv: [''] });
}

/** The script (or `-`) at argv[at], and its arguments. */
function fileMain(argv: string[], at: number): { main: PythonMain; argv: string[] } {
  const path = argv[at];
  if (path === undefined) return { main: { kind: 'stdin' }, argv: [''] };
  if (path === '-') return { main: { kind: 'stdin' }, argv: ['-', ...argv.slice(at + 1)] };
  return { main: { kind: 'file', path }, argv: argv.slice(at) };
}

function usageError(message: string): PythonRequest {
  return { kind: 'usage-error', message: `${message}\n${USAGE}\nTry \`python -h' for more information.\n` };
}

/** The text `python3 -h` prints. */
export const PYTHON_HELP = `${USAGE}
Options (a subset; this python is CPython on WebAssembly, built into wasmbox):
-c cmd : program passed in as string (terminates option list)
-E     : ignore PYTHON* environment variables (such as PYTHONPATH)
-I     : isolate Python from the user's environment (implies -E and -P)
-m mod : run library module as a script (terminates option list)
-P     : don't prepend a potentially unsafe path to sys.path
-V     : print the Python version number and exit (also --version)
-W arg : warning control
-x     : skip first line of source
file   : program read from script file
-      : program read from stdin (default; interactive mode is not available)
arg ...: arguments passed to program in sys.argv[1:]
Other CPython options (-b -B -d -i -O -q -s -S -u -v -X) are accepted and have no effect.
`;
