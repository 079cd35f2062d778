/**
 * The engine's part of runtime/core (plus given test scripts) as plain JavaScript in a temp dir, for Node processes and
 * threads that cannot load TypeScript through tsx: a permission-restricted process (tsx needs a worker
 * thread) and worker_threads Workers. The layout is kept, so the `.js` relative imports hold, and
 * node_modules is linked so `@wasmer/sdk` resolves.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A transpiled copy: `path(file)` is where a repo-relative `.ts` file's JavaScript is; `remove()` cleans up. */
export function transpileRuntime(scripts: string[]): { path(file: string): string; remove(): void } {
  const out = mkdtempSync(join(tmpdir(), 'wasmbox-js-'));
  const sources = [...walk(join(REPO, 'runtime/core/engines')), ...['process.ts', 'bytes.ts', 'vfs.ts'].map((f) => join(REPO, 'runtime/core', f))];
  for (const file of [...sources, ...scripts.map((s) => join(REPO, s))]) {
    const js = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    const target = join(out, relative(REPO, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js.outputText);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'));
  return {
    path: (file) => join(out, file.replace(/\.ts$/, '.js')),
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) yield* walk(join(dir, entry.name));
    else if (entry.name.endsWith('.ts')) yield join(dir, entry.name);
  }
}
