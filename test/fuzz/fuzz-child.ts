/**
 * The fuzz loop, run in a child process so the test can kill it if a mutant hangs (a synchronous loop
 * would block any timer in the test's own process). Usage: fuzz-child.ts SEED COUNT. Prints one JSON
 * line when a case starts ({start}) and one when it ends ({done, ok, error?}).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from '../../src/build/execute.js';
import { imageLoader } from '../../src/build/images.js';
import { WasmboxError } from '../../src/errors.js';
import { DEFAULT_PLATFORM } from '../../src/image/platform.js';
import { scratchDir } from '../helpers/fixtures.js';
import { type CaseArgs, prepareContext } from '../golden/harness.js';
import { mutate, rngFor } from './mutate.js';

/** A Dockerfile to mutate and the case folder that is its context. */
export interface Seedling {
  name: string;
  dir: string;
  dockerfile: string;
  args: CaseArgs;
}

const REPO = resolve(import.meta.dirname, '../..');

/** The corpus: every golden case and every example, in a fixed order. */
export function corpus(): Seedling[] {
  const cases = join(REPO, 'test/golden/cases');
  const examples = join(REPO, 'examples');
  const dirs = [
    ...readdirSync(cases).sort().map((n) => join(cases, n)),
    ...readdirSync(examples).sort().map((n) => join(examples, n)),
  ];
  return dirs.map((dir) => {
    const args = (existsSync(join(dir, 'args.json')) ? JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) : {}) as CaseArgs;
    return { name: dir.slice(REPO.length + 1), dir, dockerfile: readFileSync(join(dir, args.dockerfile ?? 'Dockerfile'), 'utf8'), args };
  });
}

/** The mutant number `index` of a seed, and the seedling it came from. */
export function mutant(seeds: Seedling[], seed: number, index: number): { from: Seedling; text: string } {
  const from = seeds[index % seeds.length];
  return { from, text: mutate(from.dockerfile, rngFor(seed, index)) };
}

async function main(seed: number, count: number): Promise<void> {
  const seeds = corpus();
  const work = await scratchDir('wasmbox-fuzz-');
  try {
    const contexts = await Promise.all(seeds.map(async (s) => {
      const dir = join(await mkdtemp(join(work.dir, 'c-')), 'context');
      const args = structuredClone(s.args);
      await prepareContext(s.dir, dir, args);
      return { dir, args };
    }));
    for (let i = 0; i < count; i++) {
      const { text } = mutant(seeds, seed, i);
      const ctx = contexts[i % seeds.length];
      process.stdout.write(`${JSON.stringify({ start: i })}\n`);
      const error = await attempt(text, ctx.dir, ctx.args);
      process.stdout.write(`${JSON.stringify({ done: i, ok: error === undefined, error })}\n`);
    }
  } finally {
    await work.remove();
  }
}

/** Build one mutant; undefined if it built or failed with a proper user error, else what went wrong. */
async function attempt(text: string, contextDir: string, args: CaseArgs): Promise<string | undefined> {
  try {
    await build({
      contextDir, dockerfileText: text, dockerfileName: 'Dockerfile', dockerfilePath: join(contextDir, args.dockerfile ?? 'Dockerfile'),
      buildArgs: new Map(Object.entries(args.buildArgs ?? {})), target: args.target, platform: DEFAULT_PLATFORM,
      images: imageLoader({ baseDir: contextDir, platform: DEFAULT_PLATFORM, contexts: new Map(Object.entries(args.buildContexts ?? {})) }),
      sourceDateEpoch: 0,
    });
    return undefined;
  } catch (err) {
    if (!(err instanceof WasmboxError)) return `not a WasmboxError: ${err instanceof Error ? err.stack : String(err)}`;
    const shown = err.format();
    if (!err.code || !shown.startsWith('error: ') || /\bundefined\b|\[object /.test(shown)) return `badly formed WasmboxError: ${shown}`;
    return undefined;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await main(Number(process.argv[2]), Number(process.argv[3]));
}
