// How `wasmbox cache` writes sizes, ages and tables, and reads `--filter until=`: the docker CLI's habits
// (decimal units as in `12.3MB`, "2 hours ago", Go durations and timestamps for `until`), so its users read
// and type the same things.
import { fail } from '../errors.js';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** A byte count the way docker prints it: three significant digits, decimal units (`0B`, `512B`, `12.3MB`). */
export function humanSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (unit < UNITS.length - 1 && Number(value.toPrecision(3)) >= 1000) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(3))}${UNITS[unit]}`;
}

/** How long ago `then` was, docker style: "5 seconds ago", "About an hour ago", "3 weeks ago". */
export function ago(then: number, now: number = Date.now()): string {
  const s = Math.max(0, (now - then) / 1000);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  if (s < 1) return 'Less than a second ago';
  if (s < 60) return plural(Math.floor(s), 'second');
  const m = s / 60;
  if (m < 1.5) return 'About a minute ago';
  if (m < 60) return plural(Math.round(m), 'minute');
  const h = m / 60;
  if (h < 1.5) return 'About an hour ago';
  if (h < 48) return plural(Math.round(h), 'hour');
  if (h < 24 * 14) return plural(Math.floor(h / 24), 'day');
  if (h < 24 * 60) return plural(Math.floor(h / 24 / 7), 'week');
  if (h < 24 * 365 * 2) return plural(Math.floor(h / 24 / 30), 'month');
  return plural(Math.floor(h / 24 / 365), 'year');
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
const DURATION = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+$/;
const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const UNTIL_HINT = 'use a duration (24h, 90m, 1h30m, 7d), a Unix timestamp, or a date such as 2024-05-01T12:00:00Z';

/**
 * The age `until` asks for, in ms: a duration ('24h', '1h30m', Go style, plus 'd'), a Unix timestamp in
 * seconds, or an RFC 3339 date; entries older than that are pruned. Throws `USAGE` naming the value.
 */
export function parseUntil(until: string, now: number = Date.now()): number {
  const text = until.trim();
  if (DURATION.test(text)) {
    let ms = 0;
    for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/g)) ms += Number(n) * DURATION_UNITS[unit];
    return Math.round(ms);
  }
  const at = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) * 1000 : DATE.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) fail('USAGE', `cannot read the prune filter until=${until}`, { instruction: '--filter', value: until, hint: UNTIL_HINT });
  return Math.max(0, now - at);
}

/** The `until` value among docker-style `--filter KEY=VALUE` flags; other keys are a `USAGE` error. */
export function untilFromFilters(filters: string[]): string | undefined {
  let until: string | undefined;
  for (const filter of filters) {
    const eq = filter.indexOf('=');
    const key = eq < 0 ? filter : filter.slice(0, eq);
    if (key !== 'until' || eq < 0) {
      fail('USAGE', `unsupported prune filter "${filter}"`, { instruction: '--filter', value: filter, hint: `cache prune supports until=DURATION; ${UNTIL_HINT}` });
    }
    until = filter.slice(eq + 1);
  }
  return until;
}

/** Lays out rows in columns separated by at least three spaces, like docker's tables. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join('')).join('\n');
}
