import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { WasmboxError } from '../errors.js';
import { build } from '../build/execute.js';
import { diskCache } from '../build/cache.js';
import { imageLoader } from '../build/images.js';
import { DEFAULT_PLATFORM, type Platform, parsePlatform } from '../image/platform.js';
import { treeDiffId } from '../box/canonical-tar.js';
import { writeBox } from '../box/pack.js';
import type { RegistryAccess } from '../registry/source.js';
import { type Reporter, downloadSteps, withProgress } from './progress.js';
import { type Output, boxDestination, parseOutputs, writeOutputs } from './output.js';
import { registryAccess } from './registry-flags.js';

/** The `wasmbox build` flags, as typed on the command line. */
export interface BuildFlags {
  context: string;
  file?: string;
  buildArgs: string[];
  target?: string;
  platform?: string;
  buildContexts: string[];
  quiet: boolean;
  /** `-o/--output`, repeatable: a box directory, `type=box,dest=DIR` or `type=oci,dest=PATH[,tar=false][,name=TAG]`. */
  output: string[];
  /** `--no-cache`: run every step again (results are still stored for later builds). */
  noCache?: boolean;
  /** `--pull`: resolve registry tags again instead of reusing ones pulled before. */
  pull?: boolean;
  /** `--insecure-registry HOST`: registries reached over plain HTTP (loopback ones always are). */
  insecureRegistry?: string[];
}

/** `wasmbox build`: read the Dockerfile, evaluate it, and write the box atomically. */
export async function runBuild(flags: BuildFlags): Promise<void> {
  const contextDir = await checkContext(flags.context);
  const dockerfile = await readDockerfile(flags.file, contextDir);
  const buildArgs = parseBuildArgs(flags.buildArgs);
  const contexts = parseContexts(flags.buildContexts);
  const platform = flags.platform === undefined ? DEFAULT_PLATFORM : parsePlatform(flags.platform);
  const outputs = parseOutputs(flags.output);
  const boxDir = boxDestination(outputs);
  // With only OCI outputs the box is made in a private temporary directory and exported from there.
  const outDir = boxDir === undefined ? join(await mkdtemp(join(tmpdir(), 'wasmbox-build-')), 'box') : resolve(boxDir);
  try {
    await buildTo(outDir, outputs, { flags, contextDir, dockerfile, buildArgs, contexts, platform });
  } finally {
    if (boxDir === undefined) await rm(dirname(outDir), { recursive: true, force: true });
  }
}

interface Prepared {
  flags: BuildFlags;
  contextDir: string;
  dockerfile: { text: string; name: string; path?: string };
  buildArgs: Map<string, string>;
  contexts: Map<string, string>;
  platform: Platform;
}

async function buildTo(outDir: string, outputs: Output[], { flags, contextDir, dockerfile, buildArgs, contexts, platform }: Prepared): Promise<void> {
  const sourceDateEpoch = readEpoch();
  const manifest = await withProgress(`Building ${dockerfile.name}`, flags.quiet, async (report) => {
    const output = outputLines(report);
    let access: RegistryAccess | undefined;
    const registry = (): RegistryAccess =>
      (access ??= { ...registryAccess({ insecureRegistry: flags.insecureRegistry ?? [], pull: flags.pull ? 'always' : 'missing' }, report.log), onBytes: downloadSteps(report) });
    const images = imageLoader({
      baseDir: process.cwd(),
      platform,
      platformExplicit: flags.platform !== undefined,
      registry,
      contexts,
      log: report.log,
      onLayer: (ref, index, count) => report.step(`reading ${ref}: layer ${count - index}/${count}`),
    });
    const result = await build({
      contextDir,
      dockerfileText: dockerfile.text,
      dockerfileName: dockerfile.name,
      dockerfilePath: dockerfile.path,
      buildArgs,
      target: flags.target,
      platform,
      images,
      sourceDateEpoch,
      cache: diskCache(),
      noCache: flags.noCache,
      onOutput: output.write,
      onStep: (s) => {
        output.flush();
        report.step(`[stage ${s.stage + 1}/${s.stageCount}] ${s.step}/${s.stepCount} ${s.cached ? 'CACHED ' : ''}${s.text}`);
      },
      log: (m) => process.stderr.write(`${m}\n`),
    });
    report.step('writing the box');
    result.config.rootfs.diff_ids = [await treeDiffId(result.tree)];
    return writeBox(outDir, result.tree, result.config);
  });
  // The build's tree is out of reach here, so exporting (which reads the box back) does not hold two copies.
  const extra = outputs.filter((o) => o.type === 'oci' || resolve(o.dest) !== outDir);
  const written = extra.length ? await withProgress('Exporting', flags.quiet, async (report) => {
    report.step(`writing ${extra.map((o) => o.dest).join(', ')}`);
    return writeOutputs(outDir, extra);
  }) : [];
  const boxDir = boxDestination(outputs);
  if (flags.quiet) {
    process.stdout.write([...(boxDir ? [outDir] : []), ...written.map((w) => resolve(w.output.dest))].map((line) => `${line}\n`).join(''));
    return;
  }
  const mb = (manifest.rootfs.fileBytes / 1e6).toFixed(1);
  if (boxDir) process.stdout.write(`box written to ${boxDir}: ${manifest.rootfs.entries} paths, ${mb} MB of files, config ${manifest.config.digest}\n`);
  for (const w of written) {
    if (w.output.type === 'oci') process.stdout.write(`OCI image ${w.output.tar ? 'archive' : 'layout'} written to ${w.output.dest} (tag ${w.output.name}): manifest ${w.digest}\n`);
    else process.stdout.write(`box copied to ${w.output.dest}\n`);
  }
}

