import { BlobCache } from '../cache/blob-cache.js';
import { WasmboxError } from '../errors.js';
import { RegistryClient } from '../registry/client.js';
import type { PullPolicy, RegistryAccess } from '../registry/source.js';

/** The registry flags several commands share: `--insecure-registry HOST` (repeatable) and `--pull`. */
export interface RegistryFlags {
  insecureRegistry: string[];
  pull?: PullPolicy;
}

const POLICIES: PullPolicy[] = ['missing', 'always', 'never'];

/** Checks a `--pull` value: missing (default), always or never, as docker run takes them. */
export function parsePullPolicy(value: string, flag = '--pull'): PullPolicy {
  if ((POLICIES as string[]).includes(value)) return value as PullPolicy;
  throw new WasmboxError('USAGE', `${flag} must be missing, always or never`, { instruction: flag, value, hint: 'missing reuses a tag pulled before; always asks the registry; never uses only the cache' });
}

/** Checks `--insecure-registry` values: a host with an optional port, no scheme or path. */
export function parseInsecure(values: string[]): string[] {
  for (const value of values) {
    if (!/^[a-zA-Z0-9.-]+(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/.test(value)) {
      throw new WasmboxError('USAGE', `"${value}" is not a registry host`, { instruction: '--insecure-registry', value, hint: 'write HOST or HOST:PORT, without http:// or a path' });
    }
  }
  return values;
}

/** The client and cache a command pulls through, made from its flags; retries and downloads are logged. */
export function registryAccess(flags: RegistryFlags, log?: (message: string) => void): RegistryAccess {
  const client = new RegistryClient({ insecure: parseInsecure(flags.insecureRegistry), log });
  return { client, cache: BlobCache.open(), pull: flags.pull ?? 'missing', log };
}
