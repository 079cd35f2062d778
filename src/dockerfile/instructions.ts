import { suggest } from '../errors.js';
import type { Heredoc, RawInstruction } from './parse.js';
import { type At, type FlagSpec, type FlagValues, checkFlags, extractFlags, parseError, parseJsonArray, parseNameValues, splitBlanks, splitWords } from './words.js';

/** A command as written: exec form (JSON array) or shell form (text run by the stage's SHELL). */
export type Command = { form: 'exec'; argv: string[] } | { form: 'shell'; text: string };

/** A name with an optional, still unexpanded value (ARG, ENV, LABEL). */
export interface NameValue {
  name: string;
  value: string | undefined;
}

interface Base {
  /** Validated `--flags`, still unexpanded. */
  flags: FlagValues;
  line: number;
  endLine: number;
  /** The instruction as docker records it in history (`COPY a /b`). */
  text: string;
}

/** One member per keyword, so a `switch` on `keyword` narrows (`Shape<'CMD' | 'ENTRYPOINT', …>` gives two). */
type Shape<K extends string, T> = K extends string ? { keyword: K } & T : never;

/** A Dockerfile instruction, typed; values are unexpanded (expansion happens when it runs). */
export type Instruction = Base &
  (
    | Shape<'FROM', { image: string; stage?: string }>
    | Shape<'ARG' | 'ENV' | 'LABEL', { pairs: NameValue[] }>
    | Shape<'COPY' | 'ADD', CopySpec>
    | Shape<'RUN', { command: Command; heredocs: Heredoc[] }>
    | Shape<'CMD' | 'ENTRYPOINT', { command: Command }>
    | Shape<'SHELL', { argv: string[] }>
    | Shape<'WORKDIR' | 'USER' | 'STOPSIGNAL' | 'MAINTAINER', { value: string }>
    | Shape<'EXPOSE' | 'VOLUME', { values: string[] }>
    | Shape<'HEALTHCHECK', { command: Command | 'NONE' }>
    | Shape<'ONBUILD', { trigger: string; inner: Instruction }>
  );

/** The instruction type for one keyword (`InstructionOf<'COPY'>`). */
export type InstructionOf<K extends Instruction['keyword']> = Instruction & { keyword: K };

/** COPY and ADD: sources, destination and their flags. */
export interface CopySpec {
  sources: string[];
  dest: string;
  heredocs: Heredoc[];
}

type Parser = (args: string, raw: RawInstruction, at: At, escape: string) => object;

