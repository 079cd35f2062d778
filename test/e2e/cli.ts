/**
 * Runs the real command line: bin/wasmbox.js over a fresh compile of the sources, made once per test
 * file into node_modules/.cache (so the shared dist/ is never touched and module resolution still
 * finds the project's node_modules).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What one CLI run did. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A compiled copy of the CLI: `run` it, then `remove` it. */
export interface Cli {
  run(args: string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<Run>;
  remove(): Promise<void>;
}

/** Compile the sources (type errors elsewhere do not stop tsc from emitting) and copy the bin script next to them. */
export async function compileCli(): Promise<Cli> {
  const root = join(REPO, 'node_modules', '.cache', `wasmbox-e2e-${process.pid}`);
  await rm(root, { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', REPO, '--outDir', join(root, 'dist')], { stdio: 'pipe' });
  } catch {
    // tsc exits non-zero on type errors but still writes the JavaScript; the check below decides.
  }
  if (!existsSync(join(root, 'dist/src/cli/main.js'))) throw new Error('tsc did not produce dist/src/cli/main.js');
  await mkdir(join(root, 'bin'));
  await copyFile(join(REPO, 'bin/wasmbox.js'), join(root, 'bin/wasmbox.js'));
  await writeFile(join(root, 'package.json'), '{"type":"module"}\n');
  const bin = join(root, 'bin/wasmbox.js');
  return { run: (args, opts) => runNode(bin, args, opts), remove: () => rm(root, { recursive: true, force: true }) };
}

function runNode(bin: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    // A clean environment: no SOURCE_DATE_EPOCH or debug switches leak in from the developer's shell.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env };
    const child = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd ?? REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
