/**
 * The web bundle in real Chromium: boxes built from examples/ with the CLI, bundled with
 * `wasmbox bundle --target web`'s writer, served on 127.0.0.1 by `wasmbox serve`'s server with and
 * without COOP/COEP. The page's terminal output, exit codes, keyboard stdin (through the service worker
 * on plain pages, shared memory on isolated ones), the files download, dropped files, a screenshot, the
 * embeddable module, and what the page loads to start a box.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from '../../src/cli/static-server.js';
import { scratchDir } from '../helpers/fixtures.js';
import { type Compiled, compileWasmbox } from '../runtime/hosts/compiled.js';
import { type BoxName, NO_CLANG, type WebCase, buildSite, writeEmbedPage } from './web-boxes.js';
import {
  type Browser, NO_CHROMIUM, dropFiles, finished, launchChromium, newPage, outcome, pngSize, readTarEntries, typeInput, waitingForInput,
} from './web-browser.js';

let cli: Compiled;
let tmp: { dir: string; remove: () => Promise<void> };
let cases: Partial<Record<BoxName, WebCase>>;
let browser: Browser;
const servers: Partial<Record<'plain' | 'isolated', StaticServer>> = {};
const site = (): string => join(tmp.dir, 'site');

beforeAll(async () => {
  [cli, tmp] = await Promise.all([compileWasmbox(), scratchDir('wasmbox-web-')]);
  await mkdir(site(), { recursive: true });
  cases = await buildSite(cli, tmp.dir, site());
  if (NO_CHROMIUM) return;
  [servers.plain, servers.isolated, browser] = await Promise.all([
    startStaticServer(site(), { host: '127.0.0.1', port: 0 }),
    startStaticServer(site(), { host: '127.0.0.1', port: 0, isolate: true }),
    launchChromium(),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([browser?.close(), servers.plain?.close(), servers.isolated?.close()]);
  await Promise.all([cli?.remove(), tmp?.remove()]);
});

type Mode = 'plain' | 'isolated';
const url = (mode: Mode, box: BoxName, query = ''): string => `${servers[mode]!.url}${box}/${query}`;
const args = (...words: string[]): string => `?${words.map((w) => `arg=${encodeURIComponent(w)}`).join('&')}`;

interface PageCase {
  name: string;
  box: BoxName;
  mode: Mode;
  query?: string;
  exitCode: number;
  lines: (string | RegExp)[];
  needs?: string;
}

const FRUIT = ['apples: 3', 'pears: 5', 'plums: 2', 'fruit in stock: 10', /^built on \d{4} by RUN$/, /^files: data\/built.txt data\/fruit.txt data\/index.txt\s*$/];

const PAGES: PageCase[] = [
  { name: 'hello-c on a plain page', box: 'hello', mode: 'plain', exitCode: 0, lines: ['hello, world', 'running in /work as wasmbox'], needs: NO_CLANG },
  { name: 'hello-c with arguments from the URL, isolated', box: 'hello', mode: 'isolated', query: args('web page', '3'), exitCode: 3, lines: ['hello, web page', 'running in /work as wasmbox'], needs: NO_CLANG },
  { name: 'the shell example without keyboard input', box: 'shell', mode: 'plain', query: '?stdin=none', exitCode: 0, lines: FRUIT },
  // Keyboard input is on by default: a box that never reads it ends without waiting for Ctrl-D.
  { name: 'the shell example with keyboard input on, which it never reads', box: 'shell', mode: 'plain', exitCode: 0, lines: FRUIT },
  { name: 'the shell example with keyboard input on, isolated', box: 'shell', mode: 'isolated', exitCode: 0, lines: FRUIT },
  { name: 'the Python example (Pyodide)', box: 'python', mode: 'plain', exitCode: 0, lines: [/^python 3\.\d+: top words \[\('the', 4\), \('same', 2\), \('in', 2\)\]$/, '{"the": 4, "same": 2, "in": 2}'] },
  { name: 'the Ruby example (ruby.wasm), isolated', box: 'ruby', mode: 'isolated', exitCode: 0, lines: [/^ruby 3\.4\.\d+$/, '3: box', '4: wasm, node, edge, ruby', '7: browser', /^wrote \d+ bytes to \/app\/groups.txt$/] },
  { name: 'a WASIX module on an isolated page (@wasmer/sdk)', box: 'wasix', mode: 'isolated', query: '?stdin=none', exitCode: 6, lines: ['/work'], needs: NO_CLANG },
  { name: 'a WASIX module with keyboard input on, which it never reads', box: 'wasix', mode: 'isolated', exitCode: 6, lines: ['/work'], needs: NO_CLANG },
  { name: 'a WASIX module on a plain page is refused', box: 'wasix', mode: 'plain', query: '?stdin=none', exitCode: 125, lines: [/^wasmbox: the WASIX engine needs a cross-origin-isolated page .*this page is not cross-origin isolated$/], needs: NO_CLANG },
  { name: 'a missing command', box: 'shell', mode: 'plain', query: `${args('no-such-tool')}&stdin=none`, exitCode: 127, lines: [/no-such-tool/] },
];

describe('the web bundle\'s files', () => {
  const VENDOR: { box: BoxName; parts: string[] }[] = [
    { box: 'hello', parts: [] },
    { box: 'shell', parts: [] },
    { box: 'python', parts: ['pyodide'] },
    { box: 'ruby', parts: ['ruby'] },
    { box: 'wasix', parts: ['wasmer-sdk'] },
    { box: 'big', parts: [] },
  ];
  it.each(VENDOR)('$box carries the runtime, the box, and only the interpreters and engines it needs: $parts', async ({ box, parts }) => {
    if (!cases[box]) return void console.warn(`skipped ${box}: ${NO_CLANG}`);
    const dist = join(site(), box);
    const vendor = existsSync(join(dist, 'vendor')) ? (await readdir(join(dist, 'vendor'))).sort() : [];
    expect(vendor).toEqual(parts);
    for (const file of ['index.html', 'page.js', 'xterm.css', 'wasmbox.js', 'wasmbox-sw.js', 'runtime/index.js', 'wasmbox.json', 'box/config.json', 'box/rootfs.wbfs', 'box/box.json']) {
      expect(existsSync(join(dist, file)), file).toBe(true);
    }
    const manifest = JSON.parse(await readFile(join(dist, 'wasmbox.json'), 'utf8'));
    expect(manifest.vendor).toEqual({ pyodide: parts.includes('pyodide'), ruby: parts.includes('ruby'), wasmer: parts.includes('wasmer-sdk') });
    expect(manifest.title).toBe(box);
    expect(cases[box]!.report.runtimeGzipBytes).toBeLessThan(100 * 1024);
  });
});

describe.skipIf(NO_CHROMIUM)(`the web bundle in Chromium${NO_CHROMIUM ? ` (skipped: ${NO_CHROMIUM})` : ''}`, () => {
  it.each(PAGES)('$name', async (c) => {
    if (c.needs) return void console.warn(`skipped "${c.name}": ${c.needs}`);
    const { page, errors } = await newPage(browser);
    try {
      await page.goto(url(c.mode, c.box, c.query));
      const shown = await finished(page);
      expect(shown.state).toBe('done');
      expect(shown.exitCode).toBe(c.exitCode);
      expect(shown.status).toMatch(new RegExp(`^exit code ${c.exitCode} · \\d+ ms$`));
      expect(shown.lines).toHaveLength(c.lines.length);
      c.lines.forEach((want, i) => (typeof want === 'string' ? expect(shown.lines[i]).toBe(want) : expect(shown.lines[i]).toMatch(want)));
      expect(page.url().startsWith(servers[c.mode]!.url)).toBe(true);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(c.mode === 'isolated');
      expect(errors.filter((e) => !/favicon|status of 404/.test(e))).toEqual([]);
    } finally {
      await page.close();
    }
  }, 90_000);

  it.each(['plain', 'isolated'] as Mode[])('reads keyboard input line by line while Python runs (%s page)', async (mode) => {
    const program = 'name = input("name? ")\nprint("hi", name.upper())\nimport sys\nprint("rest:", repr(sys.stdin.read()))\nraise SystemExit(len(name))';
    const { page } = await newPage(browser);
    try {
      await page.goto(url(mode, 'python', args('python3', '-c', program)));
      await waitingForInput(page);
      await typeInput(page, 'bob\n');
      await page.waitForFunction(() => document.querySelector('.xterm-rows')?.textContent?.includes('hi BOB'), null, { timeout: 30_000 });
      await typeInput(page, 'two\nlines', true);
      const shown = await finished(page);
      expect(shown.lines).toEqual(['name? bob', 'hi BOB', 'two', 'lines^D', "rest: 'two\\nlines'"]);
      expect(shown.exitCode).toBe(3);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('ends the input with Ctrl-D for a shell script, which reads all of it first', async () => {
    const { page } = await newPage(browser);
    try {
      await page.goto(url('isolated', 'shell', args('sh', '-c', 'while read -r line; do echo "[$line]"; done; echo done')));
      await waitingForInput(page);
      expect((await outcome(page)).status).toBe('waiting for input: Enter sends a line, Ctrl-D ends the input');
      await typeInput(page, 'a b\nc\n', true);
      expect((await finished(page)).lines).toEqual(['a b', 'c', '^D', '[a b]', '[c]', 'done']);
    } finally {
      await page.close();
    }
  }, 60_000);

  it.each(['plain', 'isolated'] as Mode[])('gives keyboard input to a shell script that reads it with read (%s page)', async (mode) => {
    const { page } = await newPage(browser);
    try {
      await page.goto(url(mode, 'shell', args('sh', '-c', 'cat data/fruit.txt | wc -l; read -r x; echo "got $x"')));
      await waitingForInput(page);
      await typeInput(page, 'hello\n', true);
      const shown = await finished(page);
      expect(shown.lines).toEqual(['hello', '^D', '3', 'got hello']);
      expect(shown.exitCode).toBe(0);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('places dropped files in the working directory for the next run, and downloads the files as a tar', async () => {
    const program = 'import json\nwords = open("words.txt").read().split()\njson.dump(len(words), open("count.json", "w"))\nprint("words:", len(words))';
    const { page } = await newPage(browser);
    try {
      await page.goto(url('plain', 'python', `${args('python3', '-c', program)}&stdin=none`));
      const first = await finished(page);
      expect(first.exitCode).toBe(1);
      expect(first.lines.join('\n')).toMatch(/FileNotFoundError: .*'words.txt'/);
      await dropFiles(page, { 'words.txt': 'one two three\n' });
      await page.waitForFunction(() => document.getElementById('files')?.textContent?.includes('words.txt'));
      expect((await outcome(page)).lines).toContain('wasmbox: words.txt (14 bytes) will be at /app/words.txt from the next run');
      await page.click('#rerun');
      await page.waitForFunction(() => document.body.dataset.state === 'running');
      const second = await finished(page);
      expect(second.lines).toEqual(['words: 3']);
      expect(second.exitCode).toBe(0);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      expect(download.suggestedFilename()).toBe('python-files.tar');
      const entries = await readTarEntries(await readFile((await download.path())!));
      expect(entries.get('app/')?.type).toBe('directory');
      expect(entries.get('app/words.txt')?.text).toBe('one two three\n');
      expect(entries.get('app/count.json')?.text).toBe('3');
      expect(entries.get('app/app.py')?.text).toContain('collections.Counter');
      expect(entries.get('app/app.py')?.mode).toBe(0o644);
      expect(entries.get('usr/local/bin/python3')?.type).toBe('file');
    } finally {
      await page.close();
    }
  }, 90_000);

  it.skipIf(NO_CLANG)('shows the output on screen: a screenshot of the terminal changes when the text goes', async () => {
    const { page } = await newPage(browser);
    try {
      await page.goto(url('plain', 'hello', args('screenshot')));
      expect((await finished(page)).lines[0]).toBe('hello, screenshot');
      // xterm draws on the next animation frame.
      await page.waitForFunction(() => document.querySelector('.xterm-rows')?.textContent?.includes('hello, screenshot'));
      const withText = await page.locator('#terminal').screenshot();
      const full = await page.screenshot();
      expect(pngSize(full)).toEqual({ width: 1000, height: 600 });
      await page.evaluate(() => (globalThis as unknown as { wasmbox: { terminal: { clear(): void } } }).wasmbox.terminal.clear());
      await page.waitForFunction(() => !document.querySelector('.xterm-rows')?.textContent?.includes('hello'));
      const empty = await page.locator('#terminal').screenshot();
      expect(withText.byteLength).toBeGreaterThan(empty.byteLength);
      expect(Buffer.compare(withText, empty)).not.toBe(0);
      expect(await page.title()).toBe('hello · wasmbox');
    } finally {
      await page.close();
    }
  }, 60_000);

  it.skipIf(NO_CLANG)('stays small: what a page loads to run the hello box, gzipped', async () => {
    const { page } = await newPage(browser);
    const loaded: string[] = [];
    page.on('response', (r) => loaded.push(new URL(r.url()).pathname));
    try {
      await page.goto(url('plain', 'hello'));
      expect((await finished(page)).exitCode).toBe(0);
      const runtime = loaded.filter((p) => /^\/hello\/(wasmbox\.js|runtime\/.*\.js)$/.test(p));
      const gz = async (p: string): Promise<number> => gzipSync(await readFile(join(site(), p)), { level: 9 }).byteLength;
      const runtimeBytes = (await Promise.all(runtime.map(gz))).reduce((a, b) => a + b, 0);
      const pageBytes = await gz('/hello/page.js');
      console.log(`web runtime loaded for hello: ${runtime.length} files, ${(runtimeBytes / 1024).toFixed(1)} KB gzipped (report: ${(cases.hello!.report.runtimeGzipBytes / 1024).toFixed(1)} KB); page script with the terminal ${(pageBytes / 1024).toFixed(1)} KB`);
      expect(runtimeBytes).toBeLessThan(100 * 1024);
      expect(runtimeBytes).toBeLessThanOrEqual(cases.hello!.report.runtimeGzipBytes);
      expect(loaded.some((p) => /vendor|pyodide|wasmer|ruby/.test(p))).toBe(false);
    } finally {
      await page.close();
    }
  }, 60_000);

  it.each(['plain', 'isolated'] as Mode[])('shows the box loading with a progress bar fed by the streamed download (%s page)', async (mode) => {
    const { page } = await newPage(browser);
    try {
      await page.addInitScript(() => {
        const seen: number[][] = ((globalThis as unknown as { progress: number[][] }).progress = []);
        new MutationObserver(() => {
          const bar = document.getElementById('progress') as HTMLProgressElement | null;
          if (bar && !bar.hidden) seen.push([bar.value, bar.max]);
        }).observe(document, { subtree: true, attributes: true, attributeFilter: ['value', 'max', 'hidden'] });
      });
      await page.goto(url(mode, 'big', '?stdin=none'));
      const shown = await finished(page);
      expect(shown.lines).toEqual([String(6 << 20)]);
      const progress = await page.evaluate(() => (globalThis as unknown as { progress: number[][] }).progress);
      const total = (await readFile(join(cases.big!.box, 'rootfs.wbfs'))).byteLength;
      expect(progress.length).toBeGreaterThan(2);
      expect(progress.every(([, max]) => max === total || max === 1)).toBe(true);
      expect(progress.map(([value]) => value)).toEqual([...progress.map(([value]) => value)].sort((a, b) => a - b));
      expect(await page.locator('#progress').isHidden()).toBe(true);
      expect(shown.status).toMatch(/^exit code 0 · \d+ ms$/);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('runs the box from the embeddable module: args, env, stdin, mounts, workdir, entrypoint, stop', async () => {
    await writeEmbedPage(join(site(), 'shell'), 'embed.html', `
      const script = await runBox({
        entrypoint: '/bin/sh',
        args: ['-c', 'cat note.txt /etc/extra; read x; echo "got $x $GREETING in $(pwd)"; exit 4'],
        env: { GREETING: 'hi' }, stdin: 'typed\\n', workdir: '/tmp/work',
        mounts: { 'note.txt': 'mounted\\n', '/etc/extra': new Uint8Array([101, 120, 10]) },
      });
      const streamed = [];
      const cmd = await runBox({ onStdout: (text) => streamed.push(text) });
      const missing = await runBox({ args: ['no-such-tool'] });
      const box = await openBox({ interactive: true });
      const blocked = box.start({ interactive: true, entrypoint: '/bin/sh', args: ['-c', 'cat'] });
      setTimeout(() => blocked.stop(), 300);
      const stopped = await blocked.done;
      const after = await box.run({ args: ['sh', '-c', 'echo again'] });
      return { script, cmd, streamed: streamed.join(''), missing, stopped, after };
    `);
    const { page } = await newPage(browser);
    try {
      await page.goto(`${servers.plain!.url}shell/embed.html`);
      await page.waitForFunction(() => 'results' in window, null, { timeout: 60_000 });
      const r = await page.evaluate(() => (window as unknown as { results: Record<string, { exitCode: number; stdout: string; stderr: string; outcome: string }> & { streamed: string } }).results);
      expect(r.script).toMatchObject({ outcome: 'exit', exitCode: 4, stdout: 'mounted\nex\ngot typed hi in /tmp/work\n', stderr: '' });
      expect(r.cmd).toMatchObject({ outcome: 'exit', exitCode: 0 });
      expect(r.cmd.stdout).toMatch(/^apples: 3\npears: 5\nplums: 2\nfruit in stock: 10\n/);
      expect(r.streamed).toBe(r.cmd.stdout);
      expect(r.missing).toMatchObject({ exitCode: 127, stdout: '' });
      expect(r.missing.stderr).toMatch(/no-such-tool/);
      expect(r.stopped).toMatchObject({ outcome: 'stopped', exitCode: 130 });
      expect(r.after).toMatchObject({ outcome: 'exit', exitCode: 0, stdout: 'again\n' });
    } finally {
      await page.close();
    }
  }, 60_000);
});
