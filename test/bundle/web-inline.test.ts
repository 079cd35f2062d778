/**
 * What the web bundle's index.html carries inline (src/bundle/web.ts): the manifest and the box's config
 * as JSON in a <script type="application/json">, so the page fetches only the filesystem image, and the
 * page's own styles. Whatever the image config holds (labels with `</script>`, `<!--`, placeholders of
 * the template, line separators), the JSON ends where it should, gives back the config's exact bytes,
 * and leaves the rest of the page alone. The page itself runs in Chromium in web*.test.ts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWeb } from '../../src/bundle/web.js';
import { runBuild } from '../../src/cli/build.js';
import { INLINE_BOX_ID, inlineBox } from '../../runtime/hosts/browser-load.js';
import { scratchDir } from '../helpers/fixtures.js';

let tmp: { dir: string; remove: () => Promise<void> };
beforeAll(async () => void (tmp = await scratchDir('wasmbox-web-inline-')));
afterAll(async () => tmp?.remove());

/** Label values that would break a page that pasted the config in as it is. */
const HOSTILE = [
  { name: 'a closing script tag', value: '</script><script>alert(1)</script>' },
  { name: 'an upper-case closing tag', value: '</SCRIPT >' },
  { name: 'an HTML comment opener', value: '<!-- <script>' },
  { name: 'the template placeholders', value: '{{boot}} {{style}} {{box}} {{title}}' },
  { name: 'line and paragraph separators', value: 'a\u2028b\u2029c' },
  { name: 'replacement patterns', value: "$& $' $`" },
];

/** The text of the element with `id` in `html`: what the HTML parser would give (up to the first `</script`). */
function scriptText(html: string, id: string): string {
  const start = html.indexOf(`id="${id}">`);
  expect(start).toBeGreaterThan(0);
  const from = start + `id="${id}">`.length;
  return html.slice(from, html.toLowerCase().indexOf('</script', from));
}

describe('index.html of a web bundle', () => {
  it.each(HOSTILE)('carries the manifest and the exact config inline when a label holds $name', async ({ name, value }) => {
    const context = join(tmp.dir, name.replace(/\W+/g, '-'));
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'note.txt'), 'hi\n');
    await writeFile(join(context, 'Dockerfile'), `FROM scratch\nLABEL note=${JSON.stringify(value)}\nCOPY note.txt /\nCMD ["/note.txt"]\n`);
    const box = join(context, 'box');
    const dist = join(context, 'dist');
    await runBuild({ context, buildArgs: [], buildContexts: [], quiet: true, output: [box] });
    await writeWeb(box, dist);
    const html = await readFile(join(dist, 'index.html'), 'utf8');
    const text = scriptText(html, INLINE_BOX_ID);
    expect(text).not.toContain('<');
    const inline = inlineBox({ getElementById: (id: string) => (id === INLINE_BOX_ID ? { textContent: text } : null) } as unknown as Document);
    expect(inline?.manifest).toEqual(JSON.parse(await readFile(join(dist, 'wasmbox.json'), 'utf8')));
    expect(Buffer.from(new TextEncoder().encode(inline!.config))).toEqual(await readFile(join(dist, 'box/config.json')));
    expect(JSON.parse(inline!.config!).config.Labels.note).toBe(value);
    // The boot script and the styles went in once each, where the template has them.
    const page = html.replace(text, '');
    expect(page.split('wasmboxBoot').length).toBe(2);
    expect(page).not.toMatch(/\{\{\w+\}\}/);
    expect(html).toContain('.plain-terminal');
    expect(html).not.toContain('rel="stylesheet"');
  }, 60_000);

  it.each([
    { name: 'no inline box', text: undefined, wanted: undefined },
    { name: 'text that is not JSON', text: '{"manifest":', wanted: undefined },
    { name: 'a manifest of another format', text: '{"manifest":{"format":"other","box":{},"vendor":{}}}', wanted: undefined },
    { name: 'a manifest without its config', text: '{"manifest":{"format":"wasmbox.web.v1","title":"t","box":{},"vendor":{}}}', wanted: 'manifest only' },
    { name: 'a config that is not text', text: '{"manifest":{"format":"wasmbox.web.v1","title":"t","box":{},"vendor":{}},"config":7}', wanted: 'manifest only' },
  ])('is read back by the page as nothing or the manifest alone (then the page fetches the rest) with $name', ({ text, wanted }) => {
    const doc = { getElementById: () => (text === undefined ? null : { textContent: text }) } as unknown as Document;
    const inline = inlineBox(doc);
    if (wanted === undefined) return void expect(inline).toBeUndefined();
    expect(inline?.manifest.format).toBe('wasmbox.web.v1');
    expect(inline?.config).toBeUndefined();
  });
});
