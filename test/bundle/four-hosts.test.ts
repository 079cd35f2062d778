/**
 * The promise of a box: the same artefact gives the same stdout and exit code in Node (`wasmbox run`),
 * Chromium (the web bundle's embeddable runBox), workerd and Deno (the worker and deno bundles, CGI-style).
 * Each case below is one box, built with the CLI, bundled for every target, and run on all four hosts in
 * one test that compares what each shows.
 *
 * Arguments: a CGI request cannot carry argv, so every case bakes its arguments into the box's Cmd and
 * every host runs the box as it is. Node and Chromium also run it with the same words given at run time
 * (they replace Cmd, as `docker run IMAGE ARGS` does), which must change nothing.
 * Comparable: exit codes everywhere; stdout everywhere for exit 0 (a failing CGI run answers 500 and drops
 * stdout); stderr in Node, Chromium, and in the body of a failing CGI run.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGETS } from '../../src/bundle/targets.js';
import { startStaticServer, type StaticServer } from '../../src/cli/static-server.js';
import { scratchDir } from '../helpers/fixtures.js';
import { type Compiled, REPO, compileWasmbox } from '../runtime/hosts/compiled.js';
import { MISSING, startDeno, startWorkerd } from './edge-hosts.js';
import { type Seen, runInChromium, runInNode, runOnEdge, writeChromiumPage } from './four-hosts-runs.js';
import { NO_CLANG } from './web-boxes.js';
import { type Browser, NO_CHROMIUM, launchChromium } from './web-browser.js';

interface Case {
  name: string;
  /** Writes the build context into `dir` and returns it (or returns an example's directory). */
  context: (dir: string) => Promise<string>;
  /** The words in the box's Cmd, also given at run time to Node and Chromium. */
  args?: string[];
  exitCode: number;
  stdout: string | RegExp;
  stderr: string;
  needs?: string;
}

/** examples/hello-c with its CMD replaced by `args`. */
const helloWith = (args: string[]) => async (dir: string): Promise<string> => {
  const dockerfile = await readFile(join(REPO, 'examples/hello-c/Dockerfile'), 'utf8');
  await copyFile(join(REPO, 'examples/hello-c/hello.wasm'), join(dir, 'hello.wasm'));
  await writeFile(join(dir, 'Dockerfile'), dockerfile.replace(/^CMD .*$/m, `CMD ${JSON.stringify(args)}`));
  return dir;
};

const SCRIPT = `#!/bin/sh
echo "argc=$# first=$1"
echo "cwd=$(pwd) greeting=$GREETING"
echo "warning: exiting with $2" >&2
exit "$2"
`;

/** A shell script in a scratch box (the built-in shell runs it) that echoes its arguments and exits with the second. */
async function scriptContext(dir: string): Promise<string> {
  await writeFile(join(dir, 'args.sh'), SCRIPT, { mode: 0o755 });
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nENV GREETING=hi\nWORKDIR /srv\nCOPY args.sh /bin/args.sh\nENTRYPOINT ["/bin/args.sh"]\nCMD ["two words", "7"]\n');
  return dir;
}

const CASES: Case[] = [
  { name: 'hello-c with arguments', context: helloWith(['four hosts']), args: ['four hosts'], exitCode: 0, stdout: 'hello, four hosts\nrunning in /work as wasmbox\n', stderr: '', needs: NO_CLANG },
  { name: 'hello-c exiting non-zero', context: helloWith(['exit code', '3']), args: ['exit code', '3'], exitCode: 3, stdout: 'hello, exit code\nrunning in /work as wasmbox\n', stderr: '', needs: NO_CLANG },
  { name: 'the shell example (a script run by the built-in shell)', context: async () => join(REPO, 'examples/shell'), exitCode: 0, stdout: /^apples: 3\npears: 5\nplums: 2\nfruit in stock: 10\nbuilt on \d{4} by RUN\nfiles: data\/built.txt data\/fruit.txt data\/index.txt \n$/, stderr: '' },
  { name: 'a shell script with arguments, stderr and exit code 7', context: scriptContext, args: ['two words', '7'], exitCode: 7, stdout: 'argc=2 first=two words\ncwd=/srv greeting=hi\n', stderr: 'warning: exiting with 7\n' },
];

const MISSING_HOSTS = Object.entries({ chromium: NO_CHROMIUM, workerd: MISSING.workerd, deno: MISSING.deno }).filter(([, why]) => why);
for (const [host, why] of MISSING_HOSTS) console.warn(`four hosts: ${host} is left out of the comparison: ${why}`);
const present = (host: string): boolean => !MISSING_HOSTS.some(([missing]) => missing === host);
const PRESENT = ['node', ...['chromium', 'workerd', 'deno'].filter(present)];

