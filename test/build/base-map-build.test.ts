// A real build on a substituted base: `FROM python:3.12-slim` becomes the built-in Python, the box is
// written and read back, and its CMD runs the way `wasmbox run` runs it (runBox → launch → the marker's
// adapter → Pyodide) over the box's own filesystem.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BaseMap, loadBaseMap } from '../../src/build/base-map.js';
import { build } from '../../src/build/execute.js';
import { imageLoader } from '../../src/build/images.js';
import { readBox, writeBox } from '../../src/box/pack.js';
import { WasmboxError } from '../../src/errors.js';
import { builtinRuntime } from '../../src/image/builtin.js';
import { DEFAULT_PLATFORM } from '../../src/image/platform.js';
import { adapterOf } from '../../runtime/core/adapters/index.js';
import { type LoadedBox, loadBox } from '../../runtime/core/box.js';
import { collectOutput } from '../../runtime/core/process.js';
import { type RunOptions, runBox } from '../../runtime/core/run.js';
import { FileNode, Vfs } from '../../runtime/core/vfs.js';
import { readText } from '../runtime/adapters/harness.js';

const DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py tool.py /app/\nCMD ["python3", "/app/app.py"]\n';
const APP = 'import os, sys\nprint("hello from", sys.version.split()[0], os.getcwd(), sys.argv[1:])\nopen("/app/ran.txt", "w").write(os.environ["PYTHON_VERSION"])\n';
const TOOL = '#!/usr/bin/env python3\nimport sys\nprint("tool", sys.argv, sys.executable)\n';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wasmbox-base-map-'));
  await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(dir, 'app.py'), APP);
  await writeFile(join(dir, 'tool.py'), TOOL, { mode: 0o755 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Run the box as `wasmbox run BOX ARGS...` would, keeping its output. */
async function run(box: LoadedBox, options: Pick<RunOptions, 'args' | 'vfs'>) {
  const out = collectOutput();
  const err = collectOutput();
  const code = await runBox(box, { ...options, stdout: out.sink, stderr: err.sink });
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: text(out.bytes()), stderr: text(err.bytes()) };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Build the Dockerfile with `baseMap`, or with what WASMBOX_BASE_MAP says when it is undefined. */
async function buildIn(baseMap: BaseMap | undefined) {
  const log: string[] = [];
  // Registry access is refused with a code of its own, so the test sees that the real image was asked for without using the network.
  const registry = (): never => {
    throw new WasmboxError('TEST_REGISTRY', 'registry access was asked for');
  };
  const images = imageLoader({ baseDir: dir, platform: DEFAULT_PLATFORM, contexts: new Map(), log: (m) => log.push(m), baseMap, registry });
  const result = await build({ contextDir: dir, dockerfileText: DOCKERFILE, dockerfileName: 'Dockerfile', buildArgs: new Map(), platform: DEFAULT_PLATFORM, images });
  return { result, log };
}

describe('FROM python:3.12-slim', () => {
  it('builds on the built-in Python, says so, and the box runs its CMD', async () => {
    const python = builtinRuntime('python');
    const { result, log } = await buildIn(loadBaseMap(undefined));
    expect(log[0]).toBe(`FROM python:3.12-slim: using the built-in Python (${python.provider}) instead of the native image`);
    if (!python.version.startsWith('3.12.')) expect(log[1]).toContain(`the tag asks for Python 3.12 but the built-in Python is ${python.version}`);
    const config = result.config.config;
    expect(config.Cmd).toEqual(['python3', '/app/app.py']);
    expect(config.WorkingDir).toBe('/app');
    expect(config.Env).toEqual(expect.arrayContaining([`PYTHON_VERSION=${python.version}`, 'LANG=C.UTF-8', expect.stringMatching(/^PATH=\/usr\/local\/bin:/)]));

    const out = join(dir, 'box');
    await writeBox(out, result.tree, result.config);
    const { bytes } = await readBox(out);
    const box = loadBox({ config: bytes.config, rootfs: bytes.rootfs });
    const vfs = Vfs.fromImage(box.fs);
    expect(adapterOf((vfs.get('/usr/local/bin/python3') as FileNode).bytes())).toBe('python');
    expect(await run(box, { vfs, args: [] })).toEqual({ code: 0, stdout: `hello from ${python.version} /app []\n`, stderr: '' });
    expect(readText(vfs, '/app/ran.txt')).toBe(python.version);
    // A #! script: exec follows /usr/bin/env python3 through PATH to the marker.
    expect(await run(box, { args: ['/app/tool.py', 'x'] })).toEqual({ code: 0, stdout: "tool ['/app/tool.py', 'x'] /usr/local/bin/python3\n", stderr: '' });
  });

  it('reads a WASMBOX_BASE_MAP file from the environment', async () => {
    const map = join(dir, 'base-map.json');
    await writeFile(map, JSON.stringify({ 'python:3.12*': 'builtin:shell' }));
    vi.stubEnv('WASMBOX_BASE_MAP', map);
    const { result, log } = await buildIn(undefined);
    expect(log[0]).toBe("FROM python:3.12-slim: using the built-in shell base (/bin/sh is wasmbox's built-in shell) instead of the native image");
    expect(result.tree.get('/usr/local/bin/python3')).toBeUndefined();
    expect(result.tree.get('/app/app.py')?.kind).toBe('file');
  });

  it('pulls the real image from its registry when WASMBOX_BASE_MAP=off', async () => {
    vi.stubEnv('WASMBOX_BASE_MAP', 'off');
    const err = await buildIn(undefined).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WasmboxError);
    expect((err as WasmboxError).code).toBe('TEST_REGISTRY');
    expect((err as WasmboxError).location).toEqual({ file: 'Dockerfile', line: 1 });
  });
});
