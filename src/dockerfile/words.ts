import { WasmboxError, didYouMean } from '../errors.js';

/** What a parser needs to say where it is, for errors. */
export interface At {
  file: string;
  line: number;
  keyword: string;
}

/** Raise a parse error located at an instruction. */
export function parseError(at: At, message: string, value?: string, hint?: string): never {
  throw new WasmboxError('PARSE', message, { location: { file: at.file, line: at.line }, instruction: at.keyword, value, hint });
}

/**
 * Split text into words on unquoted whitespace, keeping quotes and escapes in the words (BuildKit's
 * parseWords): they are removed later, when the word is expanded.
 */
export function splitWords(text: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (!inWord && /\s/.test(ch)) continue;
    inWord = true;
    if (quote === '' && /\s/.test(ch)) {
      words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (ch === escape && i + 1 < text.length && quote !== "'") {
      word += ch + text[++i];
      continue;
    }
    if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = '';
    word += ch;
  }
  if (inWord) words.push(word);
  return words;
}

/** A parsed `--name[=value]` flag. */
export interface RawFlag {
  name: string;
  value: string | undefined;
}

/**
 * Take the leading `--flags` off an instruction's arguments (BuildKit's extractBuilderFlags): flag
 * words may be quoted; the first word not starting with `--` ends them.
 */
export function extractFlags(args: string, escape: string): { flags: RawFlag[]; rest: string } {
  const flags: RawFlag[] = [];
  let rest = args.trimStart();
  while (rest.startsWith('--')) {
    const [word] = splitWords(rest, escape);
    if (word === '--') break;
    rest = rest.slice(word.length).trimStart();
    const body = unquote(word.slice(2), escape);
    const eq = body.indexOf('=');
    flags.push(eq < 0 ? { name: body, value: undefined } : { name: body.slice(0, eq), value: body.slice(eq + 1) });
  }
  return { flags, rest };
}

function unquote(word: string, escape: string): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < word.length; i++) {
    const ch = word[i];
    if (ch === escape && i + 1 < word.length && quote !== "'") out += word[++i];
    else if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = '';
    else out += ch;
  }
  return out;
}

/** The declared flags of one instruction: name → kind. */
export type FlagSpec = Record<string, 'string' | 'bool' | 'list'>;

/** Typed flag values after validation against a {@link FlagSpec}. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Check raw flags against what the instruction accepts; unknown ones get a did-you-mean hint. */
export function checkFlags(raw: RawFlag[], spec: FlagSpec, at: At): FlagValues {
  const values: FlagValues = {};
  for (const { name, value } of raw) {
    const kind = spec[name];
    if (kind === undefined) {
      const known = Object.keys(spec);
      const close = didYouMean(name, known);
      const hint = close ? `did you mean --${close}?` : known.length ? `${at.keyword} accepts ${known.map((k) => `--${k}`).join(', ')}` : `${at.keyword} takes no flags`;
      parseError(at, `unknown flag --${name}`, `--${name}`, hint);
    }
    if (kind === 'bool') {
      if (value !== undefined && value !== 'true' && value !== 'false') parseError(at, `--${name} expects true or false`, value);
      values[name] = value !== 'false';
    } else {
      if (value === undefined) parseError(at, `--${name} needs a value`, `--${name}`, `write --${name}=VALUE`);
      if (kind === 'list') values[name] = [...((values[name] as string[] | undefined) ?? []), value];
      else if (values[name] !== undefined) parseError(at, `--${name} given twice`, `--${name}=${value}`);
      else values[name] = value;
    }
  }
  return values;
}

/**
 * The exec form of a command: a JSON array of strings, or undefined when the text is not JSON (BuildKit
 * then takes it as shell form). A JSON array holding anything but strings is an error, as in BuildKit.
 */
export function parseJsonArray(text: string, at?: At): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (v.every((x) => typeof x === 'string')) return v;
  if (at) parseError(at, 'when using JSON array syntax, arrays must be comprised of strings only', t, 'quote every element, e.g. ["sleep", "10"]');
  return undefined;
}

/** Split on runs of blanks only, keeping quotes inside words (BuildKit's parseStringsWhitespaceDelimited, used by FROM, COPY, ADD, EXPOSE, VOLUME). */
export function splitBlanks(text: string): string[] {
  return text.trim().split(/[\t\v\f\r ]+/).filter((w) => w !== '');
}

/** `name=value` pairs (ENV, LABEL, ARG); the legacy `NAME value` form when the first word has no `=`. */
export function parseNameValues(text: string, escape: string, at: At, allowBare: boolean): { name: string; value: string | undefined }[] {
  const words = splitWords(text, escape);
  if (words.length === 0) parseError(at, `${at.keyword} needs at least one argument`, '', `write ${at.keyword} name=value`);
  if (!words[0].includes('=') && !allowBare) {
    if (words.length < 2) parseError(at, `${at.keyword} needs a value for ${words[0]}`, words[0], `write ${at.keyword} ${words[0]}=value`);
    const value = text.trim().slice(words[0].length).trim();
    return [{ name: words[0], value }];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0 && !allowBare) parseError(at, `${at.keyword} arguments must look like name=value`, word, `write ${word}=value`);
    const name = eq < 0 ? word : word.slice(0, eq);
    if (name === '') parseError(at, `${at.keyword} name cannot be empty`, word);
    return { name, value: eq < 0 ? undefined : word.slice(eq + 1) };
  });
}
