// The Node host's optimising tier and its memory of hot modules (the why is at the top of
// runtime/core/wasm-module.ts). V8 fixes a module's tiers when it is compiled, so compiling one with
// TurboFan means turning Liftoff and lazy compilation off around that one compile: V8's flags are
// process-wide and Node documents changing them after start-up as unsupported, so they are changed for
// as short a time as possible and always restored. Hot modules are remembered across processes as one
// empty file per module, named by its sha256, in a folder of the wasmbox cache (the CLI passes
// `<cache>/wasm-tier`); remembering is an optimisation, so no error of it ever reaches a run.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { TierHost } from '../core/wasm-module.js';
import type { TierChoice, TierMode } from './node-channel.js';

export type { TierChoice, TierMode } from './node-channel.js';

/** The tier modes, for parsing a user's choice (`WASMBOX_WASM_TIER` in the CLI). */
export const TIER_MODES: readonly TierMode[] = ['auto', 'baseline', 'optimized'];

const SHA256_HEX = /^[0-9a-f]{64}$/;
// Flags the user gave node on its command line stay as they are (a worker inherits execArgv).
const FLAGS = [
  ['--no-liftoff', '--liftoff'],
  ['--no-wasm-lazy-compilation', '--wasm-lazy-compilation'],
].filter(([off]) => !process.execArgv.includes(off));
let optimizing = 0;

/** Compile `bytes` with TurboFan, every function up front (V8 would compile lazily later functions with the flags of that moment). */
export async function compileOptimized(bytes: Uint8Array): Promise<WebAssembly.Module> {
  // Overlapping compiles share one window: the flags go back when the last one ends.
  if (optimizing++ === 0) for (const [off] of FLAGS) setFlagsFromString(off);
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } finally {
    if (--optimizing === 0) for (const [, on] of FLAGS) setFlagsFromString(on);
  }
}

/** The worker's TierHost for `choice`; modules that prove hot are added to `found` (for the main thread to remember). */
export function nodeTierHost(choice: TierChoice, found: string[]): TierHost | undefined {
  if (choice.mode === 'baseline') return undefined;
  const dir = choice.dir;
  return {
    compileOptimized,
    isHot: (key) => choice.mode === 'optimized' || (dir !== undefined && SHA256_HEX.test(key) && existsSync(join(dir, key))),
    remember: (key) => void (choice.mode === 'auto' && found.push(key)),
  };
}

/** Record `keys` as hot in `dir` (atomically: a reader sees a record or none); errors are ignored. */
export function rememberHot(dir: string, keys: readonly string[]): void {
  for (const key of keys) {
    if (!SHA256_HEX.test(key)) continue; // a record's name is a path: only a digest may become one
    const tmp = join(dir, `.${key}.${process.pid}.tmp`);
    try {
      makeDir(dir, 3);
      writeFileSync(tmp, '');
      renameSync(tmp, join(dir, key));
    } catch {
      // The folder is unwritable, a file, or gone: the module stays baseline next time.
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing was written
      }
    }
  }
}

// Not mkdirSync's `recursive`: on some filesystems (/proc) Node 20's version retries forever.
function makeDir(dir: string, levels: number): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || levels === 0 || dirname(dir) === dir) throw err;
    makeDir(dirname(dir), levels - 1);
    mkdirSync(dir);
  }
}
