// `wasmbox run`: the box's command in a worker thread, with docker's flags and exit codes. Kept light
// on purpose (no yargs, no build code): a run's start-up is what users feel every time.
import { readFile, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WasmboxError } from '../errors.js';
import { type BoxBytes, type MountSpec, type NodeRunResult, runNode } from '../../runtime/hosts/node.js';
import { RUN_USAGE, type RunFlags, parseRunArgs } from './run-args.js';
import { tierChoice } from './run-tier.js';
import { guestEnv, parseEngine, parseMemory, parseTimeout, parseVolume, parseWorkdir } from './run-values.js';

/** docker's exit code for a run that failed before (or outside) the guest. */
export const RUN_ERROR_EXIT = 125;

/** `wasmbox run ARGS...` (the words after `run`); resolves to the exit code. */
export async function runCommand(argv: string[]): Promise<number> {
  try {
    const flags = parseRunArgs(argv);
    if (flags.help) {
      process.stdout.write(RUN_USAGE);
      return 0;
    }
    return await run(flags);
  } catch (err) {
    return reportError(err);
  }
}

async function run(flags: RunFlags): Promise<number> {
  const env = guestEnv(flags.env, await readEnvFiles(flags.envFiles), process.env);
  const mounts = await Promise.all(flags.volumes.map(hostMount));
  checkDistinct(mounts);
  const memoryLimit = flags.memory === undefined ? undefined : parseMemory(flags.memory);
  const timeoutMs = flags.timeout === undefined ? undefined : parseTimeout(flags.timeout);
  const engine = flags.engine === undefined ? undefined : parseEngine(flags.engine);
  const workdir = flags.workdir === undefined ? undefined : parseWorkdir(flags.workdir);
  const tier = tierChoice();
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => abort.abort(signal === 'SIGINT' ? 130 : 143);
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    const result = await runNode({
      box: readBoxBytes(flags),
      args: flags.args, entrypoint: flags.entrypoint, env, workdir, engine, memoryLimit, mounts,
      stdin: flags.interactive ? process.stdin : undefined,
      timeoutMs,
      signal: abort.signal,
      tier,
    });
    return explain(result, flags);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    if (flags.interactive) process.stdin.destroy();
  }
}

/** The box's files, digest-checked. BOX is a box directory or, when no such path exists, an image reference. */
async function readBoxBytes(flags: RunFlags): Promise<BoxBytes> {
  let box = flags.box;
  const st = await stat(box).catch(() => undefined);
  if (st && !st.isDirectory()) {
    throw new WasmboxError('BOX_NOT_FOUND', `${box} is a file, not a box directory`, { instruction: 'wasmbox run', value: box, hint: 'name the directory wasmbox build wrote (its -o), or an image reference' });
  }
  if (!st && !/^[./~]/.test(box)) box = await (await import('./run-pull.js')).boxDirForRef(flags);
  // Loaded here, not at the top: the digest check's crypto then loads while the worker starts.
  // Checked, not parsed: the worker parses the box (and reports a damaged one) itself.
  const { readBoxBytes } = await import('../box/pack.js');
  return (await readBoxBytes(box)).bytes;
}

async function readEnvFiles(files: string[]): Promise<{ name: string; bytes: Uint8Array }[]> {
  return Promise.all(
    files.map(async (name) => {
      const bytes = await readFile(name).catch((err: NodeJS.ErrnoException) => {
        throw new WasmboxError('USAGE', `cannot read the env file ${name} (${err.code ?? err.message})`, { instruction: '--env-file', value: name, hint: 'check the path (relative to the current directory)' });
      });
      return { name, bytes };
    }),
  );
}

/** `-v HOST:GUEST[:ro]` with HOST resolved to the real directory it names (which must exist). */
async function hostMount(value: string): Promise<MountSpec> {
  const volume = parseVolume(value);
  const host = await realpath(resolve(volume.host)).catch(() => undefined);
  const st = host === undefined ? undefined : await stat(host);
  if (!st?.isDirectory()) {
    throw new WasmboxError('USAGE', `the host directory ${volume.host} ${st ? 'is not a directory' : 'does not exist'}`, {
      instruction: '-v',
      value,
      hint: st ? 'only directories can be mounted; mount the directory that holds the file' : 'create it first (mkdir -p) or fix the path',
    });
  }
  return { host: host!, guest: volume.guest, readonly: volume.readonly };
}

function checkDistinct(mounts: MountSpec[]): void {
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.guest)) throw new WasmboxError('USAGE', `two volumes are mounted at ${m.guest}`, { instruction: '-v', value: m.guest, hint: 'give each -v its own guest path' });
    seen.add(m.guest);
  }
}

/** Print why a run ended when it was not the guest's own exit; returns the exit code. */
function explain(result: NodeRunResult, flags: RunFlags): number {
  for (const warning of result.warnings) process.stderr.write(`wasmbox: warning: ${warning}\n`);
  const f = result.failure;
  if (result.outcome === 'timeout') process.stderr.write(`wasmbox: timed out after ${flags.timeout} s\n`);
  if (!f) return result.exitCode;
  if (f.kind === 'oom') {
    const limit = flags.memory ? ` (--memory ${flags.memory})` : '';
    // The engine's message starts "PROGRAM ran out of memory: ..."; say that part once.
    const detail = /heap/i.test(f.message) ? 'its JavaScript heap reached the limit' : f.message.replace(/^\S+ ran out of memory: /, '');
    process.stderr.write(`wasmbox: the guest ran out of memory${limit}: ${detail}\n`);
  } else if (f.kind === 'launch' || f.kind === 'trap') {
    process.stderr.write(`wasmbox: ${f.message}\n`);
  } else if (f.kind === 'internal') {
    return reportError(Object.assign(new Error(f.message), { stack: f.detail }));
  } else {
    process.stderr.write(`error: ${f.message}\n`);
  }
  return result.exitCode;
}

function reportError(err: unknown): number {
  if (err instanceof WasmboxError) {
    process.stderr.write(err.format() + '\n');
    return RUN_ERROR_EXIT;
  }
  const e = err as Error;
  process.stderr.write(`error: internal error: ${e?.message ?? String(err)}\n  hint: this is a bug in wasmbox; please report it with the command you ran\n`);
  if (process.env.WASMBOX_DEBUG) process.stderr.write(`${e?.stack}\n`);
  return RUN_ERROR_EXIT;
}
