/**
 * Web and edge benchmark (issue: web / worker / deno bundles), against targets:
 *   Chromium, hello box, `web` bundle on a plain static server (127.0.0.1, its own process:
 *   bench-static-server.ts): navigation start → first
 *   output ≤ 100 ms, median of N cold loads (a new browser and profile each), printed beside the same
 *   figure for a page running the same hello.wasm with @wasmer/sdk (scripts/bench-src/wasmer-peer.html,
 *   served cross-origin isolated as the sdk requires), measured in the same run, loads interleaved.
 *   workerd, hello box, `worker` bundle: median request latency on loopback < 5 ms (after warm-up;
 *   the client is Node's fetch, whose own cost is included); the same for Deno's `deno` bundle, for information.
 * For information, and to show where the page's time goes: the same page served cross-origin isolated,
 * the bundle's embeddable wasmbox.js running the box without the page's terminal (bench-src/embed.html),
 * and the floor, a page whose inline script prints the text (bench-src/floor.html).
 * The box and bundles are made with the built CLI (bin/wasmbox.js). Needs clang (examples/hello-c/make.sh),
 * /usr/bin/chromium, and the npm packages workerd and @deno/linux-x64-glibc.
 *
 * Usage: npm run bench:web   (or: node --import tsx scripts/bench-web.ts [--loads N] [--requests N])
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MISSING, type Host, startDeno, startWorkerd } from '../test/bundle/edge-hosts.js';
import { NO_CHROMIUM } from '../test/bundle/web-browser.js';
import { type StaticHost, startStaticHost } from './bench-static-server.js';
import { EMBED_PAGE, FLOOR_PAGE, type Load, type PageKind, PEER_PAGE, WASMBOX_PAGE, coldLoad } from './bench-web-pages.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'wasmbox.js');
const arg = (name: string, dflt: number): number => Number(process.argv[process.argv.indexOf(name) + 1]) || dflt;
const LOADS = arg('--loads', 10);
const REQUESTS = arg('--requests', 200);
const WARM_UP = 50;
const HELLO = 'hello, world\nrunning in /work as wasmbox\n';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

/** Why the benchmark cannot run here, or undefined. */
function missing(): string | undefined {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) return 'dist/ is missing; run npm run build first';
  if (NO_CHROMIUM) return NO_CHROMIUM;
  return MISSING.workerd ?? MISSING.deno;
}

const wasmbox = (...args: string[]): string => execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/** The hello box, its web/worker/deno bundles, and under site/ the web bundle (with embed.html), the peer and the floor. */
async function prepare(work: string): Promise<{ site: string; worker: string; deno: string }> {
  execFileSync('bash', [join(ROOT, 'examples/hello-c/make.sh')], { stdio: 'pipe' });
  const box = join(work, 'hello-box');
  wasmbox('build', '-q', '-o', box, 'examples/hello-c');
  const site = join(work, 'site');
  const dist = (target: string) => (target === 'web' ? join(site, 'hello') : join(work, target));
  for (const target of ['web', 'worker', 'deno']) wasmbox('bundle', box, '--target', target, '-o', dist(target), '-q');
  const peer = join(site, 'peer');
  await mkdir(peer, { recursive: true });
  await copyFile(join(ROOT, 'scripts/bench-src/wasmer-peer.html'), join(peer, 'index.html'));
  await copyFile(join(ROOT, 'examples/hello-c/hello.wasm'), join(peer, 'hello.wasm'));
  // The sdk as installed: its modules find their Wasm and worker script beside themselves.
  await symlink(join(ROOT, 'node_modules/@wasmer/sdk'), join(peer, 'sdk'));
  await copyFile(join(ROOT, 'scripts/bench-src/embed.html'), join(site, 'hello', 'embed.html'));
  await mkdir(join(site, 'floor'));
  await copyFile(join(ROOT, 'scripts/bench-src/floor.html'), join(site, 'floor', 'index.html'));
  return { site, worker: dist('worker'), deno: dist('deno') };
}

/** A page measured: `target` is held to the target, `peer` is printed beside it, `info` explains them. */
interface Variant { label: string; role: 'target' | 'peer' | 'info'; url: string; kind: PageKind; expect: string }

/** The pages, on the plain server (no COOP/COEP: any static host) or the cross-origin-isolated one. */
function variants(plain: StaticHost, isolated: StaticHost): Variant[] {
  const hello = `${HELLO}exit 0`;
  return [
    { label: 'wasmbox web page, plain host', role: 'target', url: `${plain.url}hello/`, kind: WASMBOX_PAGE, expect: hello },
    { label: '@wasmer/sdk peer page (isolated)', role: 'peer', url: `${isolated.url}peer/`, kind: PEER_PAGE, expect: 'hello, world\nrunning in' },
    { label: 'wasmbox web page, isolated host', role: 'info', url: `${isolated.url}hello/`, kind: WASMBOX_PAGE, expect: hello },
    { label: 'wasmbox.js alone, no terminal', role: 'info', url: `${plain.url}hello/embed.html`, kind: EMBED_PAGE, expect: hello },
    { label: 'floor: page printing the text', role: 'info', url: `${plain.url}floor/`, kind: FLOOR_PAGE, expect: hello },
  ];
}

