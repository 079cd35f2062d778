// The `created_by` text BuildKit records in an image's history. BuildKit builds it with Go's fmt
// verbs (`%q` of a string slice, `%v`, `%+v` of a struct with time.Duration fields), so the same
// build must print the same text here for configs to match byte for byte.
import type { Healthcheck } from '../image/config.js';

/** Go's `%q` of a []string: `["a" "b c"]`. */
export function goQuoteList(items: string[] | null | undefined): string {
  return `[${(items ?? []).map(goQuote).join(' ')}]`;
}

/** Go's `%v` of a []string: `[a b c]`. */
export function goList(items: string[]): string {
  return `[${items.join(' ')}]`;
}

const ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };

/** Go's strconv.Quote for the characters Dockerfiles hold: C escapes, `\xHH` for other controls. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ESCAPES[ch]) out += ESCAPES[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** Go's time.Duration String(): `1h0m0s`, `1m30s`, `1.5s`, `500ms`, `0s`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trimZeros(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trimZeros(ns / 1e6)}ms`;
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = trimZeros((ns % 60e9) / 1e9);
  if (h > 0) return `${h}h${m}m${s}s`;
  return m > 0 ? `${m}m${s}s` : `${s}s`;
}

function trimZeros(n: number): string {
  return n.toFixed(9).replace(/\.?0+$/, '');
}

/** BuildKit's `HEALTHCHECK %+v` of the healthcheck record (every field, zeros included). */
export function healthcheckText(h: Healthcheck): string {
  const d = (v: number | undefined) => goDuration(v ?? 0);
  return `HEALTHCHECK {Test:${goList(h.Test)} Interval:${d(h.Interval)} Timeout:${d(h.Timeout)} ` +
    `StartPeriod:${d(h.StartPeriod)} StartInterval:${d(h.StartInterval)} Retries:${h.Retries ?? 0}}`;
}
