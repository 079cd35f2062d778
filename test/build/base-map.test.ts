// Which FROM references become built-in bases, how WASMBOX_BASE_MAP overrides that, and what the build
// log says. Pure table tests: nothing is pulled or run here.
import { describe, expect, it } from 'vitest';
import { type BaseChoice, type BaseMap, chooseBase, describeChoice, loadBaseMap } from '../../src/build/base-map.js';
import { WasmboxError } from '../../src/errors.js';
import { builtinRuntime, builtinTree } from '../../src/image/builtin.js';
import { adapterOf } from '../../runtime/core/adapters/index.js';

const DEFAULTS = loadBaseMap(undefined);
const MAP_FILE = '/maps/base-map.json';

/** A map loaded from a file holding `json`, read through a fake reader. */
function fromFile(json: unknown): BaseMap {
  return loadBaseMap(MAP_FILE, (path) => {
    expect(path).toBe(MAP_FILE);
    return typeof json === 'string' ? json : JSON.stringify(json);
  });
}

/** A choice as one short word: the built-in name, the redirected reference, or "keep". */
function outcome(choice: BaseChoice | undefined): string {
  return choice === undefined ? 'keep' : choice.kind === 'builtin' ? `builtin:${choice.name}` : choice.ref;
}

describe('the default base map', () => {
  it.each([
    ['python', 'builtin:python'],
    ['python:3.12-slim', 'builtin:python'],
    ['python:3.11-alpine3.19', 'builtin:python'],
    ['docker.io/library/python:3.12', 'builtin:python'],
    ['library/python:3-bookworm', 'builtin:python'],
    [`python@sha256:${'a'.repeat(64)}`, 'builtin:python'],
    ['docker-image://python:3.13', 'builtin:python'],
    ['ruby:3.4-slim', 'builtin:ruby'],
    ['ruby', 'builtin:ruby'],
    ['alpine:3.19', 'builtin:shell'],
    ['busybox', 'builtin:shell'],
    ['debian:bookworm-slim', 'builtin:shell'],
    ['ubuntu:24.04', 'builtin:shell'],
    ['node:20', 'keep'],
    ['pythonista:1', 'keep'],
    ['myorg/python:3.12', 'keep'],
    ['ghcr.io/library/python:3.12', 'keep'],
    ['localhost:5000/alpine', 'keep'],
  ])('%s → %s', (ref, want) => {
    expect(outcome(chooseBase(ref, DEFAULTS))).toBe(want);
  });

  it('is switched off by WASMBOX_BASE_MAP=off', () => {
    const off = loadBaseMap('off');
    expect(off.rules).toEqual([]);
    expect(chooseBase('python:3.12', off)).toBeUndefined();
  });
});