const FLAGS: Record<string, FlagSpec> = {
  FROM: { platform: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', exclude: 'list', parents: 'bool' },
  ADD: { chown: 'string', chmod: 'string', link: 'bool', exclude: 'list', checksum: 'string', 'keep-git-dir': 'bool', unpack: 'bool' },
  RUN: { mount: 'list', network: 'string', security: 'string' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

const PARSERS: Record<string, Parser> = {
  FROM: parseFrom,
  ARG: (args, _raw, at, escape) => ({ pairs: parseNameValues(args, escape, at, true) }),
  ENV: (args, _raw, at, escape) => ({ pairs: parseNameValues(args, escape, at, false) }),
  LABEL: (args, _raw, at, escape) => ({ pairs: parseNameValues(args, escape, at, false) }),
  COPY: parseCopy,
  ADD: parseCopy,
  RUN: (args, raw, at) => ({ command: parseCommand(args, at), heredocs: raw.heredocs }),
  CMD: (args, _raw, at) => ({ command: parseCommand(args, at) }),
  ENTRYPOINT: (args, _raw, at) => ({ command: parseCommand(args, at) }),
  SHELL: parseShell,
  WORKDIR: single,
  USER: single,
  STOPSIGNAL: single,
  MAINTAINER: single,
  EXPOSE: list,
  VOLUME: (args, _raw, at) => ({ values: parseJsonArray(args, at) ?? splitBlanks(args) }),
  HEALTHCHECK: parseHealthcheck,
  ONBUILD: parseOnbuild,
};

/** Every instruction keyword wasmbox understands. */
export const KEYWORDS = Object.keys(PARSERS);

/** Turn one raw instruction into a typed one, validating its shape and flags. */
export function toInstruction(raw: RawInstruction, file: string, escape: string): Instruction {
  const at: At = { file, line: raw.line, keyword: raw.keyword };
  const parser = PARSERS[raw.keyword];
  if (!parser) {
    parseError(at, `unknown instruction ${raw.keyword}`, raw.keyword, suggest(raw.keyword, KEYWORDS) ?? `instructions are ${KEYWORDS.join(', ')}`);
  }
  const { flags: rawFlags, rest } = extractFlags(raw.args, escape);
  const flags = checkFlags(rawFlags, FLAGS[raw.keyword] ?? {}, at);
  if (rest.trim() === '' && raw.keyword !== 'HEALTHCHECK') {
    parseError(at, `${raw.keyword} needs arguments`, raw.args, `see the Dockerfile reference for ${raw.keyword}`);
  }
  const body = parser(rest, raw, at, escape);
  const text = `${raw.keyword} ${raw.args}`.trim();
  return { keyword: raw.keyword, line: raw.line, endLine: raw.endLine, text, flags, ...body } as Instruction;
}

/** A command in exec form when it is a JSON array of strings, else in shell form. */
export function parseCommand(args: string, at?: At): Command {
  const argv = parseJsonArray(args, at);
  return argv ? { form: 'exec', argv } : { form: 'shell', text: args.trim() };
}

function parseFrom(args: string, _raw: RawInstruction, at: At) {
  const words = splitBlanks(args);
  if (words.length === 2 || words.length > 3 || (words.length === 3 && words[1].toUpperCase() !== 'AS')) {
    parseError(at, 'FROM takes an image and optionally "AS name"', args, 'write FROM image [AS name]');
  }
  const stage = words[2]?.toLowerCase();
  if (stage !== undefined && !/^[a-z][a-z0-9._-]*$/.test(stage)) {
    parseError(at, `invalid stage name "${words[2]}"`, words[2], 'stage names start with a letter and use letters, digits, ".", "_" or "-"');
  }
  return { image: words[0], stage };
}

function parseCopy(args: string, raw: RawInstruction, at: At) {
  // Like BuildKit, the shell form splits on blanks only: a path with spaces needs the JSON form.
  const words = parseJsonArray(args, at) ?? splitBlanks(args);
  if (words.length < 2) {
    parseError(at, `${at.keyword} needs at least one source and a destination`, args, `write ${at.keyword} <src>... <dest>`);
  }
  const dest = words[words.length - 1];
  if (/^\d*<<-?\s*[^<]+$/.test(dest) && raw.heredocs.length > 0) {
    parseError(at, `${at.keyword} cannot accept a heredoc as a destination`, dest, `write ${at.keyword} <<EOF /path/to/file`);
  }
  return { sources: words.slice(0, -1), dest, heredocs: raw.heredocs };
}

function parseShell(args: string, _raw: RawInstruction, at: At) {
  const argv = parseJsonArray(args, at);
  if (!argv || argv.length === 0) parseError(at, 'SHELL requires the arguments in JSON form', args, 'write SHELL ["/bin/sh", "-c"]');
  return { argv };
}

function single(args: string) {
  return { value: args.trim() };
}

function list(args: string) {
  return { values: splitBlanks(args) };
}

function parseHealthcheck(args: string, _raw: RawInstruction, at: At, escape: string) {
  const [first = ''] = splitWords(args, escape);
  if (first.toUpperCase() === 'NONE') {
    if (args.trim().length > 4) parseError(at, 'HEALTHCHECK NONE takes no other arguments', args);
    return { command: 'NONE' as const };
  }
  if (first.toUpperCase() !== 'CMD') parseError(at, 'HEALTHCHECK needs CMD or NONE', first, 'write HEALTHCHECK [options] CMD command');
  const rest = args.trim().slice(3).trim();
  if (rest === '') parseError(at, 'HEALTHCHECK CMD needs a command', args);
  return { command: parseCommand(rest, at) };
}

function parseOnbuild(args: string, raw: RawInstruction, at: At, escape: string) {
  const [word = ''] = splitWords(args, escape);
  const keyword = word.toUpperCase();
  if (keyword === 'ONBUILD' || keyword === 'FROM' || keyword === 'MAINTAINER') {
    parseError(at, `${keyword} is not allowed as an ONBUILD trigger`, word);
  }
  const innerArgs = args.trim().slice(word.length).trim();
  const inner = toInstruction({ ...raw, keyword, args: innerArgs }, at.file, escape);
  // BuildKit records the trigger as written (keyword case kept), heredoc bodies and terminators appended.
  const docs = raw.heredocs.map((h) => `\n${h.content}${h.name}`).join('');
  return { trigger: args.trim() + docs, inner };
}
