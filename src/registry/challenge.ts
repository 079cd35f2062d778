/** One authentication challenge from a `WWW-Authenticate` header; scheme and parameter names are lower-cased. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
// A token68 credential after the scheme ("Negotiate abc=="), which carries no parameters we use.
const TOKEN68 = /^[0-9A-Za-z._~+/-]+=*[ \t]*(?:,|$)/;

/**
 * Parses a `WWW-Authenticate` value (RFC 7235): several challenges, parameters with token or quoted-string
 * values (backslash escapes), case-insensitive names. Junk is skipped rather than fatal: a registry with a
 * slightly wrong header should still get its token.
 */
export function parseChallenge(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let current: Challenge | undefined;
  let i = 0;
  const skip = (chars: string): void => {
    while (i < header.length && chars.includes(header[i])) i++;
  };
  const token = (): string => {
    const match = TOKEN.exec(header.slice(i));
    i += match ? match[0].length : 0;
    return match ? match[0] : '';
  };
  // Unquoted values should be tokens, but a realm URL written bare is common enough to accept.
  const bare = (): string => {
    const match = /^[^,\s]*/.exec(header.slice(i)) as RegExpExecArray;
    i += match[0].length;
    return match[0];
  };
  while (i < header.length) {
    skip(' \t,');
    const name = token();
    if (!name) {
      i++;
      continue;
    }
    skip(' \t');
    if (header[i] === '=' && current) {
      i++;
      skip(' \t');
      const quoted = header[i] === '"' ? readQuoted(header, i) : undefined;
      if (quoted) i = quoted.end;
      current.params[name.toLowerCase()] = quoted ? quoted.value : bare();
    } else {
      current = { scheme: name.toLowerCase(), params: {} };
      challenges.push(current);
      const token68 = TOKEN68.exec(header.slice(i));
      if (token68) i += token68[0].length;
    }
  }
  return challenges;
}

/** A quoted-string starting at `start` (the opening quote): its unescaped value and the index after it. */
function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\' && i + 1 < text.length) i++;
    value += text[i++];
  }
  return { value, end: Math.min(i + 1, text.length) };
}
