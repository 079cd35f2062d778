/**
 * Builds small Dockerfiles in memory for the RUN and cache tests: a context folder under /dev/shm, the
 * library `build()`, and a listing of the result. Launchers are injectable, so a test can count runs or
 * drive the sandbox's filesystem directly.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { launch } from '../../runtime/core/exec.js';
import type { Launcher, ProcessSpec } from '../../runtime/core/process.js';
import { treeDiffId } from '../../src/box/canonical-tar.js';
import type { BuildCache } from '../../src/build/cache.js';
import { type BuildResult, build } from '../../src/build/execute.js';
import { imageLoader } from '../../src/build/images.js';
import { DEFAULT_PLATFORM } from '../../src/image/platform.js';

/** What one test build takes: the Dockerfile, context files, and the build's knobs. */
export interface TestBuild {
  dockerfile: string;
  files?: Record<string, string>;
  buildArgs?: Record<string, string>;
  launcher?: Launcher;
  cache?: BuildCache;
  noCache?: boolean;
  epoch?: number;
  target?: string;
}

/** A finished test build: the result, the diff_id of its filesystem, what was logged and which steps were CACHED. */
export interface Built extends BuildResult {
  diffId: string;
  output: string;
  cached: string[];
  log: string[];
}

/** Build `spec` with its context written under `dir` (each call may reuse the folder with new files). */
export async function buildIn(dir: string, spec: TestBuild): Promise<Built> {
  for (const [path, text] of Object.entries(spec.files ?? {})) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  let output = '';
  const cached: string[] = [];
  const log: string[] = [];
  const result = await build({
    contextDir: dir, dockerfileText: spec.dockerfile, dockerfileName: 'Dockerfile', buildArgs: new Map(Object.entries(spec.buildArgs ?? {})),
    platform: DEFAULT_PLATFORM, images: imageLoader({ baseDir: dir, platform: DEFAULT_PLATFORM, contexts: new Map() }),
    sourceDateEpoch: spec.epoch, launcher: spec.launcher, cache: spec.cache, noCache: spec.noCache, target: spec.target,
    onOutput: (chunk) => (output += new TextDecoder().decode(chunk)),
    onStep: (s) => s.cached && cached.push(s.text),
    log: (m) => log.push(m),
  });
  return { ...result, diffId: await treeDiffId(result.tree), output, cached, log };
}

/** A launcher that counts the processes it starts and hands them on to `inner` (the real sandbox by default). */
export function counting(inner: Launcher = launch): Launcher & { runs: ProcessSpec[] } {
  const runs: ProcessSpec[] = [];
  const launcher = async (spec: ProcessSpec) => {
    runs.push(spec);
    return inner(spec);
  };
  return Object.assign(launcher, { runs });
}

/** Whether the real sandbox can run commands yet (the exec and engine helpers fill it in). */
export async function sandboxReady(): Promise<string | undefined> {
  try {
    const { Vfs } = await import('../../runtime/core/vfs.js');
    const { NO_INPUT } = await import('../../runtime/core/process.js');
    const sink = () => {};
    await launch({ argv: ['/bin/sh', '-c', 'true'], env: ['PATH=/bin'], cwd: '/', vfs: Vfs.empty(), stdin: NO_INPUT, stdout: sink, stderr: sink });
    return undefined;
  } catch (err) {
    return `the sandbox cannot run commands yet (${(err as Error).message})`;
  }
}

/**
 * A stand-in guest for tests of the build's plumbing (cache, mounts, output): exec-form RUNs name one
 * operation on the sandbox filesystem, e.g. `RUN ["append", "/f", "x"]`. Real guests are tested in run.test.ts.
 */
export async function scriptedGuest(spec: ProcessSpec): Promise<number> {
  const { FileNode } = await import('../../runtime/core/vfs.js');
  const [op, a = '', b = ''] = spec.argv;
  const vfs = spec.vfs;
  const cwd = vfs.mkdir(spec.cwd, { recursive: true });
  const owner = { uid: spec.uid ?? 0, gid: spec.gid ?? 0 };
  const say = (sink: (b: Uint8Array) => void, s: string) => sink(new TextEncoder().encode(s));
  switch (op) {
    case 'write': vfs.writeFile(a, new TextEncoder().encode(b), { cwd }); return 0;
    case 'append': {
      const f = vfs.createFile(a, { cwd, ...owner });
      f.write(f.size, new TextEncoder().encode(b));
      return 0;
    }
    case 'mkdir': vfs.mkdir(a, { cwd, recursive: true, ...owner }); return 0;
    case 'rm': vfs.unlink(a, { cwd }); return 0;
    case 'cat': {
      const f = vfs.get(a, { cwd });
      say(spec.stdout, f instanceof FileNode ? new TextDecoder().decode(f.bytes()) : `${a}: not a file\n`);
      return 0;
    }
    case 'stat': {
      const n = vfs.get(a, { cwd });
      say(spec.stdout, `${n.kind} ${n.mode.toString(8)} ${n.uid}:${n.gid}\n`);
      return 0;
    }
    case 'echo': say(spec.stdout, `${a}\n`); return 0;
    case 'env': say(spec.stdout, `${spec.env.join('\n')}\ncwd=${spec.cwd} uid=${spec.uid} gid=${spec.gid}\n`); return 0;
    case 'fail': say(spec.stderr, b); return Number(a);
    default: say(spec.stderr, `${op}: unknown operation\n`); return 127;
  }
}