/** Cold loads of every variant, interleaved so drift on the shared machine hits all alike. */
async function pageLoads(variants: Variant[]): Promise<Load[][]> {
  const loads: Load[][] = variants.map(() => []);
  for (let i = 0; i < LOADS; i++) {
    for (const [v, variant] of variants.entries()) {
      const load = await coldLoad(variant.url, variant.kind);
      if (!load.output.startsWith(variant.expect)) throw new Error(`${variant.label} showed:\n${load.output}`);
      loads[v].push(load);
    }
    process.stderr.write(`cold loads ${i + 1}/${LOADS} done\n`);
  }
  return loads;
}

/** "name 12 ms" for each mark and file, medians over the loads. */
function breakdown(loads: Load[]): string {
  const keys = (pick: (l: Load) => Record<string, number>) => Object.keys(pick(loads[0]));
  const part = (pick: (l: Load) => Record<string, number>) => keys(pick).map((k) => `${k} ${ms(median(loads.map((l) => pick(l)[k])))}`);
  return [...part((l) => l.files), ...part((l) => l.marks)].join(' · ');
}

/** Request latency in ms. */
interface Latency { median: number; p90: number }

/** Median and p90 latency of REQUESTS sequential GETs after WARM_UP, each checked. */
async function latency(host: Host): Promise<Latency> {
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${host.url}/`);
    const body = await res.text();
    const took = performance.now() - t0;
    if (body !== HELLO || res.headers.get('x-wasmbox-exit-code') !== '0') throw new Error(`unexpected answer ${res.status}: ${body}\n${host.logs()}`);
    return took;
  };
  for (let i = 0; i < WARM_UP; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) times.push(await once());
  return { median: median(times), p90: quantile(times, 0.9) };
}

async function edge(start: (dist: string) => Promise<Host>, dist: string): Promise<Latency> {
  const host = await start(dist);
  try {
    return await latency(host);
  } finally {
    await host.stop();
  }
}

async function main(): Promise<void> {
  const why = missing();
  if (why) {
    console.error(`bench-web: ${why}`);
    process.exit(2);
  }
  const work = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'wasmbox-bench-web-'));
  const servers: StaticHost[] = [];
  try {
    const { site, worker, deno } = await prepare(work);
    const [plain, isolated] = await Promise.all([false, true].map((isolate) => startStaticHost(site, isolate)));
    servers.push(plain, isolated);
    const pages = variants(plain, isolated);
    const loads = await pageLoads(pages);
    const [workerd, denoLatency] = [await edge(startWorkerd, worker), await edge(startDeno, deno)];
    process.exitCode = report(pages, loads, workerd, denoLatency) ? 0 : 1;
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    await rm(work, { recursive: true, force: true });
  }
}

/** Print the figures and the PASS/FAIL lines; true when every target is met. */
function report(pages: Variant[], loads: Load[][], workerd: Latency, deno: Latency): boolean {
  const first = loads.map((l) => median(l.map((x) => x.first)));
  const spread = (i: number) => `min ${ms(Math.min(...loads[i].map((l) => l.first)))}, max ${ms(Math.max(...loads[i].map((l) => l.first)))}`;
  console.log(`web benchmark, hello box: Chromium ${LOADS} cold loads per page (medians), ${REQUESTS} requests per edge host after ${WARM_UP}`);
  console.log('  Chromium, navigation start → first output (then: when files arrived and marks, medians)');
  for (const [i, p] of pages.entries()) {
    console.log(`    ${p.label.padEnd(34)} ${ms(first[i]).padStart(7)}   (${spread(i)})`);
    if (breakdown(loads[i])) console.log(`      ${breakdown(loads[i])}`);
  }
  const [target, peer] = ['target', 'peer'].map((role) => first[pages.findIndex((p) => p.role === role)]);
  const checks: [string, boolean][] = [
    [`wasmbox web page: first output ${ms(target)} after navigation start (target ≤ 100 ms); @wasmer/sdk peer ${ms(peer)} (${(peer / target).toFixed(1)}× as long)`, target <= 100],
    [`workerd: median request latency ${ms(workerd.median)}, p90 ${ms(workerd.p90)} (target < 5 ms)`, workerd.median < 5],
  ];
  for (const [text, ok] of checks) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${text}`);
  console.log(`  info  deno serve: median request latency ${ms(deno.median)}, p90 ${ms(deno.p90)}`);
  return checks.every(([, ok]) => ok);
}

await main();