/** RUN output as log lines: whole lines as they complete, a partial one when the next step starts. */
function outputLines(report: Reporter): { write: (chunk: Uint8Array) => void; flush: () => void } {
  const decoder = new TextDecoder();
  let pending = '';
  return {
    write(chunk) {
      const lines = (pending + decoder.decode(chunk, { stream: true })).split('\n');
      pending = lines.pop()!;
      for (const line of lines) report.log(line);
    },
    flush() {
      if (pending !== '') report.log(pending);
      pending = '';
    },
  };
}

/** The context directory, which must exist even when nothing is copied from it (docker refuses too). */
async function checkContext(context: string): Promise<string> {
  const dir = resolve(context);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new WasmboxError('CONTEXT', `the build context ${dir} ${st ? 'is not a directory' : 'does not exist'}`, {
      instruction: 'CONTEXT',
      value: context,
      hint: 'pass the directory holding your files, e.g. wasmbox build -o out .',
    });
  }
  return dir;
}

async function readDockerfile(file: string | undefined, contextDir: string): Promise<{ text: string; name: string; path?: string }> {
  if (file === '-') return { text: await text(process.stdin), name: '<stdin>' };
  const path = file === undefined ? resolve(contextDir, 'Dockerfile') : resolve(file);
  try {
    return { text: await readFile(path, 'utf8'), name: file ?? 'Dockerfile', path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WasmboxError('DOCKERFILE_NOT_FOUND', code === 'ENOENT' ? `cannot find the Dockerfile ${path}` : `cannot read the Dockerfile ${path} (${code})`, {
      instruction: '-f',
      value: file ?? path,
      hint: file === undefined ? 'put a Dockerfile in the context directory or name one with -f' : 'check the path given to -f (relative to the current directory)',
    });
  }
}

/** `--build-arg K=V`; a bare `K` takes its value from the environment and is skipped when unset, as docker does. */
export function parseBuildArgs(items: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new WasmboxError('USAGE', `invalid build-arg name "${name}"`, { instruction: '--build-arg', value: item, hint: 'write --build-arg NAME=value' });
    }
    const value = eq < 0 ? process.env[name] : item.slice(eq + 1);
    if (value !== undefined) args.set(name, value);
  }
  return args;
}

function parseContexts(items: string[]): Map<string, string> {
  const contexts = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) {
      throw new WasmboxError('USAGE', 'a build context must be NAME=REF', { instruction: '--build-context', value: item, hint: 'write --build-context base=oci-layout://./layout:tag' });
    }
    contexts.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return contexts;
}

function readEpoch(): number | undefined {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) {
    throw new WasmboxError('USAGE', 'SOURCE_DATE_EPOCH must be a whole number of seconds', { instruction: 'SOURCE_DATE_EPOCH', value: raw, hint: 'e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)' });
  }
  return Number(raw);
}
