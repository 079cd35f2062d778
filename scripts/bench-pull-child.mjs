// One measurement of scripts/bench-pull.ts, in a fresh process running the compiled code (dist/, made by
// `npm run build`, or the tsc output dir named by BENCH_DIST), as the CLI does, so tsx's loader is neither
// timed nor counted in RSS.
//   node scripts/bench-pull-child.mjs floor|pull|idle HOST/REPO:TAG LAYERS-JSON CACHE-DIR
//   → prints {ms, cpuMs, maxRssMB, pullMs?, boxMs?, fileMB?, entries?}
// `pull` pulls and flattens, then writes the box into CACHE-DIR/box in the same process, so maxRSS covers both.
// LAYERS-JSON is the manifest's layer list ([{digest, mediaType}]), read once by the parent, so the floor
// needs none of our code and no manifest round trip.
import { boxStep, distUrl, floorLayer, measure } from './bench-measure.mjs';
import { join } from 'node:path';
import http from 'node:http';

const MB = 1 << 20;
const [kind, reference, layersJson, cacheDir] = process.argv.slice(2);
const slash = reference.indexOf('/');
const host = reference.slice(0, slash);
const [repository, tag] = reference.slice(slash + 1).split(':');

/** A GET with node:http, Node's cheapest HTTP client (fetch costs ~40% more CPU per byte here). */
function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => (res.statusCode === 200 ? resolve(res) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`)))).on('error', reject);
  });
}

/** Node's floor: GET each layer blob, gunzip it, hash stored and uncompressed bytes; no tar parsing. */
async function floor() {
  for (const { digest, mediaType } of JSON.parse(layersJson)) {
    const res = await get(`http://${host}/v2/${repository}/blobs/${digest}`);
    if ((await floorLayer(res, mediaType.endsWith('gzip'))) !== digest) throw new Error(`floor: blob ${digest} does not match`);
  }
  return {};
}

/** Pull + flatten through the library into the empty cache at CACHE-DIR, as `FROM` does. */
async function loadPull() {
  const { parseRegistryRef } = await import(distUrl('src/registry/reference.js'));
  const { RegistryClient } = await import(distUrl('src/registry/client.js'));
  const { BlobCache } = await import(distUrl('src/cache/blob-cache.js'));
  const { openRegistryImage } = await import(distUrl('src/registry/source.js'));
  const { flattenImage } = await import(distUrl('src/fs/flatten.js'));
  const writeBox = await boxStep(join(cacheDir, 'box'));
  return async () => {
    const t0 = performance.now();
    const cache = BlobCache.open(join(cacheDir, 'blobs'));
    const platform = { os: 'linux', architecture: 'amd64' };
    const image = await openRegistryImage(parseRegistryRef(reference), { client: new RegistryClient(), cache, platform });
    const [config, layers] = await Promise.all([image.config(), image.layers()]);
    const tree = await flattenImage(layers);
    const pullMs = performance.now() - t0;
    return { tree, pullMs, ...(await writeBox(tree, config)) };
  };
}


const work = kind === 'floor' ? floor : await loadPull();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const { tree, ...times } = kind === 'idle' ? {} : await work();
const ms = performance.now() - t0;
// CPU time of all the process's threads (zlib's included): a figure the other jobs on the machine disturb less.
const { user, system } = process.cpuUsage(cpu0);
const maxRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ ms, cpuMs: (user + system) / 1000, maxRssMB, ...times, ...(tree ? measure(tree) : {}) }));
