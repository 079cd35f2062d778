/**
 * Real Chromium for the web bundle tests (Debian's /usr/bin/chromium through playwright-core, the launch
 * recipe of the shared DESIGN.md): one browser per test file with a fresh profile, pages that report
 * console errors, and the page's state as the bundle's page shows it (<body data-state>, the terminal).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { extract } from 'tar-stream';

const CHROMIUM = '/usr/bin/chromium';

/** Why Chromium tests cannot run here, or undefined. */
export const NO_CHROMIUM = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`;

/** A browser with a fresh profile; `close` ends it and removes the profile. */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Start Chromium headless with a fresh profile. */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'wasmbox-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1000, height: 600 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/** A page whose uncaught errors and console errors are collected (404s of the favicon aside). */
export async function newPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
  return { page, errors };
}

/** What the bundle's page shows once its run is over. */
export interface PageOutcome {
  state: string;
  exitCode: number | undefined;
  status: string;
  /** The terminal's lines (xterm's buffer). */
  lines: string[];
  /** The text of xterm's DOM rows (what is drawn). */
  domText: string;
}

/** Wait until the page's run is over (or its box failed to load), then read what it shows. */
export async function finished(page: Page, timeout = 60_000): Promise<PageOutcome> {
  await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset.state ?? ''), null, { timeout });
  return outcome(page);
}

/** What the page shows now. */
export async function outcome(page: Page): Promise<PageOutcome> {
  return page.evaluate(() => {
    const state = (globalThis as unknown as { wasmbox?: { terminal: { lines(): string[] } } }).wasmbox;
    const exit = document.body.dataset.exitCode;
    return {
      state: document.body.dataset.state ?? '',
      exitCode: exit === undefined ? undefined : Number(exit),
      status: document.getElementById('status')?.textContent ?? '',
      lines: state?.terminal.lines() ?? [],
      domText: document.querySelector('.xterm-rows')?.textContent ?? '',
    };
  });
}

/** Wait until the guest waits for keyboard input (the page says so on <body data-waiting>). */
export async function waitingForInput(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.waiting === '1', null, { timeout });
}

/** Type into the terminal: text, with Enter for '\n', and Ctrl-D at the end when asked. */
export async function typeInput(page: Page, text: string, endInput = false): Promise<void> {
  await page.locator('#terminal').click();
  for (const [i, line] of text.split('\n').entries()) {
    if (i > 0) await page.keyboard.press('Enter');
    if (line) await page.keyboard.type(line);
  }
  if (endInput) await page.keyboard.press('Control+D');
}

/** Drop files onto the page, as a user dragging them from the desktop would. */
export async function dropFiles(page: Page, files: Record<string, string>): Promise<void> {
  const transfer = await page.evaluateHandle((entries) => {
    const dt = new DataTransfer();
    for (const [name, text] of entries) dt.items.add(new File([text], name, { type: 'text/plain' }));
    return dt;
  }, Object.entries(files));
  await page.dispatchEvent('body', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('body', 'drop', { dataTransfer: transfer });
}

/** The entries of a tar archive (parsed by tar-stream, an independent reader): name → type and text. */
export async function readTarEntries(bytes: Uint8Array): Promise<Map<string, { type: string; text: string; mode: number }>> {
  const entries = new Map<string, { type: string; text: string; mode: number }>();
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      entries.set(header.name, { type: header.type ?? 'file', text: Buffer.concat(chunks).toString(), mode: header.mode ?? 0 });
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => ex.on('finish', resolve).on('error', reject));
  Readable.from([Buffer.from(bytes)]).pipe(ex);
  await done;
  return entries;
}

/** Width and height of a PNG, from its IHDR chunk (throws if the bytes are not a PNG). */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => png[i] === b)) throw new Error('not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
