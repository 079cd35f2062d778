// What a script does, read from just-bash's parser before it runs (the parser half of the just-bash
// adapter; just-bash.ts is the interpreter half): whether it is one command whose program can stream,
// and whether the interpreter itself reads the shell's stdin. Runtime code: web-standard APIs only.
//
// Why the second question: just-bash takes a script's stdin as one string when the script starts, and its
// own `read`, `mapfile` and `readarray` take their input from that string. Everything else that reads
// stdin is a command the shell hands the input to when it runs (just-bash.ts), so only scripts where
// those builtins can see the shell's stdin need it read up front — which waits for the end of input.
import { parse, type SimpleCommandNode, type WordNode } from 'just-bash';

/** The interpreter's builtins that read stdin from the string just-bash was given up front. */
const READERS = new Set(['read', 'mapfile', 'readarray']);
/** Commands that run the command a later argument names (`command read x`, `timeout 5 read x`). */
const WRAPPERS = new Set(['command', 'builtin', 'exec', 'env', 'time', 'timeout', 'nice', 'nohup', 'stdbuf']);
/** Redirections that give fd 0 something other than the shell's stdin. */
const INPUT_OPERATORS = new Set(['<', '<<', '<<-', '<<<', '<>', '<&']);
/** How deep `. FILE` is followed (files that source each other stop here). */
const MAX_SOURCE_DEPTH = 8;

type Redirection = SimpleCommandNode['redirections'][number];

/** The text of a file a script sources (`. FILE`, as written), or undefined when there is none. */
export type SourceReader = (path: string) => string | undefined;

/**
 * Whether `script`, run with the shell's stdin, may read it with `read`, `mapfile` or `readarray`:
 * directly, in a function, a `$(...)`, `eval`'d text or a file it sources — but not under an input
 * redirection (`while read l; do ...; done < file`) or after a pipe. Text that cannot be known
 * (`eval "$x"`, `. "$f"`, a sourced file that cannot be read, a script that does not parse) counts as
 * reading, so it gets its input; a command name that comes from a variable (`$cmd`) is not followed.
 */
export function readsShellStdin(script: string, source: SourceReader): boolean {
  return new StdinScan(source).script(script, false);
}

class StdinScan {
  private depth = 0;

  constructor(private readonly source: SourceReader) {}

  script(text: string, redirected: boolean): boolean {
    let ast;
    try {
      ast = parse(text);
    } catch {
      return !redirected;
    }
    return this.node(ast, redirected);
  }

  /** Whether anything under `value` reads the shell's stdin; `redirected`: fd 0 is already something else. */
  private node(value: unknown, redirected: boolean): boolean {
    if (Array.isArray(value)) return value.some((item) => this.node(item, redirected));
    if (value === null || typeof value !== 'object') return false;
    const node = value as { type?: unknown; redirections?: unknown; commands?: unknown; command?: unknown };
    const redirections = Array.isArray(node.redirections) ? (node.redirections as Redirection[]) : [];
    const inner = redirected || redirections.some(takesStdin);
    if (node.type === 'Pipeline' && Array.isArray(node.commands)) return node.commands.some((command, i) => this.node(command, inner || i > 0));
    if (node.type === 'ArithCommandSubst' && typeof node.command === 'string') return this.script(node.command, redirected);
    const simple = node.type === 'SimpleCommand';
    if (simple && !inner && this.command(value as SimpleCommandNode)) return true;
    // A simple command's words and every redirection's target are expanded before fd 0 changes.
    return Object.entries(node).some(([key, child]) => key !== 'type' && this.node(child, simple || key === 'redirections' ? redirected : inner));
  }

  /** Whether this command, with the shell's stdin, reads it inside the interpreter. */
  private command(node: SimpleCommandNode): boolean {
    const words = (node.name ? [node.name, ...node.args] : []).map(literal);
    const [name, ...args] = words;
    if (name === undefined) return false;
    if (READERS.has(name)) return true;
    if (WRAPPERS.has(name)) return args.some((arg) => arg !== undefined && READERS.has(arg));
    if (name === 'eval') return args.some((arg) => arg === undefined) || this.script(args.join(' '), false);
    if (name === 'source' || name === '.') return this.sourced(args[0]);
    return false;
  }

  private sourced(path: string | undefined): boolean {
    const text = path === undefined || this.depth >= MAX_SOURCE_DEPTH ? undefined : this.source(path);
    if (text === undefined) return true;
    this.depth++;
    try {
      return this.script(text, false);
    } finally {
      this.depth--;
    }
  }
}

function takesStdin(redirection: Redirection): boolean {
  return (redirection.fd === null || redirection.fd === 0) && INPUT_OPERATORS.has(redirection.operator);
}

/**
 * The program name of a script that is a single simple command (after an optional `exec`) with a
 * literal name, no redirections, no pipe and nothing in its words that runs a command (`$(...)`): the
 * one program it starts writes straight to the shell's own stdout and stderr. Undefined otherwise.
 */
export function soleCommandName(script: string): string | undefined {
  let ast;
  try {
    ast = parse(script);
  } catch {
    return undefined;
  }
  const statement = ast.statements.length === 1 ? ast.statements[0] : undefined;
  const pipeline = statement && !statement.background && statement.pipelines.length === 1 ? statement.pipelines[0] : undefined;
  const command = pipeline && !pipeline.negated && !pipeline.timed && pipeline.commands.length === 1 ? pipeline.commands[0] : undefined;
  if (command?.type !== 'SimpleCommand' || !command.name || command.redirections.length > 0) return undefined;
  if (/"(CommandSubstitution|ProcessSubstitution)"/.test(JSON.stringify(command))) return undefined;
  const words = [command.name, ...command.args].map(literal);
  const name = words[0] === 'exec' ? words[1] : words[0];
  return name === undefined || name === 'exec' ? undefined : name;
}

/** A word's text when it is plain text (however quoted), else undefined. */
function literal(word: WordNode): string | undefined {
  let text = '';
  for (const part of word.parts) {
    if (part.type === 'Literal' || part.type === 'SingleQuoted' || part.type === 'Escaped') text += part.value;
    else if (part.type === 'DoubleQuoted' && part.parts.every((p) => p.type === 'Literal' || p.type === 'Escaped')) text += part.parts.map((p) => (p as { value: string }).value).join('');
    else return undefined;
  }
  return text;
}
