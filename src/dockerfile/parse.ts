// Dockerfile text → raw instructions, line by line the way BuildKit's parser.Parse reads it: directives
// only at the very top, comment and blank lines dropped inside continuations, an escaped escape at the
// end of a line not continuing it, heredoc bodies read after the whole logical line. (dockerfile-ast,
// which this used to wrap, disagrees with BuildKit on some of these, and they change what a file means.)
import { WasmboxError } from '../errors.js';
import { splitWords } from './words.js';

/** A here-document attached to an instruction (`<<EOF`, `<<-EOF`, `<<"EOF"`). */
export interface Heredoc {
  name: string;
  content: string;
  /** False when the delimiter was quoted: the body is taken literally. */
  expand: boolean;
  /** The marker word as written on the instruction's line (`<<-"EOF"`), which names this body there. */
  word: string;
}

/** One instruction as written: keyword, argument text with continuations joined, heredoc bodies, lines. */
export interface RawInstruction {
  /** Upper-cased keyword (`COPY`). */
  keyword: string;
  /** The argument text after the keyword, continuation lines joined the way BuildKit joins them. */
  args: string;
  heredocs: Heredoc[];
  /** 1-based first and last line. */
  line: number;
  endLine: number;
}

/** A parsed Dockerfile: its directives and instructions, in order. */
export interface ParsedDockerfile {
  file: string;
  escape: string;
  syntax?: string;
  instructions: RawInstruction[];
}

/** A heredoc word, as BuildKit's reHeredoc: optional fd digits, `<<`, optional `-`, then the name (quotes allowed). */
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]+)$/;
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
/** A parser directive line (BuildKit's directiveRegexp, after the `#`). */
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const DIRECTIVES = new Set(['syntax', 'escape', 'check']);

/** Parse Dockerfile text (a byte order mark and CRLF line ends are accepted). */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  // Split on \n only: a heredoc body keeps its \r, as BuildKit's keeps the line ends it read.
  const source = text.replace(/^\uFEFF/, '');
  const lines = source.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const directives = readDirectives(lines, file);
  const escape = directives.get('escape') ?? '\\';
  const reader = new LineReader(lines, escape, source.endsWith('\n'));
  const instructions: RawInstruction[] = [];
  for (let logical = reader.next(); logical; logical = reader.next()) {
    const [word, args] = splitFirst(logical.text);
    const keyword = word.toUpperCase();
    const at = { file, line: logical.line, keyword };
    const heredocs = mayHaveHeredocs(keyword, args) ? readHeredocs(args, reader, at) : [];
    instructions.push({ keyword, args, heredocs, line: logical.line, endLine: reader.lineNumber });
  }
  return { file, escape, syntax: directives.get('syntax'), instructions };
}

/** Reads logical lines (continuations joined) and raw heredoc lines, counting 1-based line numbers. */
class LineReader {
  /** The number of the last line read. */
  lineNumber = 0;

  constructor(private readonly lines: string[], private readonly escape: string, private readonly finalNewline: boolean) {}

  /** The next logical line and the line it starts on, or undefined at the end. */
  next(): { text: string; line: number } | undefined {
    while (this.lineNumber < this.lines.length) {
      const first = this.raw().trimStart();
      if (isComment(first)) continue;
      const line = this.lineNumber;
      let { text, more } = this.trimContinuation(first);
      if (!more && text === '') continue;
      while (more && this.lineNumber < this.lines.length) {
        const next = this.raw();
        // BuildKit drops comment lines and blank lines inside a continuation.
        if (isComment(next) || next.trim() === '') continue;
        const part = this.trimContinuation(next);
        text += part.text;
        more = part.more;
      }
      return { text: text.trim(), line };
    }
    return undefined;
  }

  /** The next physical line without its line end, or undefined at the end. */
  raw(): string {
    return this.rawWithEnd()?.replace(/[\r\n]+$/, '') ?? '';
  }

  /** The next physical line with its line end (`\n` or `\r\n`) unless it is the last one. */
  rawWithEnd(): string | undefined {
    if (this.lineNumber >= this.lines.length) return undefined;
    const line = this.lines[this.lineNumber++];
    return this.lineNumber < this.lines.length || this.finalNewline ? `${line}\n` : line;
  }

