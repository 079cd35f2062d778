import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectBox, modeString } from '../../src/box/inspect.js';
import { writeBox } from '../../src/box/pack.js';
import { Tree, dir } from '../../src/fs/tree.js';
import { file, sampleConfig, sampleTree } from './sample-tree.js';

const m = (mode: number, mtime = 1) => ({ mode, uid: 0, gid: 0, mtime });

function smallTree(): Tree {
  const t = new Tree(dir(m(0o755)));
  const sh = file('hi\n', m(0o755));
  t.mkdirp('/bin', m(0o755));
  t.put('/bin/sh', sh);
  t.put('/bin/sh2', sh);
  t.put('/lib', { kind: 'symlink', target: 'usr/lib', ...m(0o777, 2) });
  t.mkdirp('/tmp', { mode: 0o1777, uid: 0, gid: 0, mtime: 3 });
  return t;
}

const GOLDEN_JSON = `[
  {
    "path": "/bin",
    "type": "dir",
    "mode": "0755",
    "uid": 0,
    "gid": 0,
    "size": 0,
    "mtime": 1
  },
  {
    "path": "/bin/sh",
    "type": "file",
    "mode": "0755",
    "uid": 0,
    "gid": 0,
    "size": 3,
    "sha256": "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4",
    "mtime": 1
  },
  {
    "path": "/bin/sh2",
    "type": "hardlink",
    "mode": "0755",
    "uid": 0,
    "gid": 0,
    "size": 3,
    "sha256": "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4",
    "target": "/bin/sh",
    "mtime": 1
  },
  {
    "path": "/lib",
    "type": "symlink",
    "mode": "0777",
    "uid": 0,
    "gid": 0,
    "size": 0,
    "target": "usr/lib",
    "mtime": 2
  },
  {
    "path": "/tmp",
    "type": "dir",
    "mode": "1777",
    "uid": 0,
    "gid": 0,
    "size": 0,
    "mtime": 3
  }
]`;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'wasmbox-inspect-'));
  await writeBox(join(work, 'small'), smallTree(), sampleConfig());
  await writeBox(join(work, 'sample'), sampleTree(), sampleConfig());
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('inspectBox', () => {
  it('--json prints every path below the root, keys in the documented order', async () => {
    expect(await inspectBox(join(work, 'small'), { json: true })).toBe(GOLDEN_JSON);
  });

  it('--json marks setuid and device entries', async () => {
    const list = JSON.parse(await inspectBox(join(work, 'sample'), { json: true })) as { path: string; mode: string; type: string }[];
    expect(list.find((e) => e.path === '/usr/bin/su')).toMatchObject({ type: 'file', mode: '4755' });
    expect(list.find((e) => e.path === '/dev/null')).toMatchObject({ type: 'other', mode: '0666' });
    expect(list.some((e) => e.path === '/')).toBe(false);
  });

  it('prints a config summary and an ls -l style listing', async () => {
    const lines = (await inspectBox(join(work, 'small'), { json: false })).split('\n');
    for (const line of [
      'platform:     wasip1/wasm32',
      'Entrypoint:   ["/bin/sh","-c"]',
      'Cmd:          ["echo hi"]',
      'Env:          PATH=/usr/bin:/bin',
      '              GREETING=hi',
      'WorkingDir:   /home/user',
      'User:         1000:1000',
      'ExposedPorts: 8080/tcp',
      'Volumes:      /data',
      'Labels:       org.opencontainers.image.title=sample',
      `diff_ids:     sha256:${'0'.repeat(64)}`,
      'drwxr-xr-x 0:0 0 /bin',
      '-rwxr-xr-x 0:0 3 /bin/sh',
      '-rwxr-xr-x 0:0 3 /bin/sh2 link to /bin/sh',
      'lrwxrwxrwx 0:0 0 /lib -> usr/lib',
      'drwxrwxrwt 0:0 0 /tmp',
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines.find((l) => l.startsWith('rootfs:'))).toMatch(/^rootfs: {7}6 entries, 3 bytes of file data, sha256:[0-9a-f]{64}$/);
  });

  it('aligns owners and sizes in the listing', async () => {
    const text = await inspectBox(join(work, 'sample'), { json: false });
    expect(text).toContain('\ndrwxr-x--- 1000:1000      0 /home/user\n');
    expect(text).toContain('\n-rwxr-xr-x 0:0           18 /bin/sh\n');
    expect(text).toContain('\n-rw------- 3000000:70000  5 /opt/');
    expect(text).toContain('\n?rw-rw-rw- 0:0            0 /dev/null\n');
  });

  it('fails on a directory that is not a box', async () => {
    await expect(inspectBox(join(work, 'nothing'), { json: true })).rejects.toMatchObject({ code: 'BOX_NOT_FOUND' });
  });
});

describe('modeString', () => {
  it.each([
    ['file', 0o644, '-rw-r--r--'],
    ['file', 0o4755, '-rwsr-xr-x'],
    ['file', 0o4644, '-rwSr--r--'],
    ['file', 0o2755, '-rwxr-sr-x'],
    ['file', 0o2745, '-rwxr-Sr-x'],
    ['dir', 0o1777, 'drwxrwxrwt'],
    ['dir', 0o1776, 'drwxrwxrwT'],
    ['symlink', 0o777, 'lrwxrwxrwx'],
    ['other', 0o600, '?rw-------'],
    ['hardlink', 0, '----------'],
  ] as const)('%s %o → %s', (type, mode, want) => {
    expect(modeString({ type, mode })).toBe(want);
  });
});
