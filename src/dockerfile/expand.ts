// Dockerfile word expansion, behaving like BuildKit's shell lexer (frontend/dockerfile/shell/lex.go):
// quotes and escapes are removed, `$x` and the `${x...}` forms are replaced, and the same pass also
// splits the result into words on unquoted whitespace for instructions that take lists.
import { WasmboxError } from '../errors.js';
import { Lexer } from './expand-lexer.js';

/** Variables visible to an instruction. */
export type Vars = ReadonlyMap<string, string>;

/** How to read a word: the escape character comes from the Dockerfile's `# escape=` directive. */
export interface ExpandOptions {
  escape?: '\\' | '`';
}

/** The outcome of expanding one word. */
export interface Expansion {
  /** The word with quotes removed, escapes processed and variables replaced (BuildKit ProcessWord). */
  value: string;
  /** The same, split on unquoted whitespace; empty quoted strings vanish (BuildKit ProcessWords). */
  words: string[];
  /** Names the word looked up that were not set (positional and special parameters included). */
  unset: string[];
}

/** Expand one word and report what it split into and which names were unset. */
export function expand(word: string, vars: Vars, opts: ExpandOptions = {}): Expansion {
  const lexer = new Lexer(word, vars, opts.escape ?? '\\');
  try {
    const { text, words } = lexer.readUntil(undefined, false);
    return { value: text, words, unset: [...lexer.unset] };
  } catch (error) {
    if (error instanceof WasmboxError) throw error;
    // Only a pathological word (say, thousands of nested ${...}) can get here.
    throw new WasmboxError('EXPAND', `cannot expand word: ${String(error)}`, {
      value: word,
      hint: 'nest fewer ${...} substitutions inside one another',
      cause: error,
    });
  }
}

/** Expand one word (BuildKit ProcessWord): quotes removed, escapes processed, `$x`, `${x}` and `${x...}` replaced. */
export function expandWord(word: string, vars: Vars, opts?: ExpandOptions): string {
  return expand(word, vars, opts).value;
}

/** Expand and split into words on unquoted whitespace (BuildKit ProcessWords), for EXPOSE-like lists. */
export function expandWords(word: string, vars: Vars, opts?: ExpandOptions): string[] {
  return expand(word, vars, opts).words;
}

/** Names a word refers to that are not set in `vars`, for diagnostics; [] if the word does not expand. */
export function unsetNames(word: string, vars: Vars, opts?: ExpandOptions): string[] {
  try {
    return expand(word, vars, opts).unset;
  } catch {
    return [];
  }
}