describe('a WASMBOX_BASE_MAP file', () => {
  const map = fromFile({
    'myorg/base:1': 'oci:./layouts/base:v1',
    'myorg/archive': 'docker-archive:../images/app.tar',
    'myorg/abs:*': 'oci-layout:///srv/layout:tag',
    'ruby:2.7*': 'none',
    'node:*': 'builtin:shell',
    'docker.io/library/python:3.9': 'registry.example.com/python:3.9-wasm',
  });

  it.each([
    ['myorg/base:1', 'oci-layout:///maps/layouts/base:v1'],
    ['myorg/base:2', 'keep'],
    ['myorg/archive:any', 'docker-archive:///images/app.tar'],
    ['myorg/abs:3', 'oci-layout:///srv/layout:tag'],
    ['ruby:2.7-slim', 'keep'],
    ['ruby:3.3', 'builtin:ruby'],
    ['node:20-alpine', 'builtin:shell'],
    ['python:3.9', 'registry.example.com/python:3.9-wasm'],
    ['python:3.10', 'builtin:python'],
  ])('%s → %s (file rules first, then the defaults)', (ref, want) => {
    expect(outcome(chooseBase(ref, map))).toBe(want);
  });

  it('records where a rule came from', () => {
    expect(chooseBase('node:20', map)?.rule.origin).toBe(MAP_FILE);
    expect(chooseBase('alpine', map)?.rule.origin).toBe('the defaults');
  });

  it.each([
    ['not json', /is not JSON/],
    [[1, 2], /must hold one JSON object/],
    [{ 'python:*': 7 }, /maps "python:\*" to 7, not to a reference/],
    [{ 'python:*': 'builtin:perl' }, /unknown built-in base "builtin:perl"/],
    [{ '': 'builtin:python' }, /empty pattern/],
  ])('refuses %j', (json, message) => {
    const err = (() => {
      try {
        fromFile(json);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(WasmboxError);
    expect((err as WasmboxError).code).toBe('BASE_MAP');
    expect((err as WasmboxError).instruction).toBe('WASMBOX_BASE_MAP');
    expect((err as WasmboxError).message).toMatch(message);
  });

  it('names the file it cannot read', () => {
    const missing = () => loadBaseMap('/nowhere/map.json', () => {
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    });
    expect(missing).toThrow(/cannot read the base map file \/nowhere\/map.json \(ENOENT\)/);
  });
});

describe('what the build log says', () => {
  const python = builtinRuntime('python');
  const ruby = builtinRuntime('ruby');
  const [pyMajor, pyMinor] = python.version.split('.');
  const otherMinor = `${pyMajor}.${Number(pyMinor) - 1}`;
  const say = (ref: string) => describeChoice(ref, chooseBase(ref, DEFAULTS)!);

  it('says what replaced the image and what runs it', () => {
    expect(python.provider).toMatch(/^Pyodide \d+\.\d+\.\d+, CPython \d+\.\d+\.\d+$/);
    expect(ruby.provider).toMatch(/^ruby\.wasm \d+\.\d+\.\d+, Ruby \d+\.\d+\.\d+$/);
    expect(say(`python:${pyMajor}.${pyMinor}-slim`)).toEqual([
      `FROM python:${pyMajor}.${pyMinor}-slim: using the built-in Python (${python.provider}) instead of the native image`,
    ]);
    expect(say('alpine:3.19')).toEqual(["FROM alpine:3.19: using the built-in shell base (/bin/sh is wasmbox's built-in shell) instead of the native image"]);
  });

  it.each([
    [`python:${otherMinor}-slim`, `the tag asks for Python ${otherMinor} but the built-in Python is ${python.version}`],
    ['python:2', `the tag asks for Python 2 but the built-in Python is ${python.version}`],
    ['ruby:3.2', `the tag asks for Ruby 3.2 but the built-in Ruby is ${ruby.version}`],
  ])('notes a version mismatch for %s', (ref, note) => {
    const lines = say(ref);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(note);
  });

  it.each(['python', 'python:latest', 'python:slim-bookworm', `python:${pyMajor}`, `ruby:${ruby.version}`])('notes nothing when %s fits', (ref) => {
    expect(say(ref)).toHaveLength(1);
  });

  it('names the map file when a rule redirects to another image', () => {
    const map = fromFile({ 'myorg/base:1': 'oci:./dir:tag' });
    expect(describeChoice('myorg/base:1', chooseBase('myorg/base:1', map)!)).toEqual([
      `FROM myorg/base:1: using oci-layout:///maps/dir:tag instead (WASMBOX_BASE_MAP: ${MAP_FILE})`,
    ]);
  });
});

describe('the built-in bases', () => {
  it.each([
    ['python', [['/usr/local/bin/python3', 'python']]],
    ['ruby', [['/usr/local/bin/ruby', 'ruby'], ['/usr/local/bin/irb', 'ruby']]],
    ['shell', []],
  ] as const)('%s: a minimal Linux layout with its interpreter markers', (name, markers) => {
    const tree = builtinTree(name);
    for (const [path, adapter] of markers) {
      const node = tree.get(path);
      expect(node?.kind === 'file' && { adapter: adapterOf(node.data), mode: node.mode }).toEqual({ adapter, mode: 0o755 });
    }
    expect(tree.get('/tmp')).toMatchObject({ kind: 'dir', mode: 0o1777 });
    expect(tree.get('/root')).toMatchObject({ kind: 'dir', mode: 0o700 });
    for (const dir of ['/bin', '/usr/bin', '/usr/local/bin', '/etc']) expect(tree.get(dir)?.kind).toBe('dir');
    const passwd = tree.get('/etc/passwd');
    expect(passwd?.kind === 'file' && new TextDecoder().decode(passwd.data)).toBe('root:x:0:0:root:/root:/bin/sh\n');
  });

  it('links python, python3 and python3.X to one marker', () => {
    const tree = builtinTree('python');
    const [major, minor] = builtinRuntime('python').version.split('.');
    for (const alias of ['python', `python${major}.${minor}`]) expect(tree.get(`/usr/local/bin/${alias}`, false)).toMatchObject({ kind: 'symlink', target: 'python3' });
    expect(tree.get(`/usr/local/lib/python${major}.${minor}/site-packages`)?.kind).toBe('dir');
  });
});
