import { describe, expect, it } from 'vitest';
import { formatPlatform, normalizePlatform, otherPlatform, parsePlatform, platformRank, requirePlatform, selectPlatform, type Platform } from '../../src/image/platform.js';

// --platform text → normalised os/arch[/variant].
const parsed: [string, string][] = [
  ['linux/amd64', 'linux/amd64'],
  ['linux/x86_64', 'linux/amd64'],
  ['linux/x86-64', 'linux/amd64'],
  ['LINUX/AMD64', 'linux/amd64'],
  ['linux/amd64/v1', 'linux/amd64'],
  ['linux/amd64/v3', 'linux/amd64/v3'],
  ['linux/aarch64', 'linux/arm64'],
  ['linux/arm64/v8', 'linux/arm64'],
  ['linux/arm64/8', 'linux/arm64'],
  ['linux/armhf', 'linux/arm/v7'],
  ['linux/armel', 'linux/arm/v6'],
  ['linux/arm', 'linux/arm/v7'],
  ['linux/arm/6', 'linux/arm/v6'],
  ['linux/i386', 'linux/386'],
  ['wasi/wasm', 'wasi/wasm'],
  ['arm64', 'linux/arm64'],
  ['linux', 'linux/amd64'],
];

describe('parsePlatform', () => {
  it.each(parsed)('%s → %s', (text, want) => {
    expect(formatPlatform(parsePlatform(text))).toBe(want);
  });

  it.each(['', 'linux/', '/amd64', 'linux/arm/v7/x', 'linux/am d64'])('rejects %j', (text) => {
    expect(() => parsePlatform(text)).toThrowError(expect.objectContaining({ code: 'PLATFORM', value: text }));
  });

  it('normalises descriptor platforms the same way', () => {
    expect(normalizePlatform({ os: 'linux', architecture: 'aarch64', variant: 'v8' })).toEqual({ os: 'linux', architecture: 'arm64' });
  });
});

// want, have, rank (undefined = cannot run).
const ranks: [string, string, number | undefined][] = [
  ['linux/amd64', 'linux/amd64', 0],
  ['linux/amd64', 'linux/amd64/v1', 0],
  ['linux/amd64', 'linux/amd64/v2', undefined],
  ['linux/amd64/v3', 'linux/amd64', 2],
  ['linux/arm/v7', 'linux/arm/v6', 1],
  ['linux/arm/v6', 'linux/arm/v7', undefined],
  ['linux/arm64', 'linux/arm64/v8', 0],
  ['linux/amd64', 'linux/arm64', undefined],
  ['linux/amd64', 'windows/amd64', undefined],
  ['wasi/wasm', 'wasi/wasm', 0],
];

describe('platformRank', () => {
  it.each(ranks)('want %s, have %s → %s', (want, have, rank) => {
    expect(platformRank(parsePlatform(want), parsePlatform(have))).toBe(rank);
  });
});

describe('selectPlatform', () => {
  const entries = [
    { id: 'attestation', platform: { os: 'unknown', architecture: 'unknown' } },
    { id: 'amd64', platform: { os: 'linux', architecture: 'amd64' } },
    { id: 'arm-v6', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { id: 'arm-v7', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { id: 'arm64', platform: { os: 'linux', architecture: 'aarch64' } },
    { id: 'bare' },
  ];
  const pick = (want: string) => selectPlatform(entries, parsePlatform(want), 'the test index').id;

  it.each([
    ['linux/amd64', 'amd64'],
    ['linux/arm64', 'arm64'],
    ['linux/arm/v7', 'arm-v7'],
    ['linux/arm/v6', 'arm-v6'],
    ['linux/arm/v8', 'arm-v7'],
  ])('%s → %s', (want, id) => expect(pick(want)).toBe(id));

  it('fails with PLATFORM listing what is offered, without attestations', () => {
    const want: Platform = { os: 'linux', architecture: 's390x' };
    expect(() => selectPlatform(entries, want, 'the test index')).toThrowError(
      expect.objectContaining({ code: 'PLATFORM', value: 'linux/s390x', hint: expect.stringMatching(/^it offers linux\/amd64, linux\/arm\/v6, linux\/arm\/v7, linux\/arm64;/) }),
    );
  });
});

describe('otherPlatform and requirePlatform (a single-manifest image against --platform)', () => {
  it.each([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }, undefined],
    ['linux/amd64', { os: 'linux', architecture: 'x86_64' }, undefined],
    ['linux/arm64', { os: 'linux', architecture: 'aarch64', variant: 'v8' }, undefined],
    ['linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v7' }, undefined],
    ['linux/arm64', { os: 'linux', architecture: 'amd64' }, 'linux/amd64'],
    ['linux/amd64', { os: 'wasi', architecture: 'wasm' }, 'wasi/wasm'],
    ['wasi/wasm', { os: 'linux', architecture: 'arm', variant: 'v6' }, 'linux/arm/v6'],
    ['linux/arm64', {}, undefined],
    ['linux/arm64', { os: 'linux' }, undefined],
  ])('want %s, config %j → %s', (want, config: Partial<Platform>, other) => {
    const have = otherPlatform(config, parsePlatform(want));
    expect(have && formatPlatform(have)).toBe(other);
    if (other === undefined) expect(() => requirePlatform(config, parsePlatform(want), 'img')).not.toThrow();
    else {
      expect(() => requirePlatform(config, parsePlatform(want), 'img')).toThrowError(
        expect.objectContaining({ code: 'PLATFORM', message: `img is a ${other} image, not ${want}`, instruction: '--platform', value: want, hint: expect.stringContaining(`--platform ${other}`) }),
      );
    }
  });
});
