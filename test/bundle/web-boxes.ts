/**
 * The boxes the web bundle tests run, built from examples/ with the real CLI (`wasmbox build`), each
 * bundled for the web into one site directory (SITE/<name>/) that the tests serve with and without
 * cross-origin isolation. hello-c and the WASIX guest need clang with wasi-libc.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { writeBox } from '../../src/box/pack.js';
import { writeWeb } from '../../src/bundle/web.js';
import { Tree, dir } from '../../src/fs/tree.js';
import { file } from '../box/sample-tree.js';
import type { TargetReport } from '../../src/bundle/targets.js';
import { type Compiled, REPO } from '../runtime/hosts/compiled.js';
import { NO_CLANG } from './edge-boxes.js';

/** Why the C boxes cannot be built here, or undefined (shared with the edge tests). */
export { NO_CLANG };

/** The boxes by name; hello and wasix are missing without clang; big holds 6 MB of random bytes. */
export type BoxName = 'hello' | 'wasix' | 'shell' | 'python' | 'ruby' | 'big';

/** A box and its web bundle (SITE/<name>/). */
export interface WebCase {
  box: string;
  report: TargetReport;
}

/** Build every box that can be built here and bundle each into `site/<name>/`. */
export async function buildSite(cli: Compiled, work: string, site: string): Promise<Partial<Record<BoxName, WebCase>>> {
  const contexts: [BoxName, () => Promise<string>][] = [
    ['shell', async () => join(REPO, 'examples/shell')],
    ['python', async () => join(REPO, 'examples/python')],
    ['ruby', async () => join(REPO, 'examples/ruby')],
  ];
  if (!NO_CLANG) contexts.push(['hello', async () => join(REPO, 'examples/hello-c')], ['wasix', () => wasixContext(work)]);
  const built = await Promise.all(
    contexts.map(async ([name, context]) => {
      // Named after the case: the page's title (and the download's name) come from the box directory.
      const box = join(work, 'boxes', name);
      const r = await cli.run(['build', '-q', '-o', box, await context()]);
      expect(r.stderr, `wasmbox build for ${name}`).toBe('');
      expect(r.code).toBe(0);
      return [name, box] as const;
    }),
  );
  built.push(['big', await bigBox(work)]);
  const cases: Partial<Record<BoxName, WebCase>> = {};
  // One at a time: the first bundles the runtime, the others reuse it.
  for (const [name, box] of built) cases[name] = { box, report: await writeWeb(box, join(site, name)) };
  return cases;
}

/** A box large enough to arrive in many chunks (the page's progress bar), written directly. */
async function bigBox(work: string): Promise<string> {
  const tree = new Tree(dir());
  tree.put('/data/blob', file(new Uint8Array(randomBytes(6 << 20))));
  const out = join(work, 'boxes', 'big');
  await writeBox(out, tree, { architecture: 'wasm', os: 'wasi', config: { Cmd: ['/bin/sh', '-c', 'wc -c < /data/blob'] }, rootfs: { type: 'layers', diff_ids: [] } });
  return out;
}

/** A box whose command is test/fixtures/wasix-src/guest.c built as a WASIX module (it imports wasix_32v1). */
async function wasixContext(work: string): Promise<string> {
  const context = join(work, 'wasix-context');
  await mkdir(context, { recursive: true });
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-DWASIX', '-o', join(context, 'guest.wasm'), join(REPO, 'test/fixtures/wasix-src/guest.c')], { stdio: 'pipe' });
  await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY guest.wasm /bin/guest\nWORKDIR /work\nENTRYPOINT ["/bin/guest"]\nCMD ["cwd", "exit:6"]\n');
  return context;
}

/** A page in a bundle that imports the embeddable module and puts what `script` leaves in `results` on window. */
export async function writeEmbedPage(dist: string, name: string, script: string): Promise<void> {
  const html = `<!doctype html>
<meta charset="utf-8">
<title>embed</title>
<script type="module">
import { runBox, openBox } from './wasmbox.js';
try {
  window.results = await (async () => { ${script} })();
} catch (e) {
  window.results = { error: String(e && e.stack || e) };
}
</script>
`;
  await writeFile(join(dist, name), html);
}
