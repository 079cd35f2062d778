import { DockerfileParser } from 'dockerfile-ast';
import { WasmboxError } from '../errors.js';

/** A here-document attached to an instruction (`<<EOF`, `<<-EOF`, `<<"EOF"`). */
export interface Heredoc {
  name: string;
  content: string;
  /** False when the delimiter was quoted: the body is taken literally. */
  expand: boolean;
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

const HEREDOC_WORD = /^<<(-?)\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_.-]+))/;
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);

/**
 * Parse Dockerfile text. dockerfile-ast finds directives, instruction boundaries and heredoc ranges;
 * we join continuation lines ourselves because BuildKit drops comment and blank lines inside them.
 */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const source = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const ast = DockerfileParser.parse(source);
  const escape = ast.getEscapeCharacter();
  let syntax: string | undefined;
  for (const d of ast.getDirectives()) {
    const name = d.getName().toLowerCase();
    const value = d.getValue();
    if (name === 'escape' && value !== '\\' && value !== '`') {
      throw new WasmboxError('DIRECTIVE', `invalid escape directive: the escape token must be \\ or \``, {
        location: { file, line: d.getRange().start.line + 1 },
        instruction: '# escape',
        value,
        hint: 'write "# escape=\\" or "# escape=`" on the first line',
      });
    }
    if (name === 'syntax') syntax = value;
  }
  const instructions = ast.getInstructions().map((ins): RawInstruction => {
    const keyword = ins.getKeyword().toUpperCase();
    const range = ins.getRange();
    // The whole text minus the keyword: getRawArgumentsContent() would drop COPY/RUN flags.
    const raw = ins.getTextContent().replace(/^\s*\S+[ \t]?/, '');
    const { header, rest } = joinContinuations(raw, escape);
    const heredocs = HEREDOC_KEYWORDS.has(keyword) ? readHeredocs(header, rest, { file, line: range.start.line + 1, keyword }) : [];
    return { keyword, args: header.trim(), heredocs, line: range.start.line + 1, endLine: range.end.line + 1 };
  });
  return { file, escape, syntax, instructions };
}

/**
 * Join an instruction's physical lines: a line ending in the escape token continues on the next one;
 * comment lines and blank lines inside a continuation are dropped, as BuildKit does.
 * Returns the logical header line and the lines after it (heredoc bodies).
 */
export function joinContinuations(raw: string, escape: string): { header: string; rest: string[] } {
  const lines = raw.split('\n');
  let header = '';
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (i > 0 && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    const trimmed = line.replace(/[ \t]+$/, '');
    if (trimmed.endsWith(escape)) {
      header += trimmed.slice(0, -1);
      continue;
    }
    header += line;
    i++;
    break;
  }
  return { header, rest: lines.slice(i) };
}

function readHeredocs(header: string, rest: string[], at: { file: string; line: number; keyword: string }): Heredoc[] {
  const specs = heredocSpecs(header);
  const docs: Heredoc[] = [];
  let cursor = 0;
  for (const spec of specs) {
    const body: string[] = [];
    let closed = false;
    for (; cursor < rest.length; cursor++) {
      const line = spec.chomp ? rest[cursor].replace(/^\t+/, '') : rest[cursor];
      if (line === spec.name) {
        closed = true;
        cursor++;
        break;
      }
      body.push(line);
    }
    if (!closed) {
      throw new WasmboxError('HEREDOC', `unterminated heredoc: no line "${spec.name}" ends it`, {
        location: { file: at.file, line: at.line },
        instruction: at.keyword,
        value: `<<${spec.name}`,
        hint: `end the heredoc with a line containing only ${spec.name}`,
      });
    }
    docs.push({ name: spec.name, expand: spec.expand, content: body.length ? body.join('\n') + '\n' : '' });
  }
  return docs;
}

/** The heredoc markers (`<<EOF`, `<<-'EOF'`) among the words of an instruction's first line. */
export function heredocSpecs(header: string): { name: string; chomp: boolean; expand: boolean; word: string }[] {
  const specs = [];
  for (const word of header.split(/\s+/)) {
    const at = word.indexOf('<<');
    if (at < 0) continue;
    const m = HEREDOC_WORD.exec(word.slice(at));
    if (!m) continue;
    const name = m[2] ?? m[3] ?? m[4];
    specs.push({ name, chomp: m[1] === '-', expand: m[2] === undefined && m[3] === undefined, word: m[0] });
  }
  return specs;
}
