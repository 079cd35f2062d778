/**
 * The web bundle's page on a first visit, in a browser that has never seen the site (a fresh Chromium
 * profile per case): the box starts before the terminal (xterm.js, DIST/terminal.js) has loaded, and
 * its early output still ends in the real terminal; a box that never reads stdin starts without the
 * service worker; a box that reads stdin gets keyboard input on a plain page although its first Worker
 * started before the service worker could control the page (browser-stdin-need.ts).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from '../../src/cli/static-server.js';
import { writeWeb } from '../../src/bundle/web.js';
import { scratchDir } from '../helpers/fixtures.js';
import { type Compiled, REPO, compileWasmbox } from '../runtime/hosts/compiled.js';
import { NO_CLANG } from './web-boxes.js';
import { NO_CHROMIUM, finished, launchChromium, newPage, typeInput, waitingForInput } from './web-browser.js';

let cli: Compiled;
let tmp: { dir: string; remove: () => Promise<void> };
let server: StaticServer;
const boxes = NO_CLANG ? ['shell'] : ['shell', 'hello'];

beforeAll(async () => {
  [cli, tmp] = await Promise.all([compileWasmbox(), scratchDir('wasmbox-web-first-')]);
  const site = join(tmp.dir, 'site');
  await mkdir(site, { recursive: true });
  for (const name of boxes) {
    const box = join(tmp.dir, 'boxes', name);
    const r = await cli.run(['build', '-q', '-o', box, join(REPO, `examples/${name === 'hello' ? 'hello-c' : name}`)]);
    expect(r.code, r.stderr).toBe(0);
    await writeWeb(box, join(site, name));
  }
  if (!NO_CHROMIUM) server = await startStaticServer(site, { host: '127.0.0.1', port: 0 });
}, 180_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([cli?.remove(), tmp?.remove()]);
});

/** Open `path` in a new browser with a new profile; `hold` delays responses whose path ends so until released. */
async function firstVisit<T>(path: string, test: (page: Page, release: () => void) => Promise<T>, hold?: string): Promise<T> {
  const browser = await launchChromium();
  try {
    const { page, errors } = await newPage(browser);
    let release = (): void => undefined;
    if (hold) {
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route((url) => url.pathname.endsWith(hold), async (route) => (await held, await route.continue()));
    }
    await page.goto(`${server.url}${path}`);
    const result = await test(page, release);
    expect(errors.filter((e) => !/favicon|status of 404/.test(e))).toEqual([]);
    return result;
  } finally {
    await browser.close();
  }
}

const registrations = (page: Page): Promise<number> => page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);

