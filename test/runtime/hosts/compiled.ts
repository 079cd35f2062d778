/**
 * A compiled copy of wasmbox for tests that need real worker threads (a Worker cannot load .ts files):
 * tsc into node_modules/.cache (so the shared dist/ is never touched and node_modules still resolves),
 * optionally with runtime/core/exec.js replaced by fake-exec.js, and a way to run its CLI that can
 * watch output as it streams, feed stdin and send signals.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** What one CLI run did. */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options for one CLI run. */
export interface RunOpts {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; `null` leaves stdin open (the test ends it). */
  input?: string | null;
}

/** A compiled wasmbox: its dist directory, its bin script, and ways to run it. */
export interface Compiled {
  dist: string;
  bin: string;
  run(args: string[], opts?: RunOpts): Promise<Run>;
  spawn(args: string[], opts?: RunOpts): ChildProcessWithoutNullStreams;
  remove(): Promise<void>;
}

/** Compile the sources; with `fakeExec`, exec.js is the scripted stand-in (no Wasm engine involved). */
export async function compileWasmbox(options: { fakeExec?: boolean } = {}): Promise<Compiled> {
  const root = join(REPO, 'node_modules', '.cache', `wasmbox-hosts-${options.fakeExec ? 'fake-' : ''}${process.pid}`);
  await rm(root, { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', REPO, '--outDir', join(root, 'dist')], { stdio: 'pipe' });
  } catch {
    // tsc exits non-zero on type errors elsewhere but still writes the JavaScript; the check below decides.
  }
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'src/cli/main.js'))) throw new Error('tsc did not produce dist/src/cli/main.js');
  if (options.fakeExec) await copyFile(join(REPO, 'test/runtime/hosts/fake-exec.js'), join(dist, 'runtime/core/exec.js'));
  await mkdir(join(root, 'bin'));
  await copyFile(join(REPO, 'bin/wasmbox.js'), join(root, 'bin/wasmbox.js'));
  await writeFile(join(root, 'package.json'), '{"type":"module"}\n');
  const bin = join(root, 'bin/wasmbox.js');
  const start = (args: string[], opts: RunOpts = {}): ChildProcessWithoutNullStreams => {
    // A clean environment: nothing from the developer's shell leaks into what the tests compare.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env };
    const child = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd ?? REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
    if (opts.input !== null) child.stdin.end(opts.input ?? '');
    return child;
  };
  return { dist, bin, spawn: start, run: (args, opts) => finished(start(args, opts)), remove: () => rm(root, { recursive: true, force: true }) };
}

/** Collect a child's output until it exits (killed after 30 s so a hung test fails instead of hanging). */
export function finished(child: ChildProcessWithoutNullStreams): Promise<Run> {
  return new Promise((done, fail) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** Resolves with the first stdout chunk matching `pattern` (and the time it came), or rejects at exit. */
export function firstOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<{ text: string; at: number }> {
  return new Promise((done, fail) => {
    let seen = '';
    child.stdout.on('data', (c: Buffer) => {
      seen += c.toString();
      if (pattern.test(seen)) done({ text: seen, at: performance.now() });
    });
    child.on('close', () => fail(new Error(`the process ended before printing ${pattern}; it printed ${JSON.stringify(seen)}`)));
  });
}
