// One measurement of scripts/bench-flatten.ts, in a fresh process running the compiled code (dist/,
// made by `npm run build`, or the tsc output dir named by BENCH_DIST), as the CLI does, so tsx's loader
// is neither timed nor counted in RSS.
//   node scripts/bench-flatten-child.mjs floor|flatten|idle LAYOUT [BOX-DIR]
//   → prints {ms, maxRssMB, flattenMs?, boxMs?, fileMB?, entries?}
// `flatten` is what a user pays for `FROM` + writing the box: openImage + flattenImage, then writeBox of
// the tree into BOX-DIR (which must not exist yet), in one process, so maxRSS covers both.
import { boxStep, distUrl, floorLayer, measure } from './bench-measure.mjs';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MB = 1 << 20;
const [kind, layout, boxDir] = process.argv.slice(2);

/** The layer blobs of the `latest` manifest, read directly so the floor needs none of our code. */
function layerBlobs() {
  const blob = (d) => join(layout, 'blobs', d.replace(':', '/'));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  return manifest.layers.map((l) => ({ path: blob(l.digest), gzip: l.mediaType.endsWith('gzip') }));
}

/** Node's floor: read, gunzip and hash each layer (stored and uncompressed digests); no tar parsing. */
async function floor() {
  for (const { path, gzip } of layerBlobs()) {
    await floorLayer(createReadStream(path, { highWaterMark: MB }), gzip);
  }
  return {};
}

async function loadFlatten() {
  const { parseImageRef } = await import(distUrl('src/image/ref.js'));
  const { openImage } = await import(distUrl('src/image/open.js'));
  const { flattenImage } = await import(distUrl('src/fs/flatten.js'));
  const writeBox = await boxStep(boxDir);
  return async () => {
    const t0 = performance.now();
    const image = await openImage(parseImageRef(`oci-layout://${layout}:latest`), { baseDir: process.cwd(), platform: { os: 'linux', architecture: 'amd64' } });
    const [config, layers] = await Promise.all([image.config(), image.layers()]);
    const tree = await flattenImage(layers);
    const flattenMs = performance.now() - t0;
    return { tree, flattenMs, ...(await writeBox(tree, config)) };
  };
}

const work = kind === 'floor' ? floor : await loadFlatten();
const t0 = performance.now();
const { tree, ...times } = kind === 'idle' ? {} : await work();
const ms = performance.now() - t0;
const maxRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ ms, maxRssMB, ...times, ...(tree ? measure(tree) : {}) }));
