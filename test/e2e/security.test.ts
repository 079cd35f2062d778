/**
 * A hostile guest (test/fixtures/security-src/escape.c) tries every way out of the box through the real
 * `wasmbox run`: `..` and absolute paths, symlinks pointing out (in the box and in a mounted host directory),
 * writes outside, read-only mounts, the host's environment, sockets, an endless loop, a memory bomb.
 * Each row says what the guest must see instead. Needs clang + wasi-libc; skipped with a reason otherwise.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../helpers/fixtures.js';
import { type Cli, REPO, compileCli } from './cli.js';

const BOX_PASSWD = 'root:x:0:0:box root:/root:/bin/sh\n';
const SECRET = 'wasmbox-host-secret-4242';

let cli: Cli;
let tmp: { dir: string; remove: () => Promise<void> };
let box = '';
let mountDir = '';
let clangError = '';

beforeAll(async () => {
  [cli, tmp] = await Promise.all([compileCli(), scratchDir('wasmbox-security-')]);
  const ctx = join(tmp.dir, 'ctx');
  await mkdir(join(ctx, 'root/etc'), { recursive: true });
  await mkdir(join(ctx, 'root/links'));
  try {
    execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-o', join(ctx, 'escape.wasm'), join(REPO, 'test/fixtures/security-src/escape.c')], { stdio: 'pipe' });
  } catch (err) {
    clangError = String((err as { stderr?: Buffer }).stderr ?? err);
    return;
  }
  await writeFile(join(ctx, 'root/etc/passwd'), BOX_PASSWD);
  await symlink('../../../../../../etc/passwd', join(ctx, 'root/links/up-link'));
  await symlink('/etc/passwd', join(ctx, 'root/links/abs-link'));
  await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY root/ /\nCOPY escape.wasm /bin/escape\nWORKDIR /work\nENTRYPOINT ["/bin/escape"]\n');
  box = join(tmp.dir, 'box');
  const built = await cli.run(['build', '-q', '-o', box, ctx]);
  expect(built.stderr).toBe('');
  mountDir = join(tmp.dir, 'host');
  await mkdir(mountDir);
  await writeFile(join(mountDir, 'data.txt'), 'host data\n');
  await symlink('/etc/passwd', join(mountDir, 'abs-out'));
  await symlink('../../../../../../etc/passwd', join(mountDir, 'up-out'));
}, 120_000);
afterAll(async () => Promise.all([cli?.remove(), tmp?.remove()]));

interface Row {
  name: string;
  args: () => string[];
  env?: Record<string, string>;
  code: number;
  stdout?: RegExp;
  stderr?: RegExp;
  after?: () => void;
}

const ROWS: Row[] = [
  { name: 'absolute path reads the box, not the host', args: () => [box, 'cat', '/etc/passwd'], code: 0, stdout: /^root:x:0:0:box root:/ },
  { name: '.. cannot climb out of the root', args: () => [box, 'cat', '../../../../../../etc/hostname'], code: 1, stdout: /ERR open .*No such file/ },
  { name: 'no /proc of the host', args: () => [box, 'cat', '/proc/self/environ'], code: 1, stdout: /ERR open/ },
  { name: 'a relative symlink pointing out lands in the box', args: () => [box, 'cat', '/links/up-link'], code: 0, stdout: /^root:x:0:0:box root:/ },
  { name: 'an absolute symlink means the box root', args: () => [box, 'cat', '/links/abs-link'], code: 0, stdout: /^root:x:0:0:box root:/ },
  { name: 'a host symlink in a mount resolves inside the guest', args: () => ['-v', `${mountDir}:/mnt`, box, 'cat', '/mnt/abs-out'], code: 0, stdout: /^root:x:0:0:box root:/ },
  { name: 'a host .. symlink in a mount stays inside the guest', args: () => ['-v', `${mountDir}:/mnt`, box, 'cat', '/mnt/up-out'], code: 0, stdout: /^root:x:0:0:box root:/ },
  { name: 'a mount shows its own files', args: () => ['-v', `${mountDir}:/mnt:ro`, box, 'cat', '/mnt/data.txt'], code: 0, stdout: /^host data\n$/ },
  { name: ':ro refuses writes', args: () => ['-v', `${mountDir}:/mnt:ro`, box, 'write', '/mnt/new.txt'], code: 1, stdout: /ERR open \/mnt\/new.txt: Read-only file system/, after: () => expect(existsSync(join(mountDir, 'new.txt'))).toBe(false) },
  { name: 'a read-write mount gets the guest\'s file', args: () => ['-v', `${mountDir}:/mnt`, box, 'write', '/mnt/out.txt'], code: 0, after: () => expect(readFileSync(join(mountDir, 'out.txt'), 'utf8')).toBe('written by the guest\n') },
  { name: 'writes to ../ paths stay in the box', args: () => [box, 'write', '../../../../../../wasmbox-pwned.txt'], code: 0, stdout: /^OK wrote/, after: () => expect(existsSync('/wasmbox-pwned.txt')).toBe(false) },
  { name: 'the host environment is invisible', args: () => [box, 'env'], env: { WASMBOX_TEST_SECRET: SECRET }, code: 0, stdout: /^(?![\s\S]*wasmbox-host-secret)[\s\S]*PATH=/ },
  { name: 'no sockets', args: () => [box, 'sock'], code: 1, stdout: /^sock_accept errno [1-9]\d*\n$/ },
  { name: 'an endless loop ends at --timeout', args: () => ['--timeout', '1', box, 'loop'], code: 124, stderr: /timed out after 1 ?s/ },
  { name: 'a memory bomb ends at --memory', args: () => ['--memory', '32m', box, 'bomb'], code: -1 },
];

describe('a hostile guest stays in its box', () => {
  it.for(ROWS)('$name', async (row, { skip }) => {
    if (clangError) skip(`needs clang with wasi-libc (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32): ${clangError.slice(0, 200)}`);
    const r = await cli.run(['run', ...row.args()], { env: row.env });
    expect(r.stderr + r.stdout).not.toMatch(/^\s+at /m);
    if (row.stdout) expect(r.stdout).toMatch(row.stdout);
    if (row.stderr) expect(r.stderr).toMatch(row.stderr);
    if (row.code >= 0) expect(r.code, r.stderr).toBe(row.code);
    else if (r.code !== 3) {
      // The bomb either sees malloc fail (exit 3, having stayed under the cap) or is ended by the engine.
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(/memory/i);
    } else {
      expect(Number(/after (\d+) MiB/.exec(r.stdout)?.[1])).toBeLessThanOrEqual(32);
    }
    row.after?.();
  }, 60_000);
});