  /** A line ending in the escape token (after blanks) continues, unless that token is itself escaped. */
  private trimContinuation(line: string): { text: string; more: boolean } {
    const trimmed = line.replace(/[ \t]+$/, '');
    const e = this.escape;
    if (trimmed === e || (trimmed.endsWith(e) && !trimmed.endsWith(e + e))) return { text: trimmed.slice(0, -1), more: true };
    return { text: line, more: false };
  }
}

function isComment(line: string): boolean {
  return line.trimStart().startsWith('#');
}

/**
 * The parser directives, read like BuildKit's DirectiveParser: only from the leading `# key=value`
 * lines; the first line that is not one (a blank line, a comment, an unknown key) ends them.
 */
function readDirectives(lines: string[], file: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const [i, line] of lines.entries()) {
    const m = DIRECTIVE.exec(line.replace(/\r$/, '').trimStart());
    const name = m?.[1].toLowerCase();
    if (!m || !name || !DIRECTIVES.has(name)) break;
    const at = { location: { file, line: i + 1 }, instruction: `# ${name}`, value: m[2] };
    if (found.has(name)) throw new WasmboxError('DIRECTIVE', `only one ${name} parser directive can be used`, { ...at, hint: `remove the second "# ${name}=" line` });
    if (name === 'escape' && m[2] !== '\\' && m[2] !== '`') {
      throw new WasmboxError('DIRECTIVE', 'invalid escape directive: the escape token must be \\ or `', { ...at, hint: 'write "# escape=\\" or "# escape=`" on the first line' });
    }
    found.set(name, m[2]);
  }
  return found;
}

/** Whether an instruction can carry heredocs: RUN, COPY, ADD (also under ONBUILD), unless in JSON form. */
function mayHaveHeredocs(keyword: string, args: string): boolean {
  let body = args;
  if (keyword === 'ONBUILD') [keyword, body] = splitFirst(body);
  if (!HEREDOC_KEYWORDS.has(keyword.toUpperCase()) || !body.includes('<<')) return false;
  try {
    return !Array.isArray(JSON.parse(body.replace(/^(?:--\S+\s+)*/, '')));
  } catch {
    return true;
  }
}

function splitFirst(text: string): [string, string] {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text.trim());
  return m ? [m[1], m[2]] : ['', ''];
}

/** Read the body of each heredoc named on the line, in order, from the lines after it. */
function readHeredocs(header: string, reader: LineReader, at: { file: string; line: number; keyword: string }): Heredoc[] {
  return heredocSpecs(header).map((spec) => {
    let content = '';
    for (let line = reader.rawWithEnd(); line !== undefined; line = reader.rawWithEnd()) {
      const bare = line.replace(/[\r\n]+$/, '');
      if ((spec.chomp ? bare.replace(/^\t+/, '') : bare) === spec.name) return { name: spec.name, expand: spec.expand, word: spec.word, content };
      // `<<-` strips leading tabs from the body too (BuildKit's ChompHeredocContent).
      content += spec.chomp ? line.replace(/^\t+/, '') : line;
    }
    throw new WasmboxError('HEREDOC', `unterminated heredoc: no line "${spec.name}" ends it`, {
      location: { file: at.file, line: at.line },
      instruction: at.keyword,
      value: `<<${spec.name}`,
      hint: `end the heredoc with a line containing only ${spec.name}`,
    });
  });
}

/**
 * The heredoc markers (`<<EOF`, `<<-'EOF'`, `2<<EOF`) among the words of an instruction's first line, as
 * BuildKit finds them: a whole word must be a marker; quoting any part of the name turns expansion off.
 */
export function heredocSpecs(header: string): { name: string; chomp: boolean; expand: boolean; word: string }[] {
  const specs = [];
  for (const word of splitWords(header, '\\')) {
    const m = HEREDOC_WORD.exec(word);
    if (!m) continue;
    const name = m[3].replace(/\\(.)/g, '$1').replace(/["']/g, '');
    if (name === '' || /\s/.test(name)) continue;
    specs.push({ name, chomp: m[2] === '-', expand: !/["']/.test(m[3]), word });
  }
  return specs;
}
