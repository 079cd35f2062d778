/**
 * The spec of `wasmbox build`, one folder per case under cases/: a Dockerfile and context files, an
 * optional args.json (see CaseArgs), and either expected.json (config.json without timestamps, and the
 * box's files) or expected-error.txt (the error as the CLI prints it, hint included). Each expectation was checked
 * against BuildKit's behaviour by hand; `UPDATE_GOLDEN=1 npx vitest run test/golden` rewrites them,
 * and a rewritten file is only a spec once it has been checked again.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../helpers/fixtures.js';
import { type CaseArgs, buildCase, errorText, fileRow, prepareContext, render } from './harness.js';

const CASES = join(import.meta.dirname, 'cases');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const names = readdirSync(CASES).sort();

let work: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  work = await scratchDir('wasmbox-golden-');
});
afterAll(async () => work?.remove());

describe('wasmbox build golden cases', () => {
  it.each(names)('%s', async (name) => {
    const caseDir = join(CASES, name);
    const argsFile = join(caseDir, 'args.json');
    const args = (existsSync(argsFile) ? JSON.parse(await readFile(argsFile, 'utf8')) : {}) as CaseArgs;
    const root = await mkdtemp(join(work.dir, `${name}-`));
    const context = join(root, 'context');
    await prepareContext(caseDir, context, args);
    const outcome = await buildCase(context, args, join(root, 'box'));
    const [file, actual] = outcome.ok
      ? ['expected.json', render(outcome.config, outcome.files.map((f) => fileRow(f, outcome.tree)))]
      : ['expected-error.txt', `${errorText(outcome.error).replaceAll(root, '<tmp>')}\n`];
    expect(actual, 'a failure must be a WasmboxError').not.toMatch(/^NOT A WasmboxError/);
    const expectedFile = join(caseDir, file);
    const other = file === 'expected.json' ? 'expected-error.txt' : 'expected.json';
    if (UPDATE) {
      await writeFile(expectedFile, actual);
      await rm(join(caseDir, other), { force: true });
      return;
    }
    expect(existsSync(join(caseDir, other)), `the build ${outcome.ok ? 'succeeded' : `failed: ${actual}`}`).toBe(false);
    expect(actual).toBe(await readFile(expectedFile, 'utf8'));
  });
});
