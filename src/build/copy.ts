import { posix } from 'node:path';
import { WasmboxError } from '../errors.js';
import type { Instruction, InstructionOf } from '../dockerfile/instructions.js';
import { contentBytes } from '../fs/spill.js';
import { type DirNode, type Meta, type Node, Tree, cloneNode, describe, dir } from '../fs/tree.js';
import { IgnoreMatcher, parseDockerignore } from './dockerignore.js';
import { globTree, hasWildcards } from './glob.js';
import type { Heredoc } from '../dockerfile/parse.js';
import { type StepContext, expandIn, located, stepError } from './config.js';
import type { StageState } from './stage.js';
import { type Owner, resolveOwner } from './users.js';
import { asTar, extractArchive } from './archive.js';

type CopyInstruction = InstructionOf<'COPY' | 'ADD'>;

/** Where COPY/ADD read from: the build context, an earlier stage, or an image (all as trees). */
export interface CopySource {
  tree: Tree;
  /** For messages: "the build context", "stage builder", "image alpine". */
  name: string;
  isContext: boolean;
}

interface CopyOptions {
  owner?: Owner;
  mode?: number;
  exclude?: IgnoreMatcher;
  unpack: boolean;
}

/**
 * Run COPY or ADD: resolve sources (wildcards, heredocs), then place each at the destination with
 * BuildKit's rules. Returns the history text BuildKit records for it.
 */
export async function applyCopy(state: StageState, ins: CopyInstruction, source: CopySource, ctx: StepContext): Promise<string> {
  const vars = state.vars;
  const ex = (w: string) => expandIn(state, w, ins, ctx, vars);
  const opts = copyOptions(state, ins, ctx, ex);
  const history = historyText(ins, ex);
  const workdir = state.config.config.WorkingDir || '/';
  const rawDest = ex(ins.dest);
  const dest = posix.resolve(workdir, rawDest);
  const destIsDir = rawDest.endsWith('/') || rawDest === '.' || rawDest.endsWith('/.');
  // Heredoc bodies always expand with `\` as the escape, whatever `# escape=` says.
  const exRaw = (w: string) => expandIn(state, w, ins, { ...ctx, escape: '\\' }, vars);
  const items = collectSources(ins, source, ctx, ex, exRaw);
  if (items.length > 1 && !destIsDir && state.tree.get(dest)?.kind !== 'dir') {
    throw stepError(ctx, ins, 'COPY_DEST', `when copying more than one source, the destination must be a directory and end with a /`, rawDest, `write ${rawDest}/`);
  }
  await located(ctx, ins, async () => {
    for (const item of items) await place(state.tree, item, dest, destIsDir, opts, ctx);
  });
  return history;
}

/** `COPY [--parents] [--chown=..] [--chmod=..] <paths> <<heredocs <dest>`, expanded, as BuildKit writes it. */
function historyText(ins: CopyInstruction, ex: (w: string) => string): string {
  const f = ins.flags;
  const parts: string[] = [ins.keyword];
  if (f.parents === true) parts.push('--parents');
  if (typeof f.chown === 'string' && ex(f.chown) !== '') parts.push(`--chown=${ex(f.chown)}`);
  if (typeof f.chmod === 'string' && ex(f.chmod) !== '') parts.push(`--chmod=${ex(f.chmod)}`);
  const docs = ins.sources.map((w) => heredocFor(ins, w));
  ins.sources.forEach((w, i) => docs[i] === undefined && parts.push(ex(w)));
  for (const doc of docs) if (doc) parts.push(`<<${doc.name}`);
  parts.push(ex(ins.dest));
  return parts.join(' ');
}

function heredocFor(ins: CopyInstruction, word: string): Heredoc | undefined {
  return ins.heredocs.find((h) => h.word === word);
}

/**
 * A heredoc body expands variables but keeps its quotes (BuildKit's SkipProcessQuotes, always with
 * `\` as escape): each quote gets an escape so the word lexer takes it literally.
 */
function protectQuotes(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') out += ch + (text[++i] ?? '');
    else out += ch === '"' || ch === "'" ? `\\${ch}` : ch;
  }
  return out;
}

interface Item {
  name: string;
  node: Node;
}

function copyOptions(state: StageState, ins: CopyInstruction, ctx: StepContext, ex: (w: string) => string): CopyOptions {
  const f = ins.flags;
  let owner: Owner | undefined;
  if (typeof f.chown === 'string') {
    const chown = ex(f.chown);
    owner = located(ctx, ins, () => resolveOwner(state.tree, chown), `${ins.keyword} --chown`);
  }
  let mode: number | undefined;
  const chmod = typeof f.chmod === 'string' ? ex(f.chmod) : '';
  if (chmod !== '') {
    // BuildKit parses it as an unsigned octal number up to 07777 (symbolic modes such as u+x are not supported here).
    if (!/^[0-7]+$/.test(chmod) || parseInt(chmod, 8) > 0o7777) {
      throw stepError(ctx, ins, 'CHMOD_INVALID', `invalid chmod parameter: it should be an octal string between 0 and 07777`, chmod, 'write --chmod=644 or --chmod=0755');
    }
    mode = parseInt(chmod, 8);
  }
  if (f.parents === true) throw stepError(ctx, ins, 'UNSUPPORTED', '--parents is not supported yet', '--parents', 'copy each directory with its own COPY');
  if (typeof f.checksum === 'string') throw stepError(ctx, ins, 'UNSUPPORTED', '--checksum only applies to ADD from a URL, which needs the network', f.checksum);
  // BuildKit does not expand --exclude patterns.
  const excludes = Array.isArray(f.exclude) ? f.exclude : [];
  const exclude = excludes.length ? new IgnoreMatcher(parseDockerignore(excludes.join('\n'), `${ins.keyword} --exclude`)) : undefined;
  return { owner, mode, exclude, unpack: ins.keyword === 'ADD' && f.unpack !== false };
}

