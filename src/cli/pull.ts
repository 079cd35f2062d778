import { resolve } from 'node:path';
import { writeImageBox } from '../registry/box.js';
import { parseRegistryRef } from '../registry/reference.js';
import { openRegistryImage } from '../registry/source.js';
import { DEFAULT_PLATFORM, parsePlatform, requirePlatform } from '../image/platform.js';
import { downloadSteps, withProgress } from './progress.js';
import { type RegistryFlags, registryAccess } from './registry-flags.js';

/** The `wasmbox pull` flags, as typed. */
export interface PullFlags extends RegistryFlags {
  ref: string;
  platform?: string;
  quiet: boolean;
  /** `-o DIR`: also write the image as a box there. */
  output?: string;
}

/**
 * `wasmbox pull REF`: resolve the reference (tags are always asked again, as docker pull does), put the
 * manifest, config and every layer into the blob cache, and print the digest.
 */
export async function runPull(flags: PullFlags): Promise<void> {
  const ref = parseRegistryRef(flags.ref);
  const platform = flags.platform === undefined ? DEFAULT_PLATFORM : parsePlatform(flags.platform);
  const result = await withProgress(`Pulling ${ref.canonical}`, flags.quiet, async (report) => {
    const access = { ...registryAccess({ ...flags, pull: flags.pull ?? 'always' }, report.log), onBytes: downloadSteps(report) };
    const image = await openRegistryImage(ref, { ...access, platform, platformExplicit: flags.platform !== undefined });
    if (flags.platform !== undefined) requirePlatform(await image.config(), platform, ref.canonical);
    const downloaded = await image.download();
    if (flags.output !== undefined) {
      report.step(`writing the box to ${flags.output}`);
      await writeImageBox(resolve(flags.output), image, { onLayer: (i, n) => report.step(`flattening layer ${n - i}/${n}`) });
    }
    return { image, downloaded };
  });
  const pinned = `${ref.domain}/${ref.repository}@${result.image.digest}`;
  if (flags.quiet) {
    process.stdout.write(`${pinned}\n`);
    return;
  }
  const layers = (await result.image.layers()).length;
  process.stdout.write(`Digest: ${result.image.digest}\n`);
  process.stdout.write(result.downloaded ? `Status: Downloaded ${result.downloaded} of ${layers} layer(s) for ${ref.canonical}\n` : `Status: Image is up to date for ${ref.canonical}\n`);
  if (flags.output !== undefined) process.stdout.write(`box written to ${flags.output}\n`);
  process.stdout.write(`${pinned}\n`);
}