let cli: Compiled;
let tmp: { dir: string; remove: () => Promise<void> };
let browser: Browser | undefined;
let server: StaticServer | undefined;
/** Per case: the box, and its bundles (the web one by its directory's name under the served site). */
const boxes = new Map<string, { box: string; web: string; worker: string; deno: string }>();

beforeAll(async () => {
  [cli, tmp] = await Promise.all([compileWasmbox(), scratchDir('wasmbox-four-')]);
  const ready = CASES.filter((c) => !c.needs);
  const built = await Promise.all(ready.map(async (c, i) => {
    const context = join(tmp.dir, `context-${i}`);
    await mkdir(context);
    const box = join(tmp.dir, `box-${i}`);
    const r = await cli.run(['build', '-q', '-o', box, await c.context(context)]);
    expect(r.stderr, `wasmbox build for ${c.name}`).toBe('');
    return [c, box, i] as const;
  }));
  // One bundle at a time: the first bundles each target's runtime, the others reuse it.
  for (const [c, box, i] of built) {
    const dist = (target: string) => join(tmp.dir, target, `box-${i}`);
    await (await TARGETS.web())(box, dist('web'), {});
    await writeChromiumPage(dist('web'), c.args);
    for (const target of ['worker', 'deno'] as const) await (await TARGETS[target]())(box, dist(target), {});
    boxes.set(c.name, { box, web: `box-${i}`, worker: dist('worker'), deno: dist('deno') });
  }
  if (NO_CHROMIUM) return;
  [server, browser] = await Promise.all([startStaticServer(join(tmp.dir, 'web'), { host: '127.0.0.1', port: 0 }), launchChromium()]);
}, 240_000);

afterAll(async () => {
  await Promise.all([browser?.close(), server?.close()]);
  await Promise.all([cli?.remove(), tmp?.remove()]);
});

/** Every host's view of the box's run (the hosts run side by side). */
async function everyHost(c: Case): Promise<Seen[]> {
  const { box, web, worker, deno } = boxes.get(c.name)!;
  const runs: Promise<Seen | Seen[]>[] = [runInNode(cli, box)];
  if (c.args) runs.push(runInNode(cli, box, c.args));
  if (browser && server) runs.push(runInChromium(browser, server, web));
  if (!MISSING.workerd) runs.push(runOnEdge('workerd', startWorkerd, worker));
  if (!MISSING.deno) runs.push(runOnEdge('deno', startDeno, deno));
  return (await Promise.all(runs)).flat();
}

/** The views everyHost gives for `c` on this machine. */
function expectedHosts(c: Case): string[] {
  const twice = (host: string) => (c.args ? [host, `${host} (args)`] : [host]);
  return [...twice('node'), ...(present('chromium') ? twice('chromium') : []), ...['workerd', 'deno'].filter(present)];
}

// Node alone compares with nothing.
describe.skipIf(PRESENT.length < 2)(`the same box on four hosts (here: ${PRESENT.join(', ')})`, () => {
  it.each(CASES)('$name', async (c) => {
    if (c.needs) return void console.warn(`skipped "${c.name}": ${c.needs}`);
    const seen = await everyHost(c);
    const table = seen.map((s) => `${s.host}: exit ${s.exitCode}, stdout ${JSON.stringify(s.stdout)}, stderr ${JSON.stringify(s.stderr)}`).join('\n');
    expect(seen.map((s) => s.host).sort(), table).toEqual(expectedHosts(c).sort());
    for (const s of seen) {
      expect(s.exitCode, `${s.host}\n${table}`).toBe(c.exitCode);
      if (s.stderr !== undefined) expect(s.stderr, `${s.host}\n${table}`).toBe(c.stderr);
      if (s.stdout === undefined) continue;
      if (typeof c.stdout === 'string') expect(s.stdout, `${s.host}\n${table}`).toBe(c.stdout);
      else expect(s.stdout, `${s.host}\n${table}`).toMatch(c.stdout);
    }
    // Beyond each matching the expected text: all hosts print the very same bytes.
    const stdouts = new Set(seen.flatMap((s) => (s.stdout === undefined ? [] : [s.stdout])));
    expect([...stdouts], table).toHaveLength(1);
    if (c.exitCode === 0) expect(seen.every((s) => s.stdout !== undefined), table).toBe(true);
  }, 120_000);
});
