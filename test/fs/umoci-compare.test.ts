/**
 * Our flatten must produce exactly the root filesystem `umoci unpack` produces, on real images built
 * by scripts/make-fixtures.sh: the small `layers` image that holds every whiteout and link case, and a
 * debootstrap Debian image. Compared: the listing of scripts/list-tree.ts (path, type, mode, owner,
 * size, mtime, target), hardlink groups, and the sha256 of every file.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffListings, listDirectory, listImage, type Listing } from '../../scripts/list-tree.js';
import { fixture, missingReason, scratchDir, umociUnpack, type FixtureName } from '../helpers/fixtures.js';

const FIXTURES: FixtureName[] = ['layers', 'debian'];

function hashDiffs(want: Map<string, string>, have: Map<string, string>, max = 20): string[] {
  const diffs = [...want].filter(([path, h]) => have.get(path) !== h).map(([path]) => `content differs: ${path}`);
  return diffs.slice(0, max);
}

describe.each(FIXTURES)('the %s fixture flattened by wasmbox vs umoci unpack', (name) => {
  const fx = fixture(name);
  const why = missingReason(fx, { umoci: true });
  const note = why ? ` (skipped: ${why})` : '';
  let umoci: Listing;
  let ours: Listing;
  let scratch: Awaited<ReturnType<typeof scratchDir>> | undefined;

  if (why) console.warn(`umoci-compare: skipping the ${name} fixture: ${why}`);

  beforeAll(async () => {
    if (why) return;
    scratch = await scratchDir('umoci-compare-');
    const rootfs = await umociUnpack(fx.path, join(scratch.dir, 'bundle'));
    [umoci, ours] = await Promise.all([listDirectory(rootfs, { hash: true }), listImage(fx.ref, { hash: true })]);
  }, 300_000);
  afterAll(() => scratch?.remove());

  it.skipIf(why)(`lists the same paths, types, modes, owners, sizes, mtimes and targets${note}`, () => {
    expect(umoci.lines.length).toBeGreaterThan(40);
    expect(diffListings(umoci.lines, ours.lines)).toEqual([]);
  });

  it.skipIf(why)(`keeps the same hardlink groups${note}`, () => {
    expect(ours.links).toEqual(umoci.links);
  });

  it.skipIf(why)(`gives every file the same bytes${note}`, () => {
    expect(ours.hashes.size).toBe(umoci.hashes.size);
    expect(hashDiffs(umoci.hashes, ours.hashes)).toEqual([]);
  });
});

// What the `layers` fixture must contain, so the comparison above cannot pass on a fixture that lost
// its cases (or on two equally empty trees). `null` means the path must be absent.
const LONG = `/long/${'d'.repeat(60)}/${'e'.repeat(60)}/${'n'.repeat(120)}.txt`;
const LAYERS_SPOTS: [string, string | null][] = [
  ['/data/gone.txt', null], // file whiteout
  ['/dirgone/a', null], // dir whiteout …
  ['/dirgone/sub', null],
  ['/dirgone', 'dir 0700 0 0 - 1600000301 -'], // … then re-added
  ['/dirgone/fresh', 'file 0644 0 0 25 1600000001 -'],
  ['/opq/old1', null], // opaque dir hides the lower children …
  ['/opq/oldsub', null],
  ['/opq/early', 'file 0644 0 0 31 1600000001 -'], // … but not same-layer ones, before or after the marker
  ['/opq/late', 'file 0644 0 0 30 1600000001 -'],
  ['/readd.txt', 'file 0644 0 0 3 1600000300 -'], // re-added after a whiteout
  ['/f2d', 'dir 0711 0 0 - 1600000002 -'], // file replaced by dir
  ['/d2f', 'file 0644 0 0 23 1600000001 -'], // dir replaced by file
  ['/d2f/child', null],
  ['/d2l', 'symlink - 0 0 - 1600000003 /etc'], // dir replaced by symlink
  ['/d2l/inner', null],
  ['/hl/tobewhited', null],
  ['/hl/doomedlink', 'file 0644 0 0 33 1600000001 -'], // hardlink outlives its whited-out original
  ['/hl2/src', null],
  ['/hl2/dst', 'file 0644 0 0 31 1600000001 -'],
  ['/hl/tolower', 'file 0644 0 0 18 1600000010 -'], // hardlink to a lower-layer file
  ['/modes/setuid', 'file 4755 0 0 2 1600000001 -'],
  ['/modes/both', 'file 6750 0 0 3 1600000001 -'],
  ['/modes/sticky', 'dir 1777 0 0 - 1600000002 -'],
  ['/owners/big', 'file 0644 123456 7 8 1600000001 -'],
  ['/owners/sub', 'dir 0700 33 33 - 1600000002 -'],
  ['/fifo', 'other 0640 0 0 - 1600000020 fifo'],
  ['/dev/null', 'other 0666 0 0 - 1600000021 char'],
  ['/empty', 'file 0644 0 0 0 1600000001 -'],
  ['/epoch0', 'file 0644 0 0 11 0 -'],
  [LONG, 'file 0644 0 0 27 1600000001 -'],
  ['/links/rel', 'symlink - 0 0 - 1600000003 ../etc/passwd'],
  ['/links/abs', 'symlink - 0 0 - 1600000003 /etc/passwd'],
  ['/links/dot', 'symlink - 0 0 - 1600000003 .'],
  ['/links/dangling', 'file 0644 0 0 36 1600000001 -'], // file replaced a dangling symlink
  ['/data', 'dir 0700 2000 2000 - 1600000302 -'], // dir metadata changed by a later entry
  ['/data/inserted.txt', 'file 0644 0 0 25 1600000400 -'], // from `umoci insert` (unpadded, no end blocks)
];

describe('the layers fixture holds every case it is meant to', () => {
  const fx = fixture('layers');
  const why = missingReason(fx);
  let lines: Map<string, string>;
  let listing: Listing;
  beforeAll(async () => {
    if (why) return;
    listing = await listImage(fx.ref, { hash: true });
    lines = new Map(listing.lines.map((l) => [l.slice(0, l.indexOf(' ')), l]));
  }, 60_000);

  it.skipIf(why).each(LAYERS_SPOTS)(`%s → %s${why ? ` (skipped: ${why})` : ''}`, (path, rest) => {
    expect(lines.get(path)).toBe(rest === null ? undefined : `${path} ${rest}`);
  });

  it.skipIf(why)('links a hardlink within a layer and one to a lower layer to the same file', () => {
    expect(listing.links).toEqual(['/hl/orig = /hl/tolower = /hl/within']);
  });

  it.skipIf(why)('takes the re-added file from the newest layer', () => {
    expect(listing.hashes.get('/readd.txt')).toBe(createHash('sha256').update('v3\n').digest('hex'));
  });
});
