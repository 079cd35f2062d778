// Which compiler tier `wasmbox run` gives the box's modules (runtime/core/wasm-module.ts says why there is
// a choice): WASMBOX_WASM_TIER, auto by default, and the folder where hot modules are remembered between
// runs, `<cache>/wasm-tier` under the wasmbox cache root (src/build/cache.ts).
import { join } from 'node:path';
import { cacheRoot } from '../build/cache.js';
import { WasmboxError } from '../errors.js';
import type { TierChoice, TierMode } from '../../runtime/hosts/node.js';
import { TIER_MODES } from '../../runtime/hosts/node-tier.js';

/** The run's tier choice from the environment; a USAGE error for a WASMBOX_WASM_TIER that is not a mode. */
export function tierChoice(env: NodeJS.ProcessEnv = process.env): TierChoice {
  const value = env.WASMBOX_WASM_TIER || 'auto';
  if (!(TIER_MODES as readonly string[]).includes(value)) {
    throw new WasmboxError('USAGE', `WASMBOX_WASM_TIER is ${JSON.stringify(value)}, not a compiler tier`, {
      value,
      hint: 'set it to auto (the default: optimised once a module has run long), baseline or optimized, or unset it',
    });
  }
  return { mode: value as TierMode, dir: join(cacheRoot(env), 'wasm-tier') };
}
