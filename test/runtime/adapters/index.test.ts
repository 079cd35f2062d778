// The adapter entry point: marker files, dispatch, and the rule that each interpreter package is reached
// through one file, loaded only when a process needs it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADAPTER_MAGIC, adapterMarker, adapterOf } from '../../../runtime/core/adapters/index.js';
import { runIn } from './harness.js';

const ROOT = join(import.meta.dirname, '../../..');
const enc = (s: string) => new TextEncoder().encode(s);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Files under runtime/ and src/ that import `pkg` (statically or dynamically). */
function importersOf(pkg: RegExp): string[] {
  return [...sources(join(ROOT, 'runtime')), ...sources(join(ROOT, 'src'))]
    .filter((file) => new RegExp(`(?:from\\s+|import\\()\\s*['"]${pkg.source}`).test(readFileSync(file, 'utf8')))
    .map((file) => relative(ROOT, file));
}

describe('adapter markers', () => {
  it.each([
    [enc(`${ADAPTER_MAGIC}python\n`), 'python'],
    [enc(`${ADAPTER_MAGIC}ruby\nanything after the line`), 'ruby'],
    [enc(`${ADAPTER_MAGIC}ruby`), 'ruby'],
    [adapterMarker('python'), 'python'],
    [enc('#!/bin/sh\n'), undefined],
    [enc('\0wasmbox-adapte'), undefined],
    [new Uint8Array([0, 0x61, 0x73, 0x6d]), undefined],
  ])('%#: %s', (bytes, name) => {
    expect(adapterOf(bytes)).toBe(name);
  });
});

describe('runAdapter', () => {
  it('refuses an interpreter it does not have, as exec refuses what it cannot run', async () => {
    const r = await runIn('perl', { argv: ['/usr/bin/perl', 'x.pl'] });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 126, stderr: '/usr/bin/perl: this box names a built-in interpreter "perl" that this wasmbox does not have (it has python, ruby)\n' });
  });
});

describe('dependency boundaries', () => {
  it.each([
    [/pyodide['"/]/, ['runtime/core/adapters/pyodide.ts']],
    [/@ruby\//, ['runtime/core/adapters/ruby.ts']],
  ])('%s is imported by one adapter file only', (pkg, files) => {
    expect(importersOf(pkg)).toEqual(files);
  });

  it('loads the interpreters lazily: the entry point imports them only dynamically', () => {
    const index = readFileSync(join(ROOT, 'runtime/core/adapters/index.ts'), 'utf8');
    expect(index).not.toMatch(/^import .*\.\/(pyodide|ruby)\.js/m);
    expect(index).toMatch(/await import\('\.\/pyodide\.js'\)/);
  });
});
