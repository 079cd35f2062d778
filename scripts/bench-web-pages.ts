/**
 * Cold page loads in Chromium for scripts/bench-web.ts: each load is a new browser with a new profile
 * (test/bundle/web-browser.ts's launchChromium), so no HTTP cache, compiled-code cache or service worker
 * survives from one load to the next; the new browser settles on about:blank before the load. A load's
 * figures are the page's own performance marks, in ms since navigation start (performance.timeOrigin),
 * and when its listed files arrived (Resource Timing).
 */
import type { Page } from 'playwright-core';
import { launchChromium, newPage } from '../test/bundle/web-browser.js';

/** What a page is, how to tell that it is done, and what it must have shown. */
export interface PageKind {
  /** The mark of the first output. */
  first: string;
  /** Further marks to report, in the order they come. */
  marks: string[];
  /** Files (URL path endings) whose arrival time to report. */
  files: string[];
  /** The output the page shows once done (throws when the page failed). */
  output(page: Page): Promise<string>;
}

/** One cold load: marks and file arrival times in ms since navigation start, and the page's output. */
export interface Load {
  first: number;
  marks: Record<string, number>;
  files: Record<string, number>;
  output: string;
}

/** The wasmbox web bundle's page: it marks wasmbox:loaded, wasmbox:run and wasmbox:first-output. */
export const WASMBOX_PAGE: PageKind = {
  first: 'wasmbox:first-output',
  marks: ['wasmbox:loaded', 'wasmbox:run'],
  files: ['/page.js', '/wasmbox.js', '/runtime/index.js', '/box/rootfs.wbfs'],
  output: async (page) => {
    await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset.state ?? ''), null, { timeout: 60_000 });
    return page.evaluate(() => {
      if (document.body.dataset.state !== 'done') throw new Error(`the page failed: ${document.getElementById('status')?.textContent}`);
      const terminal = (globalThis as unknown as { wasmbox: { terminal: { lines(): string[] } } }).wasmbox.terminal;
      return `${terminal.lines().join('\n')}\nexit ${document.body.dataset.exitCode}`;
    });
  },
};

/** A page that shows its output in <pre id="out"> and its state on <body data-state data-exit-code>. */
async function preOutput(page: Page): Promise<string> {
  await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset.state ?? ''), null, { timeout: 60_000 });
  return page.evaluate(() => {
    const text = document.getElementById('out')?.textContent ?? '';
    if (document.body.dataset.state !== 'done') throw new Error(text);
    return `${text.trimEnd()}\nexit ${document.body.dataset.exitCode}`;
  });
}

/** scripts/bench-src/wasmer-peer.html: @wasmer/sdk runs the same module. */
export const PEER_PAGE: PageKind = {
  first: 'peer:first-output',
  marks: ['peer:ready', 'peer:run'],
  files: ['/sdk/dist/index.js', '/sdk/pkg/wasmer_sdk_js_bg.wasm', '/hello.wasm'],
  output: preOutput,
};

/** scripts/bench-src/embed.html: the bundle's embeddable wasmbox.js runs the box, without the page. */
export const EMBED_PAGE: PageKind = {
  first: 'wasmbox:first-output',
  marks: [],
  files: ['/wasmbox.js', '/runtime/index.js', '/box/rootfs.wbfs'],
  output: preOutput,
};

/** scripts/bench-src/floor.html: an inline script prints the output; what any page costs here. */
export const FLOOR_PAGE: PageKind = { first: 'floor:first-output', marks: [], files: [], output: preOutput };

/** How long a new browser is left alone before the load: a user's browser is running before they navigate,
 *  and on two shared cores a browser still starting its processes slows the page it loads. */
const SETTLE_MS = 1000;
/** How long a loaded page is left alone before it is first asked for its state: Playwright's first
 *  evaluate injects its utility script (~10 ms of the page's main thread here), which would otherwise
 *  land while the page is starting and delay the very output being timed. */
const HANDS_OFF_MS = 1000;

/** Load `url` in a browser that has never seen it and read what `kind` says to. */
export async function coldLoad(url: string, kind: PageKind): Promise<Load> {
  const browser = await launchChromium();
  try {
    const { page, errors } = await newPage(browser);
    await page.goto('about:blank');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    await page.goto(url);
    await new Promise((resolve) => setTimeout(resolve, HANDS_OFF_MS));
    const output = await kind.output(page);
    // No named functions inside: tsx would wrap them in a helper (__name) that the page does not have.
    const seen = await page.evaluate(({ marks, files }) => ({
      marks: Object.fromEntries(marks.map((m) => [m, performance.getEntriesByName(m, 'mark')[0]?.startTime ?? NaN])),
      files: Object.fromEntries(files.map((f) => [f, (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
        .find((r) => new URL(r.name).pathname.endsWith(f))?.responseEnd ?? NaN])),
    }), { marks: [kind.first, ...kind.marks], files: kind.files });
    const real = errors.filter((e) => !/favicon/.test(e));
    if (real.length > 0) throw new Error(`${url}: ${real.join('\n')}`);
    const first = seen.marks[kind.first];
    if (!Number.isFinite(first)) throw new Error(`${url} never marked ${kind.first}; it showed:\n${output}`);
    return { first, marks: seen.marks, files: seen.files, output };
  } finally {
    await browser.close();
  }
}
