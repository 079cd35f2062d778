// The scanner behind expand.ts. Its cases follow BuildKit's lexer one for one, quirks included (they
// are what users' Dockerfiles already rely on): quotes inside ${x:-...} still split in word lists, a
// pattern's quotes do not make `*` literal, and only `\` escapes glob characters even with `# escape=`.
import { WasmboxError } from '../errors.js';
import { PatternError, replacePattern, trimPrefix, trimSuffix } from './expand-glob.js';
import type { Vars } from './expand.js';

const DIGIT = /^\p{Nd}$/u;
const NAME_CHAR = /^[\p{L}\p{Nd}_]$/u;
const SPACE = /^\p{White_Space}$/u;
/** POSIX special parameters: never set in a Dockerfile, but `$@x` must still read `@` as the name. */
const SPECIAL = ['@', '*', '#', '?', '-', '$', '!', '0'];
const FORMS = 'supported forms are ${name}, ${name-default}, ${name+alt}, ${name?msg} (each also with :), ' +
  '${name#pat}, ${name##pat}, ${name%pat}, ${name%%pat}, ${name/pat/rep} and ${name//pat/rep}';

/** The text of a word and its whitespace-split words, built side by side. */
class Output {
  private text = '';
  private readonly words: string[] = [];
  private current = '';

  /** A character as written: unquoted whitespace ends a word. */
  plain(ch: string): void {
    this.text += ch;
    if (!SPACE.test(ch)) this.current += ch;
    else if (this.current) this.flush();
  }

  /** A quoted or escaped piece: kept whole inside the current word. */
  quoted(s: string): void {
    this.text += s;
    this.current += s;
  }

  /** A substitution's result: split like plain text, since splitting comes after substitution. */
  expanded(s: string): void {
    for (const ch of s) this.plain(ch);
  }

  finish(): { text: string; words: string[] } {
    if (this.current) this.flush();
    return { text: this.text, words: this.words };
  }

  private flush(): void {
    this.words.push(this.current);
    this.current = '';
  }
}

/** A cursor over one word; `readUntil(undefined, false)` expands it all. */
export class Lexer {
  /** Names looked up and not found, in order of lookup. */
  readonly unset = new Set<string>();
  private readonly chars: string[];
  private pos = 0;

  constructor(private readonly source: string, private readonly vars: Vars, private readonly escape: string) {
    this.chars = Array.from(source);
    // Go's text/scanner, which BuildKit reads words with, skips a leading byte order mark.
    if (this.chars[0] === '\uFEFF') this.pos = 1;
  }

