// The command line of `sh`/`bash` as POSIX and bash define it: option letters (-e, -u, -x, -o NAME, +e
// ...), then `-c STRING [NAME [ARGS...]]`, `-s [ARGS...]`, `FILE [ARGS...]`, or nothing (script on
// stdin). Options become a `set` line run before the script. Runtime code: web-standard APIs only.
import { SNIFF_BYTES, sniffFormat } from '../exec/format.js';
import { envValue } from '../process.js';
import { DirNode, FileNode, type Vfs } from '../vfs.js';
import { normalize } from './encoding.js';
import { inputBytes, type ShellInput } from './input.js';

/** Where a shell's script comes from, with its $0 and positional parameters. */
export interface ShellInvocation {
  source: { kind: 'command'; text: string } | { kind: 'file'; path: string } | { kind: 'stdin' };
  /** $0. */
  name: string;
  /** $1, $2, ... */
  args: string[];
  /** `set`/`shopt` commands equivalent to the option letters, to run first. */
  setup: string[];
}

/** The option letters `set` understands; -i, -l, -p, -r and -m are accepted and ignored. */
const SET_LETTERS = new Set(['e', 'u', 'x', 'v', 'f', 'n', 'a', 'C', 'h', 'b', 'B', 'E', 'H', 'k', 'P', 'T', 't']);
const IGNORED_LETTERS = new Set(['i', 'l', 'p', 'r', 'm']);

/** Parse `argv` (argv[0] is the shell's own name); a string result is the error message (exit 2). */
export function parseShellArgs(argv: string[]): ShellInvocation | string {
  const shell = argv[0] ?? 'sh';
  const setup: string[] = [];
  let command = false;
  let stdin = false;
  let i = 1;
  for (; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--' || word === '-') {
      i++;
      break;
    }
    if (word.startsWith('--')) continue; // --norc, --noprofile, --posix, --login: nothing to do here
    if (!/^[-+]./.test(word)) break;
    const on = word[0] === '-';
    for (const letter of word.slice(1)) {
      if (letter === 'c' && on) command = true;
      else if (letter === 's' && on) stdin = true;
      else if (letter === 'o' || letter === 'O') {
        const name = argv[++i];
        if (name === undefined) return `${shell}: ${word[0]}${letter}: option requires an argument`;
        setup.push(letter === 'o' ? `set ${on ? '-' : '+'}o ${shellQuote(name)}` : `shopt ${on ? '-s' : '-u'} ${shellQuote(name)}`);
      } else if (SET_LETTERS.has(letter)) setup.push(`set ${word[0]}${letter}`);
      else if (!IGNORED_LETTERS.has(letter)) return `${shell}: ${word[0]}${letter}: invalid option`;
    }
  }
  const operands = argv.slice(i);
  if (command) {
    if (operands.length === 0) return `${shell}: -c: option requires an argument`;
    return { source: { kind: 'command', text: operands[0] }, name: operands[1] ?? shell, args: operands.slice(2), setup };
  }
  if (stdin || operands.length === 0) return { source: { kind: 'stdin' }, name: shell, args: operands, setup };
  return { source: { kind: 'file', path: operands[0] }, name: operands[0], args: operands.slice(1), setup };
}

/** The script text with the option `set` commands in front, on its first line so line numbers stay right. */
export function withSetup(script: string, setup: string[]): string {
  return setup.length === 0 ? script : `${setup.join('; ')}; ${script}`;
}

/** $0, $1... as the variables the shell reads its positional parameters from. */
export function positionalEnv(name: string, args: string[]): Record<string, string> {
  const env: Record<string, string> = { '0': name, '#': String(args.length), '@': args.join(' '), '*': args.join(' ') };
  args.forEach((arg, n) => {
    env[String(n + 1)] = arg;
  });
  return env;
}

/** Quote `word` for a shell script: single quotes, with embedded ones closed and escaped. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A script ready to run: its text (options applied), positional parameters and what is left of stdin. */
export interface PreparedScript {
  script: string;
  positional: Record<string, string>;
  stdin: ShellInput;
}

/** Turn a shell's argv into a script to run, reading a script file from the box; a failure carries what sh would print.
 *  Live stdin is read (to its end) only when the script itself comes from stdin. */
export function prepareScript(argv: string[], vfs: Vfs, cwd: string, stdin: ShellInput): PreparedScript | { message: string; exitCode: number } {
  const inv = parseShellArgs(argv);
  if (typeof inv === 'string') return { message: inv, exitCode: 2 };
  const positional = positionalEnv(inv.name, inv.args);
  const { source } = inv;
  if (source.kind === 'command') return { script: withSetup(source.text, inv.setup), positional, stdin };
  // sh reading its script from stdin: the commands in it get no further input.
  if (source.kind === 'stdin') return { script: withSetup(new TextDecoder().decode(inputBytes(stdin)), inv.setup), positional, stdin: new Uint8Array(0) };
  const shell = argv[0] ?? 'sh';
  let node;
  try {
    node = vfs.lookup(source.path.startsWith('/') ? source.path : `${cwd.replace(/\/+$/, '')}/${source.path}`).node;
  } catch {
    node = undefined;
  }
  if (node instanceof DirNode) return { message: `${shell}: ${source.path}: Is a directory`, exitCode: 126 };
  if (!(node instanceof FileNode)) return { message: `${shell}: ${source.path}: No such file or directory`, exitCode: 127 };
  const kind = sniffFormat(node.read(0, SNIFF_BYTES)).kind;
  if (kind !== 'text' && kind !== 'script') return { message: `${shell}: ${source.path}: cannot execute binary file`, exitCode: 126 };
  return { script: withSetup(new TextDecoder().decode(node.bytes()), inv.setup), positional, stdin };
}

/** A reader of the files a script sources (`. PATH`): by path from `cwd`, a bare name also on PATH, as `.` looks. */
export function sourcedFile(vfs: Vfs, env: string[], cwd: string): (path: string) => string | undefined {
  return (path) => {
    const dirs = path.includes('/') ? [cwd] : [cwd, ...(envValue(env, 'PATH') ?? '').split(':')];
    for (const dir of dirs) {
      try {
        const node = vfs.lookup(path.startsWith('/') ? path : normalize(`${dir || '.'}/${path}`)).node;
        if (node instanceof FileNode) return new TextDecoder().decode(node.bytes());
      } catch {
        // not there: the next directory
      }
    }
    return undefined;
  };
}
