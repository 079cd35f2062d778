import { fail } from '../errors.js';

/** A target platform as the OCI config and index descriptors spell it. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The platform builds target when `--platform` is not given. */
export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/** Architecture aliases, to the name and implied variant containerd normalises them to. */
const ARCH_ALIASES: Record<string, [string, string?]> = {
  i386: ['386'],
  x86_64: ['amd64'],
  'x86-64': ['amd64'],
  aarch64: ['arm64'],
  armhf: ['arm', 'v7'],
  armel: ['arm', 'v6'],
};

/** The variant an architecture means when none is written; equal variants compare equal. */
const DEFAULT_VARIANT: Record<string, string> = { amd64: 'v1', arm64: 'v8', arm: 'v7' };

/** Architectures containerd knows by name, so a bare one (`arm64`) can stand for `linux/arm64`. */
const KNOWN_ARCHS = new Set(['386', 'amd64', 'arm', 'arm64', 'wasm', 'loong64', 'mips', 'mips64', 'mips64le', 'mipsle', 'ppc64', 'ppc64le', 'riscv64', 's390x', ...Object.keys(ARCH_ALIASES)]);

/** Parses `os/arch[/variant]` (or a bare known arch, meaning linux); throws `PLATFORM`. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length === 1 && KNOWN_ARCHS.has(parts[0])) {
    return normalizePlatform({ os: 'linux', architecture: parts[0] });
  }
  if (parts.length === 1 && parts[0] === 'linux') return DEFAULT_PLATFORM;
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    fail('PLATFORM', `"${text}" is not a platform`, { value: text, instruction: '--platform', hint: 'write os/arch[/variant], e.g. linux/amd64 or linux/arm/v7' });
  }
  const [os, architecture, variant] = parts;
  return normalizePlatform({ os, architecture, ...(variant !== undefined && { variant }) });
}

/** A platform with containerd's spellings: amd64, arm64, arm/v7; default variants dropped. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase() === 'macos' ? 'darwin' : p.os.toLowerCase();
  const [architecture, implied] = ARCH_ALIASES[p.architecture.toLowerCase()] ?? [p.architecture.toLowerCase()];
  let variant = (p.variant ?? implied ?? '').toLowerCase();
  if (/^\d+$/.test(variant)) variant = `v${variant}`;
  if (variant === '' && architecture === 'arm') variant = 'v7';
  if (variant === DEFAULT_VARIANT[architecture] && architecture !== 'arm') variant = '';
  return { os, architecture, ...(variant !== '' && { variant }) };
}

/** `os/arch[/variant]`, the form users write. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * How well a candidate runs on `want`: 0 is exact, higher is an older compatible variant
 * (arm/v7 runs arm/v6, amd64/v3 runs amd64/v2), undefined is unusable.
 */
export function platformRank(want: Platform, have: Platform): number | undefined {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return undefined;
  const wv = variantLevel(w);
  const hv = variantLevel(h);
  if (wv === undefined || hv === undefined) return w.variant === h.variant ? 0 : undefined;
  return hv <= wv ? wv - hv : undefined;
}

function variantLevel(p: Platform): number | undefined {
  const v = p.variant ?? DEFAULT_VARIANT[p.architecture];
  const m = v === undefined ? undefined : /^v(\d+)$/.exec(v);
  return m ? Number(m[1]) : undefined;
}

/** The best entry of an index for `want`; throws `PLATFORM` listing the platforms on offer. */
export function selectPlatform<T extends { platform?: Platform }>(entries: T[], want: Platform, what: string): T {
  let best: T | undefined;
  let bestRank = Infinity;
  for (const entry of entries) {
    const rank = entry.platform && platformRank(want, entry.platform);
    if (rank !== undefined && rank < bestRank) [best, bestRank] = [entry, rank];
  }
  if (best) return best;
  const offered = entries.flatMap((e) => (e.platform && e.platform.os !== 'unknown' ? [formatPlatform(normalizePlatform(e.platform))] : []));
  return fail('PLATFORM', `${what} has no image for ${formatPlatform(want)}`, {
    value: formatPlatform(want),
    hint: offered.length ? `it offers ${[...new Set(offered)].join(', ')}; pass one with --platform` : 'its index names no platforms',
  });
}

/**
 * The platform an image's config declares when it is not `want` (its os or architecture differ), else
 * undefined; also undefined when the config names none. Index entries are chosen by platform already;
 * this catches an image that is a single manifest for another platform.
 */
export function otherPlatform(config: Partial<Platform>, want: Platform): Platform | undefined {
  if (!config.os || !config.architecture) return undefined;
  const have = normalizePlatform({ os: config.os, architecture: config.architecture, variant: config.variant });
  const w = normalizePlatform(want);
  return have.os === w.os && have.architecture === w.architecture ? undefined : have;
}

/** Refuses (`PLATFORM`) an image of another platform than the one `--platform` asked for, as docker pull does. */
export function requirePlatform(config: Partial<Platform>, want: Platform, what: string): void {
  const have = otherPlatform(config, want);
  if (!have) return;
  fail('PLATFORM', `${what} is a ${formatPlatform(have)} image, not ${formatPlatform(want)}`, {
    value: formatPlatform(want),
    instruction: '--platform',
    hint: `it is one image, not an index of platforms: drop --platform, or pass --platform ${formatPlatform(have)}, to use it`,
  });
}

/** The platform a box is: what `wasmbox push` declares, and what pulls prefer when the index offers it. */
export const WASM_PLATFORM: Platform = { os: 'wasi', architecture: 'wasm' };

/**
 * The entry of an index to use. Unless the user named a platform, a `wasi/wasm` entry wins (it runs
 * in a box as is); otherwise, and when there is none, the best entry for `want` (see selectPlatform).
 */
export function selectImagePlatform<T extends { platform?: Platform }>(entries: T[], want: Platform, what: string, explicit: boolean): T {
  if (!explicit) {
    const wasm = entries.find((e) => e.platform && platformRank(WASM_PLATFORM, e.platform) !== undefined);
    if (wasm) return wasm;
  }
  return selectPlatform(entries, want, what);
}