  /** Expand up to the unescaped, unquoted `stop` (consumed) or the end; `raw` keeps escapes for patterns. */
  readUntil(stop: string | undefined, raw: boolean): { text: string; words: string[] } {
    const out = new Output();
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (ch === stop) {
        this.pos++;
        return out.finish();
      }
      this.step(ch, raw, out);
    }
    if (stop !== undefined) this.fail(`missing '${stop}'`, `add the missing '${stop}'`);
    return out.finish();
  }

  private step(ch: string, raw: boolean, out: Output): void {
    if (ch === '$') return out.expanded(this.dollar());
    if (ch === "'") return out.quoted(this.singleQuoted());
    if (ch === '"') return out.quoted(this.doubleQuoted(raw));
    if (ch === '<') return out.quoted(this.heredocMarker());
    this.pos++;
    if (ch !== this.escape) return out.plain(ch);
    if (raw) out.quoted(ch);
    const next = this.take();
    if (next !== undefined) out.quoted(next);
  }

  private singleQuoted(): string {
    const end = this.chars.indexOf("'", this.pos + 1);
    if (end < 0) this.fail('unterminated single-quoted string', "add the closing ' (nothing can be escaped between single quotes)");
    const text = this.chars.slice(this.pos + 1, end).join('');
    this.pos = end + 1;
    return text;
  }

  /** Between double quotes only `$` expands; the escape character escapes only `"`, `$` and itself. */
  private doubleQuoted(raw: boolean): string {
    let text = '';
    this.pos++;
    for (let ch = this.peek(); ch !== '"'; ch = this.peek()) {
      if (ch === undefined) this.fail('unterminated double-quoted string', `add the closing ", or write a literal one as ${this.escape}"`);
      if (ch === '$') {
        text += this.dollar();
        continue;
      }
      this.pos++;
      if (ch !== this.escape) {
        text += ch;
        continue;
      }
      if (raw) text += ch;
      const next = this.peek();
      if (next === '"' || next === '$' || next === this.escape) text += this.take();
      else if (next !== undefined) text += ch;
    }
    this.pos++;
    return text;
  }

  /** `<<` and the blanks after it stay one piece, so `<< EOF` is not split in word lists. */
  private heredocMarker(): string {
    this.pos++;
    if (this.peek() !== '<') return '<';
    this.pos++;
    let text = '<<';
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === '\r'; ch = this.peek()) text += this.take();
    return text;
  }

  private dollar(): string {
    this.pos++;
    if (this.peek() === '{') {
      this.pos++;
      return this.braced();
    }
    const name = this.readName();
    return name ? (this.lookup(name) ?? '') : '$';
  }

  private braced(): string {
    const first = this.peek();
    if (first === '{' || first === '}' || first === ':') {
      this.fail('bad substitution: ${ must be followed by a variable name', `write \${name}, or ${this.escape}$ for a literal $`);
    }
    const name = this.readName();
    const op = this.take();
    if (op === '}') return this.lookup(name) ?? '';
    if (op === '/') return this.substitute(name);
    if (op === '-' || op === '+' || op === '?' || op === '#' || op === '%') return this.modify(name, op, false);
    const op2 = op === ':' ? this.take() : undefined;
    if (op2 === '-' || op2 === '+' || op2 === '?') return this.modify(name, op2, true);
    if (op === undefined || (op === ':' && op2 === undefined)) return this.unterminated('}');
    return this.fail(`unsupported modifier "${op}${op2 ?? ''}" in substitution`, FORMS);
  }

  /** `${name-word}`, `${name+word}`, `${name?word}`, `${name#word}`, `${name%word}` and the `:` forms. */
  private modify(name: string, op: string, colon: boolean): string {
    const word = this.inner('}', op === '#' || op === '%');
    const value = this.lookup(name);
    const empty = value === undefined || (colon && value === '');
    if (op === '-') return empty ? word : value!;
    if (op === '+') return empty ? '' : word;
    if (op === '?') return empty ? this.required(name, value, word) : value!;
    const longest = word.startsWith(op);
    const pattern = longest ? word.slice(1) : word;
    return this.withPattern(pattern, () =>
      op === '#' ? trimPrefix(value ?? '', pattern, longest) : trimSuffix(value ?? '', pattern, longest));
  }

  private substitute(name: string): string {
    const all = this.peek() === '/';
    if (all) this.pos++;
    const pattern = this.inner('/', true);
    const replacement = this.inner('}', true);
    const value = this.lookup(name) ?? '';
    return this.withPattern(pattern, () => replacePattern(value, pattern, replacement, all));
  }

  /** A nested word; like BuildKit, any failure that ran into the end is reported as the missing delimiter. */
  private inner(stop: string, raw: boolean): string {
    try {
      return this.readUntil(stop, raw).text;
    } catch (error) {
      if (error instanceof WasmboxError && this.peek() === undefined) this.unterminated(stop);
      throw error;
    }
  }

  private readName(): string {
    const first = this.peek();
    if (first === undefined) return '';
    if (DIGIT.test(first)) return this.takeWhile(DIGIT);
    if (SPECIAL.includes(first)) return this.take()!;
    return this.takeWhile(NAME_CHAR);
  }

  private lookup(name: string): string | undefined {
    if (this.vars.has(name)) return this.vars.get(name);
    if (name) this.unset.add(name);
    return undefined;
  }

  private required(name: string, value: string | undefined, message: string): never {
    const why = message || (value === undefined ? 'is not allowed to be unset' : 'is not allowed to be empty');
    return this.fail(`${name}: ${why}`, `set ${name} with ARG or ENV (or --build-arg ${name}=...)`);
  }

  private withPattern(pattern: string, run: () => string): string {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      return this.fail(`invalid pattern "${pattern}" in substitution: ${error.message}`,
        'in a pattern \\ may only escape *, ?, \\, } and /');
    }
  }

  private unterminated(stop: string): never {
    const what = stop === '}' ? "missing '}' to close ${" : "missing '/' in ${name/pattern/replacement}";
    return this.fail(`syntax error: ${what}`, `add the '${stop}', or write ${this.escape}$ for a literal $`);
  }

  private fail(message: string, hint: string): never {
    throw new WasmboxError('EXPAND', message, { value: this.source, hint });
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private take(): string | undefined {
    return this.chars[this.pos++];
  }

  private takeWhile(pattern: RegExp): string {
    let text = '';
    while (this.pos < this.chars.length && pattern.test(this.chars[this.pos])) text += this.chars[this.pos++];
    return text;
  }
}
