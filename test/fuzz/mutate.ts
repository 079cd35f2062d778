/**
 * Seeded Dockerfile mutations for the fuzz test: the same (seed, index) always yields the same mutant,
 * so a failure can be replayed from the seed the test prints.
 */
import { KEYWORDS } from '../../src/dockerfile/instructions.js';

/** A small deterministic PRNG (mulberry32): numbers in [0, 1). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The PRNG for one mutant: mixing the index into the seed keeps mutants independent of each other. */
export function rngFor(seed: number, index: number): () => number {
  return random((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];

/** Characters and fragments that stress the lexer: quotes, braces, escapes, heredoc markers, JSON, odd bytes. */
const TOKENS = [
  '"', "'", '`', '{', '}', '${', '${X:-', '${X:?oops}', '${X#*}', '${X/a/b}', '$', '\\', '\\\n', '\\\\', '[', ']', '["a", 1]', '[]',
  '<<EOF', '<<-EOF\n\tbody\n\tEOF', '<<"Q"', '\n<<EOF\n', '#', '=', ' = ', ':', '*', '?', '**', '..', '../', '/', '\t', '\r', '\r\n', '\0',
  '\uFEFF', 'é', '\u{1F600}', ' ', '\n', '\n\n', ' AS ', ' as x', '-', '--', '0', '-1', '99999', '1e3',
];

const FLAGS = [
  '--from=0', '--from=1', '--from=nope', '--from=$X', '--chown=1:1', '--chown=nobody', '--chown=', '--chmod=755', '--chmod=999', '--chmod=',
  '--link', '--link=maybe', '--exclude=*', '--exclude=', '--parents', '--platform=linux/arm64', '--platform=bad', '--unpack=false',
  '--interval=1s', '--interval=x', '--retries=-1', '--bogus', '--', '--=', '--"quoted"=1', '--checksum=sha256:00',
];

const DIRECTIVES = ['# escape=`\n', '# escape=\\\n', '# escape=x\n', '# syntax=docker/dockerfile:1\n', '# check=skip=all\n', '\uFEFF'];

type Mutation = (lines: string[], rng: Rng) => void;

const MUTATIONS: Mutation[] = [
  // A character replaced or inserted.
  (lines, rng) => {
    const i = Math.floor(rng() * lines.length);
    const at = Math.floor(rng() * (lines[i].length + 1));
    const token = rng() < 0.5 ? String.fromCharCode(32 + Math.floor(rng() * 95)) : pick(rng, TOKENS);
    const cut = rng() < 0.5 ? 1 : 0;
    lines[i] = lines[i].slice(0, at) + token + lines[i].slice(at + cut);
  },
  (lines, rng) => void lines.splice(Math.floor(rng() * lines.length), 1),
  (lines, rng) => void lines.splice(Math.floor(rng() * lines.length), 0, pick(rng, lines)),
  (lines, rng) => {
    const [a, b] = [Math.floor(rng() * lines.length), Math.floor(rng() * lines.length)];
    [lines[a], lines[b]] = [lines[b], lines[a]];
  },
  // An instruction keyword swapped for another one (any case), or for a near miss.
  (lines, rng) => {
    const i = Math.floor(rng() * lines.length);
    const keyword = pick(rng, [...KEYWORDS, 'COPPY', 'FRM', 'RUNN', 'ONBUILD ONBUILD', 'ONBUILD FROM', '']);
    const cased = rng() < 0.3 ? keyword.toLowerCase() : keyword;
    lines[i] = lines[i].replace(/^\s*[A-Za-z]+/, cased);
  },
  // A flag put right after a keyword.
  (lines, rng) => {
    const i = Math.floor(rng() * lines.length);
    lines[i] = lines[i].replace(/^(\s*[A-Za-z]+)/, `$1 ${pick(rng, FLAGS)}`);
  },
  (lines, rng) => void (lines[0] = pick(rng, DIRECTIVES) + (lines[0] ?? '')),
  // The tail of a line cut off (unterminated quotes, braces, JSON).
  (lines, rng) => {
    const i = Math.floor(rng() * lines.length);
    lines[i] = lines[i].slice(0, Math.floor(rng() * lines[i].length));
  },
];

/** One to four mutations of `text`, chosen by `rng`. */
export function mutate(text: string, rng: Rng): string {
  const lines = text.split('\n');
  const count = 1 + Math.floor(rng() * 4);
  for (let k = 0; k < count; k++) {
    if (lines.length === 0) lines.push('');
    pick(rng, MUTATIONS)(lines, rng);
  }
  return lines.join('\n');
}
