import { WasmboxError } from '../errors.js';
import { DEFAULT_PLATFORM, parsePlatform } from '../image/platform.js';
import { boxFromRegistry } from '../registry/box.js';
import type { RunFlags } from './run-args.js';
import { parsePullPolicy, registryAccess } from './registry-flags.js';

/**
 * `wasmbox run REF`: the box of a registry image, pulled into the cache and made a box there once
 * (later runs of the same image start from that box). Progress goes to stderr, so stdout stays the guest's.
 */
export async function boxDirForRef(flags: RunFlags): Promise<string> {
  const log = (message: string): void => void process.stderr.write(`wasmbox: ${message}\n`);
  const access = registryAccess({ insecureRegistry: flags.insecureRegistry, pull: flags.pull === undefined ? 'missing' : parsePullPolicy(flags.pull) }, log);
  const platform = flags.platform === undefined ? DEFAULT_PLATFORM : parsePlatform(flags.platform);
  try {
    const { dir } = await boxFromRegistry(flags.box, { access, platform, platformExplicit: flags.platform !== undefined });
    return dir;
  } catch (err) {
    // A bare word is first a directory name: say so when it is not one and no registry has it either.
    if (err instanceof WasmboxError && !/[/:@]/.test(flags.box)) {
      throw new WasmboxError(err.code, err.message, { ...err, cause: err.cause, hint: `there is no box directory named ${flags.box} here either; ${err.hint ?? 'check the name'}` });
    }
    throw err;
  }
}
