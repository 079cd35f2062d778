// `wasmbox bundle OUTDIR --target web|worker|deno|node -o DIST`: write a box as a bundle for a host. The
// bundle is written into a temporary sibling of DIST and renamed into place, so DIST is always either
// the old bundle or the whole new one; an existing DIST is replaced only if it is empty or a bundle.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BOX_FILES } from '../box/format.js';
import { humanSize } from '../bundle/box-contents.js';
import { TARGET_NAMES, TARGETS, type TargetName, type TargetReport } from '../bundle/targets.js';
import { WasmboxError, didYouMean } from '../errors.js';

/** What `wasmbox bundle` was asked. */
export interface BundleOptions {
  box: string;
  target: string;
  output: string;
  /** web: include the WASIX engine even when no module of the box imports wasix_*. */
  wasix?: boolean;
  /** Print only DIST. */
  quiet?: boolean;
  /** Where the report goes (stdout by default). */
  print?: (line: string) => void;
}

/** The file a bundle directory carries so that a later `wasmbox bundle -o` may replace it. */
export const BUNDLE_MARKER = '.wasmbox-bundle';

/** Write the bundle and print its files, sizes and notes; resolves to the target's report. */
export async function runBundle(options: BundleOptions): Promise<TargetReport> {
  const print = options.print ?? ((line: string) => process.stdout.write(line + '\n'));
  const target = targetName(options.target);
  if (!existsSync(join(options.box, BOX_FILES.manifest))) {
    throw new WasmboxError('BOX_NOT_FOUND', `no box at ${options.box} (no ${BOX_FILES.manifest})`, { instruction: 'wasmbox bundle', value: options.box, hint: 'name the directory `wasmbox build -o` wrote' });
  }
  const dist = resolve(options.output);
  await checkReplaceable(dist);
  const temp = join(dirname(dist), `.${basename(dist)}.tmp-${randomBytes(4).toString('hex')}`);
  await mkdir(temp, { recursive: true });
  let report: TargetReport;
  try {
    const writer = await TARGETS[target]();
    report = await writer(options.box, temp, { wasix: options.wasix });
    await writeFile(join(temp, BUNDLE_MARKER), JSON.stringify({ target }) + '\n');
    await swap(temp, dist);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  if (options.quiet) print(options.output);
  else for (const line of await summary(dist, options.output, report)) print(line);
  return report;
}

function targetName(value: string): TargetName {
  if ((TARGET_NAMES as string[]).includes(value)) return value as TargetName;
  const close = didYouMean(value, TARGET_NAMES);
  throw new WasmboxError('USAGE', `unknown bundle target "${value}"`, {
    instruction: '--target', value, hint: close ? `did you mean "${close}"?` : `choose one of ${TARGET_NAMES.join(', ')}`,
  });
}

/** DIST may be missing, empty, or a bundle written before; anything else is the user's and stays. */
async function checkReplaceable(dist: string): Promise<void> {
  const st = await stat(dist).catch(() => undefined);
  if (!st) return;
  const refuse = (why: string): never => {
    throw new WasmboxError('BUNDLE_OUTPUT', `${dist} ${why}, so it is not replaced`, { instruction: '-o', value: dist, hint: 'name a new directory, an empty one, or a bundle wasmbox wrote before' });
  };
  if (!st.isDirectory()) refuse('is a file');
  const entries = await readdir(dist);
  if (entries.length > 0 && !entries.includes(BUNDLE_MARKER)) refuse('holds files that are not a wasmbox bundle');
}

/** Put `temp` where `dist` is: the old bundle moves aside first and goes once the new one is in place. */
async function swap(temp: string, dist: string): Promise<void> {
  const old = existsSync(dist) ? `${temp}.old` : undefined;
  if (old) await rename(dist, old);
  try {
    await rename(temp, dist);
  } catch (err) {
    if (old) await rename(old, dist);
    throw err;
  }
  if (old) await rm(old, { recursive: true, force: true });
}

/** One line per file (directories of many files as one line), then the totals and the notes. */
async function summary(dist: string, shown: string, report: TargetReport): Promise<string[]> {
  const rows = await sizes(dist, '');
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = rows.map((r) => `  ${r.name.padEnd(width)}  ${humanSize(r.bytes).padStart(8)}${r.files > 1 ? `  (${r.files} files)` : ''}`);
  return [
    `${report.target} bundle written to ${shown}: ${report.files} files`,
    ...lines,
    `runtime: ${humanSize(report.runtimeGzipBytes)} gzipped; box: ${humanSize(report.boxBytes)}`,
    ...report.notes.map((n) => `note: ${n}`),
  ];
}

/** Directories with more files than this show as one line (runtime chunks, an sdk's files). */
const COLLAPSE = 6;

interface SizeRow {
  name: string;
  bytes: number;
  files: number;
}

/** Size rows under `rel`: files, and directories collapsed unless small (or top-level ones holding only directories). */
async function sizes(root: string, rel: string): Promise<SizeRow[]> {
  const rows: SizeRow[] = [];
  const entries = (await readdir(join(root, rel), { withFileTypes: true })).filter((e) => e.name !== BUNDLE_MARKER);
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    if (!entry.isDirectory()) {
      rows.push({ name, bytes: (await stat(join(root, name))).size, files: 1 });
      continue;
    }
    const inner = await sizes(root, name);
    const files = inner.reduce((n, r) => n + r.files, 0);
    // A top-level directory of directories (vendor/) shows each of them.
    const onlyDirs = rel === '' && (await readdir(join(root, name), { withFileTypes: true })).every((e) => e.isDirectory());
    if (files <= COLLAPSE || onlyDirs) rows.push(...inner);
    else rows.push({ name: `${name}/`, bytes: inner.reduce((n, r) => n + r.bytes, 0), files });
  }
  return rows;
}
