/**
 * Flatten benchmark on the `debian` fixture (build it with scripts/make-fixtures.sh), against targets:
 *   flatten / floor ≤ 1.3     floor = read every layer blob, gunzip it, sha256 compressed + uncompressed
 *   umoci / flatten ≥ 3       umoci = `umoci unpack` into tmpfs (/dev/shm)
 *   peak RSS / file bytes ≤ 1.5   file bytes = sum of distinct FileNode sizes in the flattened tree
 * flatten = openImage + flattenImage; the same process then writes the box (writeBox, onto tmpfs), and
 * its peak RSS covers both, since that is what a user pays. Each run is a fresh child process running
 * the compiled code (scripts/bench-flatten-child.mjs, so maxRSS is per run and tsx is not counted);
 * figures are medians of N interleaved runs.
 *
 * Usage: node --import tsx scripts/bench-flatten.ts [--runs N] [--layout OCI-LAYOUT-DIR] [--compare DIST]
 * (tag `latest`). --compare names another tsc output dir (e.g. `tsc --outDir /dev/shm/old` of an older
 * tree, next to a package.json of type module and a node_modules link): its flatten runs interleaved with
 * the others and is shown as `before`. BENCH_DIST=DIR runs the main figures from DIR instead of dist/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withScratch } from './bench-scratch.js';

type Kind = 'floor' | 'flatten' | 'umoci' | 'idle' | 'before';
interface Sample {
  ms: number;
  maxRssMB: number;
  flattenMs?: number;
  boxMs?: number;
  fileMB?: number;
  entries?: number;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const LAYOUT = resolve(HERE, '../test/fixtures/build/debian');
const MB = 1 << 20;

const arg = (name: string, dflt: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : dflt;
};

type ChildKind = 'floor' | 'flatten' | 'idle';

const CHILD = join(HERE, 'bench-flatten-child.mjs');



function runChild(kind: ChildKind, layout: string, dist?: string): Sample {
  return withScratch('bench-flatten-box-', (dir) => {
    const env = dist ? { ...process.env, BENCH_DIST: dist } : process.env;
    const r = spawnSync(process.execPath, [CHILD, kind, layout, join(dir, 'box')], { encoding: 'utf8', maxBuffer: 16 * MB, env });
    if (r.status !== 0) throw new Error(`${kind} run failed:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  });
}

function runUmoci(layout: string): Sample {
  return withScratch('bench-umoci-', (dir) => {
    const t0 = performance.now();
    execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, join(dir, 'bundle')], { stdio: 'ignore' });
    return { ms: performance.now() - t0, maxRssMB: NaN };
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function summarize(samples: Record<Kind, Sample[]>): Record<Kind, Sample | undefined> {
  const of = (s: Sample[], key: 'ms' | 'maxRssMB' | 'flattenMs' | 'boxMs') => median(s.map((x) => x[key] ?? NaN));
  const pick = (s: Sample[]): Sample | undefined =>
    s.length === 0 ? undefined : { ms: of(s, 'ms'), maxRssMB: of(s, 'maxRssMB'), flattenMs: of(s, 'flattenMs'), boxMs: of(s, 'boxMs'), fileMB: s[0].fileMB, entries: s[0].entries };
  return { floor: pick(samples.floor), flatten: pick(samples.flatten), umoci: pick(samples.umoci), idle: pick(samples.idle), before: pick(samples.before) };
}

function report(all: Record<Kind, Sample | undefined>, runs: number): boolean {
  const m = all as Record<Kind, Sample>;
  const f = (n: number, d = 0) => n.toFixed(d);
  const flat = m.flatten.flattenMs!;
  console.log(`median of ${runs} runs, each in a fresh process`);
  console.log(`  floor   (read + gunzip + 2× sha256) ${f(m.floor.ms)} ms   peak RSS ${f(m.floor.maxRssMB)} MB`);
  console.log(`  flatten (openImage + flattenImage)  ${f(flat)} ms   then writeBox ${f(m.flatten.boxMs!)} ms   peak RSS over both ${f(m.flatten.maxRssMB)} MB   ${m.flatten.entries} entries, ${f(m.flatten.fileMB!, 1)} MB file bytes`);
  if (all.before) console.log(`  before  (--compare)                 ${f(all.before.flattenMs!)} ms   then writeBox ${f(all.before.boxMs!)} ms   peak RSS over both ${f(all.before.maxRssMB)} MB`);
  console.log(`  umoci unpack to tmpfs               ${f(m.umoci.ms)} ms`);
  const checks: [string, number, string, boolean][] = [
    ['flatten / floor', flat / m.floor.ms, '≤ 1.3', flat / m.floor.ms <= 1.3],
    ['umoci / flatten', m.umoci.ms / flat, '≥ 3', m.umoci.ms / flat >= 3],
    ['peak RSS / file bytes', m.flatten.maxRssMB / m.flatten.fileMB!, '≤ 1.5', m.flatten.maxRssMB / m.flatten.fileMB! <= 1.5],
  ];
  for (const [name, value, target, ok] of checks) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${name.padEnd(22)} ${f(value, 2).padStart(6)}  (target ${target})`);
  // Node + our modules cost a fixed RSS whatever the image; shown so a small image is not misjudged.
  const adjusted = (m.flatten.maxRssMB - m.idle.maxRssMB) / m.flatten.fileMB!;
  const overFloor = (m.flatten.maxRssMB - m.floor.maxRssMB) / m.flatten.fileMB!;
  console.log(`  info  (peak RSS − ${f(m.idle.maxRssMB)} MB idle baseline) / file bytes = ${f(adjusted, 2)}`);
  console.log(`  info  (peak RSS − floor peak RSS) / file bytes = ${f(overFloor, 2)}   umoci / floor = ${f(m.umoci.ms / m.floor.ms, 2)}`);
  console.log(`  info  (flatten + writeBox) / floor = ${f(m.flatten.ms / m.floor.ms, 2)}`);
  return checks.every((c) => c[3]);
}

async function main(): Promise<void> {
  const layout = resolve(arg('--layout', LAYOUT));
  const dist = process.env.BENCH_DIST ?? join(HERE, '../dist');
  if (!existsSync(join(dist, 'src/fs/flatten.js'))) {
    console.error(`bench-flatten: ${dist} is missing; run npm run build first`);
    process.exit(2);
  }
  if (!existsSync(join(layout, 'index.json'))) {
    console.error(`bench-flatten: no OCI layout at ${layout}; build it with scripts/make-fixtures.sh`);
    process.exit(2);
  }
  const runs = Number(arg('--runs', '5'));
  const compare = arg('--compare', '');
  const samples: Record<Kind, Sample[]> = { floor: [], flatten: [], umoci: [], idle: [], before: [] };
  for (let i = 0; i < runs; i++) {
    // Interleaved, so drift on the machine (other jobs, thermal) hits all three alike.
    samples.floor.push(runChild('floor', layout));
    samples.flatten.push(runChild('flatten', layout));
    if (compare) samples.before.push(runChild('flatten', layout, resolve(compare)));
    samples.umoci.push(runUmoci(layout));
    samples.idle.push(runChild('idle', layout));
    process.stderr.write(`run ${i + 1}/${runs} done\n`);
  }
  process.exitCode = report(summarize(samples), runs) ? 0 : 1;
}

await main();
