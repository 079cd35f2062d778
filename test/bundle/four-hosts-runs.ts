/**
 * One run of a box on each of the four hosts, reduced to what the hosts have in common: the exit code,
 * stdout and stderr where the host shows them. Node runs `wasmbox run`; Chromium runs the web bundle's
 * embeddable `wasmbox.js` (runBox); workerd and Deno serve the worker and deno bundles, asked with one GET.
 * The hosts themselves are started by the helpers of web-browser.ts and edge-hosts.ts.
 */
import { expect } from 'vitest';
import type { StaticServer } from '../../src/cli/static-server.js';
import type { Compiled } from '../runtime/hosts/compiled.js';
import type { Host } from './edge-hosts.js';
import { type Browser, newPage } from './web-browser.js';
import { writeEmbedPage } from './web-boxes.js';

/** What one host showed of a run; a field is missing where that host does not show it. */
export interface Seen {
  host: string;
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

/** `wasmbox run BOX [ARGS]` with empty stdin. */
export async function runInNode(cli: Compiled, box: string, args: string[] = []): Promise<Seen> {
  const r = await cli.run(['run', box, ...args], { input: '' });
  return { host: `node${args.length ? ' (args)' : ''}`, exitCode: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The name of the page writeChromiumPage writes into a web bundle. */
const PAGE = 'four-hosts.html';

/** A page in the web bundle `dist` that runs the box by its Cmd and, when `args` are given, with them. */
export async function writeChromiumPage(dist: string, args: string[] | undefined): Promise<void> {
  await writeEmbedPage(dist, PAGE, `
    const pick = (r) => ({ outcome: r.outcome, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr });
    const cmd = pick(await runBox());
    const given = ${JSON.stringify(args ?? null)};
    return { cmd, args: given ? pick(await runBox({ args: given })) : null };
  `);
}

interface PageRun { outcome: string; exitCode: number; stdout: string; stderr: string }

/** Open the page of the bundle served at `server`/`name`/ and read both runs. */
export async function runInChromium(browser: Browser, server: StaticServer, name: string): Promise<Seen[]> {
  const { page, errors } = await newPage(browser);
  try {
    await page.goto(`${server.url}${name}/${PAGE}`);
    await page.waitForFunction(() => 'results' in window, null, { timeout: 60_000 });
    const r = await page.evaluate(() => (window as unknown as { results: { cmd: PageRun; args: PageRun | null; error?: string } }).results);
    expect(r.error, 'the embedding page threw').toBeUndefined();
    // The embedding page has no icon: the browser's request for /favicon.ico fails, which is no error of ours.
    expect(errors.filter((e) => !/favicon|status of 404/.test(e))).toEqual([]);
    const seen = (run: PageRun, host: string): Seen => {
      expect(run.outcome, `${host}: ${run.stderr}`).toBe('exit');
      return { host, exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr };
    };
    return [seen(r.cmd, 'chromium'), ...(r.args ? [seen(r.args, 'chromium (args)')] : [])];
  } finally {
    await page.close();
  }
}

/**
 * GET / from a host serving a CGI bundle, then stop it. Our boxes print no CGI header block, so a run
 * that exits 0 answers 200 with stdout as the body; any other exit answers 500 with a line naming the
 * exit code and then stderr's tail (stdout is dropped), so only the exit code and stderr compare there.
 */
export async function runOnEdge(name: string, start: (dist: string) => Promise<Host>, dist: string): Promise<Seen> {
  const host = await start(dist);
  try {
    const res = await fetch(`${host.url}/`);
    const body = await res.text();
    const where = `${name}: ${body}\n${host.logs()}`;
    const exitCode = Number(res.headers.get('x-wasmbox-exit-code'));
    expect(Number.isInteger(exitCode), where).toBe(true);
    if (exitCode === 0) {
      expect(res.status, where).toBe(200);
      return { host: name, exitCode, stdout: body };
    }
    expect(res.status, where).toBe(500);
    const head = `the box's command failed with exit code ${exitCode}\n`;
    expect(body.startsWith(head), where).toBe(true);
    return { host: name, exitCode, stderr: body.slice(head.length) };
  } finally {
    await host.stop();
  }
}
