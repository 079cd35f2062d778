import type { Layer } from '../image/source.js';
import { LayerApplier, type ApplyOptions } from './apply.js';
import { openLayer } from './layer-stream.js';
import { Shadow } from './shadow.js';
import { readTar, type TarEntry } from './tar.js';
import { Tree, type FileNode, type Node } from './tree.js';

/** Options of a flatten: a logger for unusual events and a progress callback. */
export interface FlattenOptions {
  log?: (msg: string) => void;
  /** Called as each layer starts being read, with its position (oldest first, 0-based) and the count. */
  onLayer?: (index: number, count: number) => void;
}

/** Where a file's skipped bytes live: layer index and entry index within it. */
interface Slot {
  layer: number;
  index: number;
}

/** Apply one layer's tar entries onto the tree with OCI whiteout rules unless `whiteouts: false` (reads the stream to its end). */
export async function applyLayer(tree: Tree, tar: AsyncIterable<Uint8Array>, opts: FlattenOptions & ApplyOptions & { layerName?: string } = {}): Promise<void> {
  const applier = new LayerApplier(tree, opts.layerName ?? 'layer', opts);
  await readTar(tar, (e) => applier.apply(e), { label: opts.layerName });
}

/**
 * Flatten an image's layers (given oldest first) into a new or given tree, checking every digest.
 * Layers are read newest first so the bytes of files a later layer hides are never kept; the
 * entries are then replayed oldest first with the exact rules, so the result is what applying each
 * layer in turn gives.
 */
export async function flattenImage(layers: Layer[], tree: Tree = new Tree(), opts: FlattenOptions = {}): Promise<Tree> {
  const records = await readNewestFirst(layers, opts);
  const skipped = new Map<Node, Slot>();
  for (let i = 0; i < layers.length; i++) {
    const applier = new LayerApplier(tree, layerName(layers, i));
    records[i].forEach((e, index) => {
      const node = applier.apply(e);
      if (e.kind === 'file' && e.data === undefined && node) skipped.set(node, { layer: i, index });
    });
    records[i] = [];
  }
  await refill(tree, layers, skipped, opts);
  return tree;
}

async function readNewestFirst(layers: Layer[], opts: FlattenOptions): Promise<TarEntry[][]> {
  const shadow = new Shadow();
  const records: TarEntry[][] = layers.map(() => []);
  for (let i = layers.length - 1; i >= 0; i--) {
    opts.onLayer?.(i, layers.length);
    const list = records[i];
    const onEntry = (e: TarEntry): void => {
      list.push(e);
      shadow.note(e);
    };
    await readTar(openLayer(layers[i]), onEntry, { label: layerName(layers, i), want: (e) => shadow.visible(e) });
    shadow.endLayer();
  }
  return records;
}

/** Read again the bytes of files that were guessed hidden but show in the result (a symlinked path moved them). */
async function refill(tree: Tree, layers: Layer[], skipped: Map<Node, Slot>, opts: FlattenOptions): Promise<void> {
  if (skipped.size === 0) return;
  const byLayer = new Map<number, Map<number, FileNode>>();
  for (const [, node] of tree.walk()) {
    const slot = skipped.get(node);
    if (!slot || node.kind !== 'file') continue;
    if (!byLayer.has(slot.layer)) byLayer.set(slot.layer, new Map());
    byLayer.get(slot.layer)!.set(slot.index, node);
  }
  for (const [layer, nodes] of byLayer) {
    opts.log?.(`re-reading ${layerName(layers, layer)} for ${nodes.size} file(s) reached through symlinked paths`);
    let index = 0;
    const onEntry = (e: TarEntry): void => {
      const node = nodes.get(index++);
      if (node && e.data) node.data = e.data;
    };
    await readTar(openLayer(layers[layer]), onEntry, { label: layerName(layers, layer), want: () => nodes.has(index) });
  }
}

function layerName(layers: Layer[], i: number): string {
  const id = layers[i].digest || layers[i].diffId;
  return `layer ${i + 1}/${layers.length}${id ? ` (${id.slice(0, 19)})` : ''}`;
}
