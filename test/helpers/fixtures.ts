/**
 * Where the real-image fixtures built by `scripts/make-fixtures.sh` live, whether they were built, and
 * the real tools tests compare against. Tests skip (saying why) instead of failing when a fixture or
 * tool is missing; `.ci/run` builds the fixtures before the tests.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why clang cannot be run here (tests that compile C to wasm32-wasi skip with it), or undefined. */
export const NO_CLANG = (() => {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'clang is not installed (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)';
  }
})();

/** The directory fixtures are built into: `$WASMBOX_FIXTURES`, else test/fixtures/build. */
export const FIXTURES_DIR = process.env.WASMBOX_FIXTURES ?? resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/build');

/**
 * The fixtures make-fixtures.sh builds. `layers-docker`/`layers-oci` are archives of `layers`; `multiarch`
 * (an index: linux/amd64, linux/arm64, linux/arm/v7) and `wasi` (wasi/wasm) are the registry test images.
 */
export type FixtureName = 'layers' | 'debian' | 'layers-docker' | 'layers-oci' | 'multiarch' | 'wasi';

const FILES: Record<FixtureName, { path: string; stamp: string; scheme: string }> = {
  layers: { path: 'layers', stamp: 'layers', scheme: 'oci-layout' },
  debian: { path: 'debian', stamp: 'debian', scheme: 'oci-layout' },
  'layers-docker': { path: 'layers-docker.tar', stamp: 'archives', scheme: 'docker-archive' },
  'layers-oci': { path: 'layers-oci.tar', stamp: 'archives', scheme: 'oci-archive' },
  multiarch: { path: 'multiarch', stamp: 'registry', scheme: 'oci-layout' },
  wasi: { path: 'wasi', stamp: 'registry', scheme: 'oci-layout' },
};

/** A fixture's location, its wasmbox image reference, and whether it was built (its stamp exists). */
export interface Fixture {
  name: FixtureName;
  path: string;
  ref: string;
  built: boolean;
}

/** Looks up a fixture; check `built` (or use `missingReason`) before using it. */
export function fixture(name: FixtureName): Fixture {
  const f = FILES[name];
  const path = join(FIXTURES_DIR, f.path);
  const built = existsSync(join(FIXTURES_DIR, '.stamps', f.stamp)) && existsSync(path);
  const ref = `${f.scheme}://${path}${f.scheme === 'docker-archive' ? '' : ':latest'}`;
  return { name, path, ref, built };
}

/** Why a test using this fixture and umoci cannot run here, or undefined when it can. */
export function missingReason(f: Fixture, needs: { umoci?: boolean } = {}): string | undefined {
  if (!f.built) return `fixture "${f.name}" not built: run scripts/make-fixtures.sh (as root)`;
  if (needs.umoci && !existsSync('/usr/bin/umoci')) return 'umoci is not installed (apt-get install umoci)';
  if (needs.umoci && process.getuid?.() !== 0) return 'umoci unpack keeps owners only as root';
  return undefined;
}

/** A scratch directory in memory when the host has /dev/shm (disk is 5–7× slower for many files). */
export async function scratchDir(prefix = 'wasmbox-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = await mkdtemp(join(base, prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Unpacks `layout:tag` with `umoci unpack` into `bundle`; returns the rootfs path. */
export async function umociUnpack(layout: string, bundle: string, tag = 'latest'): Promise<string> {
  await run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle], { maxBuffer: 64 << 20 });
  return join(bundle, 'rootfs');
}
