// Running a box the way `docker run` runs an image: the command from Entrypoint/Cmd and the caller's
// arguments, the environment from the config and the caller, the working directory, the user. Every host
// (Node, browsers, workerd, Deno) comes through here. Runtime code: web-standard APIs only.
import type { LoadedBox } from './box.js';
import { launch } from './exec.js';
import { NO_INPUT, envValue, type InputSource, type OutputSink } from './process.js';
import { FileNode, Vfs } from './vfs.js';

/** What the caller of a box may choose; everything else comes from the box's config. */
export interface RunOptions {
  /** Arguments after the box, as `docker run IMAGE ARGS...`: they replace Cmd. */
  args?: string[];
  /** Replaces the Entrypoint (and clears the image's Cmd), as `--entrypoint`. */
  entrypoint?: string;
  /** `KEY=value` entries laid over the config's Env, in order. */
  env?: string[];
  /** Replaces WorkingDir, as `-w`. */
  workdir?: string;
  stdin?: InputSource;
  stdout: OutputSink;
  stderr: OutputSink;
  engine?: 'auto' | 'wasi' | 'wasmer';
  /** Upper bound for the guest's linear memory in bytes. */
  memoryLimit?: number;
  /** Notes for the user that are not the guest's output (e.g. a built-in standing in for a native binary). */
  log?: (message: string) => void;
  /** The filesystem to run in; by default a fresh copy-on-write view of the box (discarded afterwards). */
  vfs?: Vfs;
}

/** The PATH docker gives a container whose image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The error for a box that cannot be started as asked (no command, bad user); hosts print its message. */
export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

/** The argv docker would run: Entrypoint then (the caller's args, else Cmd). */
export function commandLine(box: LoadedBox, options: Pick<RunOptions, 'args' | 'entrypoint'>): string[] {
  const config = box.config.config ?? {};
  const entrypoint = options.entrypoint !== undefined ? (options.entrypoint === '' ? [] : [options.entrypoint]) : (config.Entrypoint ?? []);
  const cmd = options.args && options.args.length > 0 ? options.args : options.entrypoint !== undefined ? [] : (config.Cmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) {
    throw new RunError('the box has no command to run: its config sets neither Entrypoint nor Cmd; give one after the box (wasmbox run BOX CMD...) or with --entrypoint');
  }
  return argv;
}

/** The environment docker would give: the config's Env, the caller's entries, then PATH and HOME defaults. */
export function environment(box: LoadedBox, extra: string[] = [], home = '/root'): string[] {
  const byName = new Map<string, string>();
  for (const kv of [...(box.config.config?.Env ?? []), ...extra]) {
    const eq = kv.indexOf('=');
    byName.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? '' : kv.slice(eq + 1));
  }
  if (!byName.has('PATH')) byName.set('PATH', DEFAULT_PATH);
  if (!byName.has('HOME')) byName.set('HOME', home);
  return [...byName].map(([k, v]) => `${k}=${v}`);
}

/** Resolve a USER value (`name`, `uid`, `name:group`, `uid:gid`) through the box's /etc/passwd and /etc/group. */
export function resolveUser(vfs: Vfs, user: string | undefined): { uid: number; gid: number; home: string } {
  if (!user) return { uid: 0, gid: 0, home: '/root' };
  const [name, group] = user.split(':', 2);
  const passwd = readTable(vfs, '/etc/passwd');
  const row = passwd.find((r) => r[0] === name || r[2] === name);
  const uid = /^\d+$/.test(name) ? Number(name) : row ? Number(row[2]) : NaN;
  if (Number.isNaN(uid)) throw new RunError(`USER ${user}: no user "${name}" in the box's /etc/passwd; use a numeric uid or add the user`);
  let gid = row ? Number(row[3]) : 0;
  if (group !== undefined) {
    const grow = readTable(vfs, '/etc/group').find((r) => r[0] === group || r[2] === group);
    gid = /^\d+$/.test(group) ? Number(group) : grow ? Number(grow[2]) : NaN;
    if (Number.isNaN(gid)) throw new RunError(`USER ${user}: no group "${group}" in the box's /etc/group; use a numeric gid or add the group`);
  }
  return { uid, gid, home: row?.[5] || (uid === 0 ? '/root' : '/') };
}

/** Run the box's command; resolves to the exit code (126/127 when the command cannot start, as a shell does). */
export async function runBox(box: LoadedBox, options: RunOptions): Promise<number> {
  const vfs = options.vfs ?? Vfs.fromImage(box.fs);
  const config = box.config.config ?? {};
  const argv = commandLine(box, options);
  const user = resolveUser(vfs, config.User);
  const env = environment(box, options.env, user.home);
  const cwd = options.workdir || config.WorkingDir || '/';
  if (!cwd.startsWith('/')) throw new RunError(`working directory "${cwd}" is not absolute; give an absolute path to -w`);
  const { stdout, stderr, engine, memoryLimit, log } = options;
  return launch({ argv, env, cwd, vfs, stdin: options.stdin ?? NO_INPUT, stdout, stderr, uid: user.uid, gid: user.gid, engine, memoryLimit, log });
}

/** The PATH a spec's environment gives (docker's default when it sets none). */
export function searchPath(env: string[]): string[] {
  return (envValue(env, 'PATH') ?? DEFAULT_PATH).split(':').filter((d) => d !== '');
}

function readTable(vfs: Vfs, path: string): string[][] {
  try {
    const node = vfs.get(path);
    if (!(node instanceof FileNode)) return [];
    return new TextDecoder().decode(node.bytes()).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

