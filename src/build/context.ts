import type { Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WasmboxError } from '../errors.js';
import { dir, Tree, type Meta, type Node } from '../fs/tree.js';
import { IgnoreMatcher, parseDockerignore } from './dockerignore.js';

/** How to load a build context. */
export interface ContextOptions {
  /** Absolute path of the Dockerfile, to find `<Dockerfile>.dockerignore`. */
  dockerfilePath?: string;
}

/** One context entry found by the walk; `included` is false for an excluded directory walked for exceptions. */
interface Entry {
  rel: string;
  abs: string;
  stat: Stats;
  kind: 'dir' | 'file' | 'symlink';
  included: boolean;
}

/** At most this many file-system calls are in flight, so thousands of files never exhaust descriptors. */
const MAX_IN_FLIGHT = 32;

/** Read the context directory (honouring <Dockerfile>.dockerignore if it exists, else .dockerignore) into an in-memory tree. */
export async function loadContext(dir: string, opts: ContextOptions = {}): Promise<Tree> {
  const rootStat = await statRoot(dir);
  const run = limiter(MAX_IN_FLIGHT);
  const matcher = new IgnoreMatcher(await readIgnoreFile(dir, opts.dockerfilePath));
  const entries = await walk(dir, '', matcher, run);
  const nodes = await Promise.all(entries.map((e) => (e.included ? run(() => toNode(e)) : undefined)));
  return assemble(rootStat, entries, nodes);
}

async function statRoot(dir: string): Promise<Stats> {
  const st = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    const missing = err.code === 'ENOENT' || err.code === 'ENOTDIR';
    throw contextError(dir, missing ? 'does not exist' : `cannot be read (${err.code})`, 'pass an existing directory as the build context', err);
  });
  if (!st.isDirectory()) throw contextError(dir, 'is not a directory', 'the build context must be a directory; pass the folder that holds the files to COPY');
  return st;
}

/** The patterns of `<Dockerfile>.dockerignore` if there is one, else of `<context>/.dockerignore`, else none. */
async function readIgnoreFile(dir: string, dockerfilePath?: string): Promise<ReturnType<typeof parseDockerignore>> {
  const candidates = [...(dockerfilePath ? [`${dockerfilePath}.dockerignore`] : []), join(dir, '.dockerignore')];
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw contextError(file, `cannot be read (${err.code})`, 'make the ignore file readable', err);
    });
    if (text !== undefined) return parseDockerignore(text, file);
  }
  return [];
}

/** Every entry below `abs` that is included, plus excluded directories walked because an exception may lie below. */
async function walk(abs: string, rel: string, matcher: IgnoreMatcher, run: Limiter): Promise<Entry[]> {
  const names = await run(() => readdir(abs)).catch((err: NodeJS.ErrnoException) => {
    throw contextError(abs, `cannot be listed (${err.code})`, 'make the directory readable, or exclude it in .dockerignore', err);
  });
  const children = await Promise.all(names.map((name) => visit(join(abs, name), rel ? `${rel}/${name}` : name, matcher, run)));
  return children.flat();
}

async function visit(abs: string, rel: string, matcher: IgnoreMatcher, run: Limiter): Promise<Entry[]> {
  const st = await run(() => lstat(abs)).catch((err: NodeJS.ErrnoException) => {
    throw contextError(abs, `cannot be examined (${err.code})`, 'make it readable, or exclude it in .dockerignore', err);
  });
  const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : undefined;
  // Sockets, devices and FIFOs have no content to copy; docker skips them too.
  if (kind === undefined) return [];
  const included = !matcher.excludes(rel);
  if (kind !== 'dir') return included ? [{ rel, abs, stat: st, kind, included }] : [];
  if (!included && !matcher.mayHaveExceptionsBelow(rel)) return [];
  return [{ rel, abs, stat: st, kind, included }, ...(await walk(abs, rel, matcher, run))];
}

async function toNode(e: Entry): Promise<Node> {
  const m = meta(e.stat);
  try {
    if (e.kind === 'dir') return dir(m);
    // A symlink is kept as written and never followed, so nothing outside the context is read.
    if (e.kind === 'symlink') return { kind: 'symlink', target: await readlink(e.abs), ...m };
    const buf = await readFile(e.abs);
    return { kind: 'file', data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), ...m };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw contextError(e.abs, `cannot be read (${code})`, 'make it readable, or exclude it in .dockerignore', err);
  }
}

/** Permission bits and whole-second mtime; owned by root, as COPY without --chown makes them. */
function meta(st: Stats): Meta {
  return { mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: Math.floor(st.mtimeMs / 1000) };
}

/** Build the tree in walk order (parents first); an excluded directory appears only as the parent of an included entry. */
function assemble(rootStat: Stats, entries: Entry[], nodes: Array<Node | undefined>): Tree {
  const tree = new Tree(dir(meta(rootStat)));
  const dirMeta = new Map<string, Meta>();
  entries.forEach((e, i) => {
    if (e.kind === 'dir') dirMeta.set(e.rel, meta(e.stat));
    const node = nodes[i];
    if (node === undefined) return;
    const parts = e.rel.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const parent = parts.slice(0, depth).join('/');
      if (tree.get(parent, false) === undefined) tree.put(parent, dir(dirMeta.get(parent)));
    }
    tree.put(e.rel, node);
  });
  return tree;
}

function contextError(path: string, what: string, hint: string, cause?: unknown): WasmboxError {
  return new WasmboxError('CONTEXT', `build context: ${path} ${what}`, { value: path, hint, cause });
}

type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** A runner that lets at most `max` tasks run at once; a finishing task hands its slot to the next waiter. */
function limiter(max: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
