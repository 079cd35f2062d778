// `RUN --mount`: what each mount shows the guest, and the part of the cache key it contributes. Bind
// mounts view a tree (the context, a stage, an image) read-only unless `rw`, and writes to them are
// dropped; tmpfs mounts start empty and are dropped; cache mounts start from what the last build left
// under their id and are saved again afterwards. Nothing under a mount ever reaches the stage's layer.
import { posix } from 'node:path';
import { DirNode as VDir, nowNs } from '../../runtime/core/vfs.js';
import { WasmboxError } from '../errors.js';
import type { InstructionOf } from '../dockerfile/instructions.js';
import { type RunMount, parseMount } from '../dockerfile/mounts.js';
import { type Node, Tree, cleanPath, cloneNode, dir } from '../fs/tree.js';
import type { BuildCache } from './cache.js';
import type { Digests } from './cache-key.js';
import { type StepContext, expandIn, located, stepError } from './config.js';
import { type Sandbox, TreeMirror } from './sandbox.js';
import { applyLayerBytes, changesOf, isEmptyLayer, layerBytes } from './sandbox-diff.js';
import type { StageState } from './stage.js';

/** A tree a mount reads, and how messages name it. */
export interface MountSource {
  tree: Tree;
  name: string;
}

/** What mounts need from the build: where `from` points, the cache, the digests. */
export interface MountHost {
  ctx: StepContext;
  cache: BuildCache;
  digests: Digests;
  /** The build context when `from` is undefined, else the stage or image it names. */
  mountSource(from: string | undefined): Promise<MountSource>;
}

/** A mount ready to lay over a sandbox: its key part, how to attach it, what to do after the run. */
export interface PreparedMount {
  target: string;
  key: unknown;
  attach(sandbox: Sandbox): Promise<void>;
  /** After a successful run: save what must outlive it (cache mounts). */
  finish(): Promise<void>;
}

/** Parse, check and prepare a RUN's mounts (sorted by target so a mount inside another comes after it). */
export async function prepareMounts(state: StageState, ins: InstructionOf<'RUN'>, host: MountHost): Promise<PreparedMount[]> {
  const texts = Array.isArray(ins.flags.mount) ? ins.flags.mount : [];
  const prepared: PreparedMount[] = [];
  for (const text of texts) {
    const mount = located(host.ctx, ins, () => parseMount(text, (w) => expandIn(state, w, ins, host.ctx)), 'RUN --mount');
    if (mount.type === 'secret' || mount.type === 'ssh') {
      throw stepError(host.ctx, ins, 'MOUNT_UNSUPPORTED', `${mount.type} mounts are not supported: a box build has no ${mount.type === 'ssh' ? 'SSH agent' : 'secret store'}`, text,
        'copy what the command needs into an earlier stage, or use a bind mount from the build context');
    }
    const target = posix.resolve(state.config.config.WorkingDir || '/', mount.target);
    if (target === '/') throw stepError(host.ctx, ins, 'MOUNT_INVALID', `invalid mount target "${mount.target}"`, text, 'mount below /, e.g. target=/src');
    prepared.push(await prepare(mount, target, ins, host));
  }
  return prepared.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

async function prepare(mount: RunMount, target: string, ins: InstructionOf<'RUN'>, host: MountHost): Promise<PreparedMount> {
  switch (mount.type) {
    case 'bind': return bind(mount, target, ins, host);
    case 'tmpfs': return { target, key: ['tmpfs', target], attach: async (s) => s.attach(target, emptyDir(s, 0o1777)), finish: async () => {} };
    default: return cacheMount(mount, target, ins, host);
  }
}

async function bind(mount: RunMount, target: string, ins: InstructionOf<'RUN'>, host: MountHost): Promise<PreparedMount> {
  const source = await host.mountSource(mount.from);
  const path = cleanPath(mount.source);
  const node = located(host.ctx, ins, () => source.tree.get(path), 'RUN --mount');
  if (node === undefined) {
    throw stepError(host.ctx, ins, 'MOUNT_SOURCE', `${path} not found in ${source.name}`, mount.text, `check that source= names a path in ${source.name}`);
  }
  return {
    target,
    key: ['bind', target, mount.readonly, host.digests.node(node)],
    // A view of the source tree: a read-write bind lets the guest write, and the writes stay in the view.
    attach: async (s) => s.attach(target, new TreeMirror(s.vfs, source.tree, mount.readonly).node(node, path)),
    finish: async () => {},
  };
}

/** A cache mount's directory is stored as `/cache` in a tree, so the directory's own mode and owner are kept. */
async function cacheMount(mount: RunMount, target: string, ins: InstructionOf<'RUN'>, host: MountHost): Promise<PreparedMount> {
  // BuildKit's default id is the target as written, cleaned.
  const id = mount.id || posix.normalize(mount.target);
  let save: (() => Promise<void>) | undefined;
  return {
    target,
    key: ['cache', target, id],
    // Loaded only when the command runs: a cache hit never reads the cache mount.
    async attach(s) {
      const tree = await loadCache(id, mount, ins, host);
      const mirror = new TreeMirror(s.vfs, tree);
      const holder = mirror.dir(tree.root, '/');
      s.attach(target, holder.entries().get('cache')!);
      save = async () => {
        const changes = changesOf(mirror, holder);
        if (isEmptyLayer(changes)) return;
        await applyLayerBytes(tree, await layerBytes(changes), `cache mount ${id}`);
        await host.cache.putMount(id, await layerBytes(tree));
      };
    },
    finish: async () => save?.(),
  };
}

async function loadCache(id: string, mount: RunMount, ins: InstructionOf<'RUN'>, host: MountHost): Promise<Tree> {
  const stored = await host.cache.getMount(id);
  if (stored) {
    const tree = new Tree();
    try {
      await applyLayerBytes(tree, stored, `cache mount ${id}`);
      if (tree.root.children.get('cache')?.kind === 'dir') return tree;
    } catch (err) {
      // A damaged cache is only a lost cache: start it again.
      if (!(err instanceof WasmboxError)) throw err;
    }
  }
  let start: Node = dir({ mode: mount.mode ?? 0o755, uid: mount.uid ?? 0, gid: mount.gid ?? 0, mtime: host.ctx.epoch });
  if (mount.from !== undefined) {
    const source = await host.mountSource(mount.from);
    const node = source.tree.get(cleanPath(mount.source));
    if (node?.kind !== 'dir') throw stepError(host.ctx, ins, 'MOUNT_SOURCE', `${cleanPath(mount.source)} is not a directory in ${source.name}`, mount.text, 'a cache mount starts from a directory');
    start = cloneNode(node);
  }
  const tree = new Tree();
  tree.root.children.set('cache', start);
  return tree;
}

function emptyDir(s: Sandbox, mode: number): VDir {
  return new VDir(s.vfs.ino(), mode, 0, 0, nowNs());
}
