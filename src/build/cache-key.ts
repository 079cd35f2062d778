// Cache keys: every instruction that changes files turns the stage's key into a new one, from the key
// before it and everything that decides its result, so equal keys mean equal filesystems. FROM starts the
// chain from the image's identity; COPY/ADD mix in the digests of what they copied; WORKDIR the directory
// it makes; RUN the exact process it runs and what its mounts show it.
import { createHash } from 'node:crypto';
import type { InstructionOf } from '../dockerfile/instructions.js';
import { contentChunks, type FileContent } from '../fs/spill.js';
import type { Node, Tree } from '../fs/tree.js';
import { compareNames } from '../fs/tree.js';
import type { ImageConfig } from '../image/config.js';
import { globTree } from './glob.js';

/** Changes whenever a change to wasmbox could change what a cached step produces. */
const FORMAT = 'wasmbox-build-cache-v1';

/** sha256 (hex) of the JSON of `parts`: the one way keys are made. */
export function hashKey(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * The key of a stage started from an image: its config (which holds the layers' diff_ids), the digest of
 * its files when the config names no layers (a built-in base), and the SOURCE_DATE_EPOCH every created
 * file's mtime depends on.
 */
export function imageKey(config: ImageConfig, tree: Tree, epoch: number | undefined, digests: Digests): string {
  const content = config.rootfs?.diff_ids?.length ? null : digests.node(tree.root);
  return hashKey(FORMAT, 'FROM', config, content, epoch ?? null);
}

/** Content digests of tree nodes; file digests are remembered per content (tree bytes are never changed in place). */
export class Digests {
  private readonly bytes = new WeakMap<FileContent, string>();
  private scratch: Uint8Array | undefined;

  /**
   * The digest of a node and everything below it: kinds, permission bits, owners, names, bytes, link
   * targets. Not mtimes: as in Docker and BuildKit (whose tarsum leaves them out), a fresh clone or a
   * rewrite of the same bytes must not make every RUN after a COPY run again.
   */
  node(node: Node): string {
    const meta = [node.kind, node.mode & 0o7777, node.uid, node.gid];
    switch (node.kind) {
      case 'file': return hashKey(meta, this.data(node.data));
      case 'symlink': return hashKey(meta, node.target);
      case 'other': return hashKey(meta, node.device);
      case 'dir': {
        const names = [...node.children.keys()].sort(compareNames);
        return hashKey(meta, names.map((name) => [name, this.node(node.children.get(name)!)]));
      }
    }
  }

  /** The digest of what `path` names in `tree` (symlinks followed, as COPY and bind mounts do), or null if nothing. */
  at(tree: Tree, path: string): string | null {
    const node = tree.get(path);
    return node === undefined ? null : this.node(node);
  }

  private data(data: FileContent): string {
    let digest = this.bytes.get(data);
    if (digest === undefined) {
      // Spilled bytes are hashed in pieces, so an image's big files are never all in memory at once.
      const hash = createHash('sha256');
      for (const chunk of contentChunks(data, (this.scratch ??= new Uint8Array(1 << 20)))) hash.update(chunk);
      digest = hash.digest('hex');
      this.bytes.set(data, digest);
    }
    return digest;
  }
}

/** What a COPY/ADD reads besides the stage: its source tree, the expansion of its words, the stage's variables. */
export interface CopyInputs {
  source: Tree;
  expand: (word: string) => string;
  vars: ReadonlyMap<string, string>;
  workdir: string;
}

/**
 * The key after a COPY/ADD: the key before, the instruction as recorded (expanded), its flags, and for
 * each source word the digests of the paths it matched; heredoc bodies by content (and the variables
 * when they expand).
 */
export function copyKey(parent: string, ins: InstructionOf<'COPY' | 'ADD'>, createdBy: string, inputs: CopyInputs, digests: Digests): string {
  const sources = ins.sources.map((word) => {
    const doc = ins.heredocs.find((h) => h.word === word);
    if (doc) return ['heredoc', doc.content, doc.expand ? [...inputs.vars] : null];
    const src = inputs.expand(word);
    return [src, globTree(inputs.source, src).map((path) => [path, digests.at(inputs.source, path)])];
  });
  return hashKey(parent, 'COPY', createdBy, ins.flags, inputs.workdir, sources);
}

/** The key after a WORKDIR that made directories: the path and the user they belong to. */
export function workdirKey(parent: string, path: string, user: string | undefined): string {
  return hashKey(parent, 'WORKDIR', path, user ?? '');
}
