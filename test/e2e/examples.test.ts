/**
 * Every example in examples/ builds with `wasmbox build` and runs with `wasmbox run` through the real CLI,
 * giving the output its README line promises. hello-c needs clang + wasi-libc (examples/hello-c/make.sh).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../helpers/fixtures.js';
import { type Cli, REPO, compileCli } from './cli.js';

let cli: Cli;
let tmp: { dir: string; remove: () => Promise<void> };

const hasClang = (() => {
  try {
    execFileSync('bash', [join(REPO, 'examples/hello-c/make.sh')], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(async () => {
  [cli, tmp] = await Promise.all([compileCli(), scratchDir('wasmbox-examples-')]);
}, 60_000);
afterAll(async () => Promise.all([cli?.remove(), tmp?.remove()]));

interface Case {
  example: string;
  args?: string[];
  code?: number;
  stdout: RegExp[];
  needs?: boolean;
}

const CASES: Case[] = [
  { example: 'hello-c', stdout: [/^hello, world\nrunning in \/work as wasmbox\n$/], needs: hasClang },
  { example: 'hello-c', args: ['--', 'box user', '3'], code: 3, stdout: [/^hello, box user\n/], needs: hasClang },
  { example: 'shell', stdout: [/^apples: 3\npears: 5\nplums: 2\nfruit in stock: 10\n/, /built on \d{4} by RUN/, /files: data\/built.txt data\/fruit.txt/] },
  { example: 'multi-stage', stdout: [/^# multi-stage box\n- apricot\n- mango\n- zucchini\n\(4 lines\)\n$/] },
  { example: 'python', stdout: [/^python 3\.\d+: top words \[\('the', 4\), \('same', 2\), \('in', 2\)\]\n/, /\{"the": 4, "same": 2, "in": 2\}/] },
  { example: 'ruby', stdout: [/^ruby 3\.4\.\d+\n3: box\n4: wasm, node, edge, ruby\n7: browser\nwrote \d+ bytes to \/app\/groups.txt\n$/] },
];

describe('examples build and run', () => {
  const built = new Map<string, Promise<string>>();
  const build = (example: string): Promise<string> => {
    let out = built.get(example);
    if (!out) {
      out = (async () => {
        const dest = join(tmp.dir, example);
        const r = await cli.run(['build', '-q', '-o', dest, join(REPO, 'examples', example)]);
        expect(r.stderr, `build of examples/${example}`).toBe('');
        expect(r.code).toBe(0);
        return dest;
      })();
      built.set(example, out);
    }
    return out;
  };

  it.for(CASES)('$example $args', async ({ example, args = [], code = 0, stdout, needs = true }, { skip }) => {
    if (!needs) skip(`examples/${example} needs clang with wasi-libc (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)`);
    const box = await build(example);
    const r = await cli.run(['run', box, ...args]);
    expect(r.stderr.replace(/^wasmbox: .*substitut.*\n/gm, '')).toBe('');
    for (const pattern of stdout) expect(r.stdout).toMatch(pattern);
    expect(r.code).toBe(code);
  }, 120_000);
});