describe.skipIf(NO_CHROMIUM)(`the web bundle on a first visit${NO_CHROMIUM ? ` (skipped: ${NO_CHROMIUM})` : ''}`, () => {
  const HELLO = ['hello, first visit', 'running in /work as wasmbox'];
  const SHELL = ['apples: 3', 'pears: 5', 'plums: 2', 'fruit in stock: 10'];
  const EARLY = [
    { box: 'hello', query: '?arg=first%20visit', lines: HELLO, needs: NO_CLANG },
    { box: 'shell', query: '?stdin=none', lines: SHELL, needs: undefined },
  ];

  it.each(EARLY)('shows $box output before the terminal has loaded, then hands it to the terminal', async ({ box, query, lines, needs }) => {
    if (needs) return void console.warn(`skipped: ${needs}`);
    await firstVisit(`${box}/${query}`, async (page, release) => {
      // terminal.js is held back: the output shows as plain text, and the run is not over before the terminal has it.
      await page.waitForFunction((first) => document.querySelector('.plain-terminal')?.textContent?.includes(first), lines[0], { timeout: 30_000 });
      expect(await page.locator('.xterm').count()).toBe(0);
      expect(await page.evaluate(() => document.body.dataset.state)).toBe('running');
      release();
      const shown = await finished(page);
      expect(shown.exitCode).toBe(0);
      expect(shown.lines.slice(0, lines.length)).toEqual(lines);
      await page.waitForFunction((first) => document.querySelector('.xterm-rows')?.textContent?.includes(first), lines[0]);
      expect(await page.locator('.plain-terminal').count()).toBe(0);
    }, '/terminal.js');
  }, 60_000);

  it.skipIf(NO_CLANG)('runs a box that never reads stdin without registering the service worker', async () => {
    await firstVisit('hello/', async (page) => {
      const shown = await finished(page);
      expect(shown.lines).toEqual(['hello, world', 'running in /work as wasmbox']);
      expect(await registrations(page)).toBe(0);
    });
  }, 60_000);

  it.skipIf(NO_CLANG)('starts the box from index.html alone: only the image is fetched, page.js only once the run has said something', async () => {
    await firstVisit('hello/', async (page) => {
      expect((await finished(page)).exitCode).toBe(0);
      const seen = await page.evaluate(() => ({
        files: performance.getEntriesByType('resource').map((e) => ({ path: new URL(e.name).pathname, start: e.startTime })),
        firstOutput: performance.getEntriesByName('wasmbox:first-output')[0]?.startTime ?? NaN,
      }));
      const paths = seen.files.map((f) => f.path);
      expect(paths).toContain('/hello/box/rootfs.wbfs');
      expect(paths).not.toContain('/hello/wasmbox.json');
      expect(paths).not.toContain('/hello/box/config.json');
      // Asked for by the boot script on the run's first message, or at the latest 200 ms after it started
      // (PAGE_AFTER_MS, runtime/hosts/browser-boot.ts): never before either.
      const pageJs = seen.files.find((f) => f.path === '/hello/page.js');
      expect(pageJs, paths.join(' ')).toBeDefined();
      expect(pageJs!.start).toBeGreaterThanOrEqual(Math.min(seen.firstOutput, 200));
      expect(paths).toContain('/hello/xterm.css');
    });
  }, 60_000);

  const BROKEN = [
    { name: 'missing', respond: { status: 404, body: 'no such file' }, says: /cannot load \S+\/box\/rootfs\.wbfs: HTTP 404; serve the whole bundle directory/ },
    { name: 'truncated', respond: { status: 200, body: Buffer.alloc(100) }, says: /rootfs\.wbfs has 100 bytes where the bundle's manifest says \d+; upload the bundle again/ },
  ];
  it.each(BROKEN)('says the box did not load when its image is $name, with page.js loaded to say it', async ({ respond, says, name }) => {
    if (NO_CLANG) return void console.warn(`skipped ${name}: ${NO_CLANG}`);
    await firstVisit('hello/', async (page) => {
      await page.route((url) => url.pathname.endsWith('/box/rootfs.wbfs'), (route) => route.fulfill({ ...respond, contentType: 'application/octet-stream' }));
      await page.reload();
      const shown = await finished(page);
      expect(shown.state).toBe('failed');
      expect(shown.status).toBe('the box did not load');
      expect(shown.lines.join('\n')).toMatch(says);
    });
  }, 60_000);

  it.skipIf(NO_CLANG)('waits with ?autorun=0, and runs the box when asked to', async () => {
    await firstVisit('hello/?autorun=0&arg=later', async (page) => {
      await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 30_000 });
      await page.click('#rerun');
      const shown = await finished(page);
      expect(shown.lines).toEqual(['hello, later', 'running in /work as wasmbox']);
      expect(shown.exitCode).toBe(0);
    });
  }, 60_000);

  it('gives keyboard input to a box that reads it, on a plain page seen for the first time', async () => {
    await firstVisit(`shell/?arg=sh&arg=-c&arg=${encodeURIComponent('echo before; read -r x; echo "got $x"')}`, async (page) => {
      await waitingForInput(page);
      await typeInput(page, 'typed\n', true);
      const shown = await finished(page);
      // The built-in shell hands its output over when the script ends (as in web.test.ts).
      expect(shown.lines).toEqual(['typed', '^D', 'before', 'got typed']);
      expect(shown.exitCode).toBe(0);
      expect(await registrations(page)).toBe(1);
    });
  }, 60_000);
});
