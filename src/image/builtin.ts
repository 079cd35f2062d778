import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { adapterMarker } from '../../runtime/core/adapters/index.js';
import { configureNodeAdapters } from '../../runtime/hosts/node-adapters.js';
import { canonicalTar } from '../box/canonical-tar.js';
import { fail } from '../errors.js';
import { type Meta, Tree, dir } from '../fs/tree.js';
import { DEFAULT_PATH, type ImageConfig } from './config.js';
import type { Platform } from './platform.js';
import type { ImageSource, Layer } from './source.js';

/** The built-in bases a native base image can be replaced with (see src/build/base-map.ts). */
export const BUILTIN_NAMES = ['python', 'ruby', 'shell'] as const;

/** The name of a built-in base. */
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

/** What a built-in base really runs: the language, its version, and the Wasm build that provides it. */
export interface BuiltinRuntime {
  /** "Python", "Ruby" or "shell", for messages. */
  language: string;
  /** The language version, e.g. "3.14.2" (empty for the shell). */
  version: string;
  /** The Wasm runtime behind it, e.g. "Pyodide 314.0.7, CPython 3.14.2". */
  provider: string;
}

const require = createRequire(import.meta.url);

// RUN steps execute in the build's own process: the interpreters the built-in bases name load their
// files from node_modules, as in the Node host's worker.
configureNodeAdapters();
const runtimes = new Map<BuiltinName, BuiltinRuntime>();

/** The runtime behind a built-in base, read from the installed packages (once per process). */
export function builtinRuntime(name: BuiltinName): BuiltinRuntime {
  let found = runtimes.get(name);
  if (!found) runtimes.set(name, (found = probe(name)));
  return found;
}

function probe(name: BuiltinName): BuiltinRuntime {
  if (name === 'shell') return { language: 'shell', version: '', provider: "wasmbox's built-in shell" };
  if (name === 'python') {
    const pkg = packageDir('pyodide');
    const pyodide = readJson(join(pkg, 'package.json')).version as string;
    const python = (readJson(join(pkg, 'pyodide-lock.json')).info as { python: string }).python;
    return { language: 'Python', version: python, provider: `Pyodide ${pyodide}, CPython ${python}` };
  }
  const pkg = packageDir('@ruby/3.4-wasm-wasi');
  const release = readJson(join(pkg, 'package.json')).version as string;
  // The package names only the minor version; the interpreter's own banner carries the full one.
  const banner = /ruby (\d+\.\d+\.\d+) \(/.exec(readFileSync(join(pkg, 'dist', 'ruby.wasm')).toString('latin1'));
  if (!banner) fail('BUILTIN', `cannot tell which Ruby ${pkg}/dist/ruby.wasm is`, { hint: 'reinstall wasmbox (npm ci): the @ruby/3.4-wasm-wasi package looks damaged' });
  return { language: 'Ruby', version: banner[1], provider: `ruby.wasm ${release}, Ruby ${banner[1]}` };
}

/** The directory of an installed package (found from its entry point, since not every package exports package.json). */
function packageDir(name: string): string {
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    return fail('BUILTIN', `the package ${name} that provides a built-in base is not installed`, { value: name, hint: 'reinstall wasmbox (npm ci)' });
  }
  for (let at = dirname(entry); at !== dirname(at); at = dirname(at)) {
    if (existsSync(join(at, 'package.json')) && readJson(join(at, 'package.json')).name === name) return at;
  }
  return fail('BUILTIN', `cannot find the package directory of ${name} from ${entry}`, { value: name, hint: 'reinstall wasmbox (npm ci)' });
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

const DIR: Meta = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };
const FILE: Meta = { mode: 0o644, uid: 0, gid: 0, mtime: 0 };
const EXEC: Meta = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };

/** The filesystem of a built-in base: a minimal Linux layout, root's account, and the interpreter markers. */
export function builtinTree(name: BuiltinName): Tree {
  const tree = new Tree(dir(DIR));
  for (const path of ['/bin', '/dev', '/etc', '/home', '/proc', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/lib', '/var/tmp']) tree.mkdirp(path, DIR);
  tree.mkdirp('/root', { ...DIR, mode: 0o700 });
  tree.mkdirp('/tmp', { ...DIR, mode: 0o1777 });
  text(tree, '/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  text(tree, '/etc/group', 'root:x:0:\n');
  if (name === 'python') {
    const [major, minor] = builtinRuntime('python').version.split('.');
    tree.put('/usr/local/bin/python3', { kind: 'file', data: adapterMarker('python'), ...EXEC });
    for (const alias of ['python', `python${major}.${minor}`]) tree.put(`/usr/local/bin/${alias}`, { kind: 'symlink', target: 'python3', ...DIR, mode: 0o777 });
    // Where the runtime looks for packages a Dockerfile COPYs in (Pyodide's own stdlib is built in).
    tree.mkdirp(`/usr/local/lib/python${major}.${minor}/site-packages`, DIR);
  }
  if (name === 'ruby') {
    for (const program of ['ruby', 'irb']) tree.put(`/usr/local/bin/${program}`, { kind: 'file', data: adapterMarker('ruby'), ...EXEC });
    tree.mkdirp('/usr/local/bundle', DIR);
  }
  return tree;
}

function text(tree: Tree, path: string, content: string): void {
  tree.put(path, { kind: 'file', data: new TextEncoder().encode(content), ...FILE });
}

/** The config a built-in base starts from, shaped like the official image's (Env, Cmd). */
export function builtinConfig(name: BuiltinName, platform: Platform, diffId: string): ImageConfig {
  const runtime = builtinRuntime(name);
  const env =
    name === 'python' ? [`PATH=/usr/local/bin:${DEFAULT_PATH}`, 'LANG=C.UTF-8', `PYTHON_VERSION=${runtime.version}`]
    : name === 'ruby' ? ['LANG=C.UTF-8', `RUBY_VERSION=${runtime.version}`, 'GEM_HOME=/usr/local/bundle', 'BUNDLE_SILENCE_ROOT_WARNING=1', 'BUNDLE_APP_CONFIG=/usr/local/bundle', `PATH=/usr/local/bundle/bin:${DEFAULT_PATH}`]
    : [`PATH=${DEFAULT_PATH}`];
  const cmd = name === 'python' ? ['python3'] : name === 'ruby' ? ['irb'] : ['/bin/sh'];
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant && { variant: platform.variant }),
    config: { Env: env, Cmd: cmd },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created_by: `wasmbox built-in ${name} base (${runtime.provider})`, comment: 'wasmbox' }],
  };
}

/** A built-in base as an image source: one uncompressed layer made in memory, and its config. */
export async function builtinImage(name: BuiltinName, platform: Platform): Promise<ImageSource> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of canonicalTar(builtinTree(name))) chunks.push(chunk);
  const tar = Buffer.concat(chunks);
  const digest = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const layer: Layer = {
    digest,
    diffId: digest,
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    size: tar.byteLength,
    open: async () => (async function* () { yield tar; })(),
  };
  const config = builtinConfig(name, platform, digest);
  return { ref: `builtin:${name}`, config: async () => structuredClone(config), layers: async () => [layer] };
}