function collectSources(ins: CopyInstruction, source: CopySource, ctx: StepContext, ex: (w: string) => string, exRaw: (w: string) => string): Item[] {
  const items: Item[] = [];
  for (const word of ins.sources) {
    const doc = heredocFor(ins, word);
    if (doc) {
      const text = doc.expand ? exRaw(protectQuotes(doc.content)) : doc.content;
      items.push({ name: doc.name, node: { kind: 'file', data: new TextEncoder().encode(text), mode: 0o644, uid: 0, gid: 0, mtime: ctx.epoch } });
      continue;
    }
    const src = ex(word);
    if (/^(https?:\/\/|git@)/.test(src)) {
      throw stepError(ctx, ins, 'UNSUPPORTED', `${ins.keyword} from a URL needs the network, which builds do not have`, src, 'download the file into the build context and copy it from there');
    }
    const paths = globTree(source.tree, src);
    // A wildcard that matches nothing copies nothing (BuildKit's AllowEmptyWildcard).
    if (paths.length === 0 && hasWildcards(src)) continue;
    if (paths.length === 0) {
      const hint = source.isContext ? 'check the path is inside the build context and not excluded by .dockerignore' : `check the path exists in ${source.name}`;
      throw stepError(ctx, ins, 'COPY_SOURCE', `${src} not found in ${source.name}`, src, hint);
    }
    for (const path of paths) {
      // A source symlink is followed (inside the source, never to the host); a dangling one is an error.
      const node = source.tree.get(path);
      if (!node) throw stepError(ctx, ins, 'COPY_SOURCE', `${path.slice(1)} is a symbolic link to nothing in ${source.name}`, src, 'copy the file it points to instead, or fix the link');
      items.push({ name: posix.basename(path) || '/', node });
    }
  }
  return items;
}

async function place(tree: Tree, item: Item, dest: string, destIsDir: boolean, opts: CopyOptions, ctx: StepContext): Promise<void> {
  const created = createdMeta(opts, ctx);
  const tar = item.node.kind === 'file' && opts.unpack ? await asTar(contentBytes(item.node.data), item.name) : undefined;
  if (tar) {
    await extractArchive(tar, tree.mkdirp(dest, created), item.name);
    return;
  }
  if (item.node.kind === 'dir') {
    const target = tree.mkdirp(dest, created);
    // Like BuildKit's copier, the destination directory takes the source directory's mtime.
    target.mtime = item.node.mtime;
    mergeChildren(target, item.node, opts, '');
    return;
  }
  const existing = tree.get(dest);
  const path = destIsDir || existing?.kind === 'dir' ? posix.join(dest, item.name) : dest;
  tree.mkdirp(posix.dirname(path), created);
  const current = tree.get(path, false);
  if (current?.kind === 'dir') throw new WasmboxError('COPY_DEST', `cannot copy a ${describe(item.node)} over the directory ${path}`, { value: path });
  tree.put(path, adjust(cloneNode(item.node), opts));
}

/** Copy a directory's children into another, merging directories and replacing everything else. */
function mergeChildren(target: DirNode, from: DirNode, opts: CopyOptions, rel: string): void {
  for (const [name, child] of from.children) {
    const childRel = rel ? `${rel}/${name}` : name;
    if (opts.exclude?.excludes(childRel)) continue;
    const existing = target.children.get(name);
    if (child.kind === 'dir') {
      // An existing directory keeps its mode and owner but takes the source's mtime; a new one takes all its metadata.
      let into = existing;
      if (into?.kind !== 'dir') {
        into = adjust(dir(child), opts);
        target.children.set(name, into);
      }
      into.mtime = child.mtime;
      mergeChildren(into, child, opts, childRel);
    } else {
      target.children.set(name, adjust(cloneNode(child), opts));
    }
  }
}

function adjust<T extends Node>(node: T, opts: CopyOptions): T {
  // COPY makes everything root-owned unless --chown says otherwise.
  node.uid = opts.owner?.uid ?? 0;
  node.gid = opts.owner?.gid ?? 0;
  if (opts.mode !== undefined && node.kind !== 'symlink') node.mode = opts.mode;
  if (node.kind === 'dir') for (const child of node.children.values()) adjust(child, opts);
  return node;
}

/** Directories COPY creates on the way to its destination: BuildKit gives them the --chmod mode too (permission bits only). */
function createdMeta(opts: CopyOptions, ctx: StepContext): Meta {
  return { mode: (opts.mode ?? 0o755) & 0o777, uid: opts.owner?.uid ?? 0, gid: opts.owner?.gid ?? 0, mtime: ctx.epoch };
}
