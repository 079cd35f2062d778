// WORKDIR for WASI guests: the same C program built with chdir+getcwd, getcwd only, neither, and
// stripped of its name section, run in /app (runtime/core/wasi/guest-cwd.ts explains each case).
import { describe, expect, it } from 'vitest';
import { FileNode, Vfs } from '../../../runtime/core/vfs.js';
import { preopenDirs } from '../../../runtime/core/wasi/guest-cwd.js';
import { BOX_IMAGE, PROGRAMS_MISSING, run } from './helpers.js';

const lines = (...l: string[]) => l.join('\n') + '\n';

/** What every variant prints about its files when relative paths mean /app. */
const IN_APP = ['fopen x: in app', 'open ./x: in app', 'open sub/y: in sub', 'open /etc/abs: abs file'];
const LISTING_APP = 'opendir .: . .. sub x';

const ROWS: { name: string; program: string; cwd: string; stdout: string }[] = [
  {
    name: 'chdir linked: exact (the engine calls the guest chdir before main)',
    program: 'cwd-chdir',
    cwd: '/app',
    // wasi-libc's chdir("..") keeps the ".." in the string getcwd returns; that is the guest libc's doing.
    stdout: lines('getcwd: /app', ...IN_APP, 'open /x: decoy at root', LISTING_APP, 'created: made here', 'chdir sub: ok', 'getcwd: /app/sub', 'open y: in sub', 'chdir ..: ok', 'getcwd: /app/sub/..'),
  },
  {
    name: 'getcwd but no chdir: relative paths through the "." preopen, getcwd patched',
    program: 'cwd-getcwd',
    cwd: '/app',
    // Known gap: an entry directly under "/" ("/x") resolves in the cwd (see guest-cwd.ts, case 3).
    stdout: lines('getcwd: /app', ...IN_APP, 'open /x: in app', LISTING_APP, 'created: made here'),
  },
  {
    name: 'neither: relative paths through the "." preopen, absolute ones through top-level preopens',
    program: 'cwd-plain',
    cwd: '/app',
    stdout: lines(...IN_APP, 'open /x: in app', LISTING_APP, 'created: made here'),
  },
  {
    name: 'no name section: the guest libc decides, relative paths mean the root',
    program: 'cwd-stripped',
    cwd: '/app',
    stdout: lines(
      'getcwd: /', 'fopen x: decoy at root', 'open ./x: decoy at root', 'open sub/y: ENOENT', 'open /etc/abs: abs file', 'open /x: decoy at root',
      'opendir .: . .. tmp data etc deep app x big big2', 'created: ENOENT', 'chdir sub: ENOENT', 'getcwd: /', 'open y: ENOENT', 'chdir ..: ok', 'getcwd: /..',
    ),
  },
  {
    name: 'cwd "/" needs nothing',
    program: 'cwd-chdir',
    cwd: '/',
    stdout: lines(
      'getcwd: /', 'fopen x: decoy at root', 'open ./x: decoy at root', 'open sub/y: ENOENT', 'open /etc/abs: abs file', 'open /x: decoy at root',
      'opendir .: . .. tmp data etc deep app x big big2', 'created: ENOENT', 'chdir sub: ENOENT', 'getcwd: /', 'open y: ENOENT', 'chdir ..: ok', 'getcwd: /..',
    ),
  },
  {
    name: 'a WORKDIR given with "." and a trailing slash is normalised',
    program: 'cwd-chdir',
    cwd: '/app/./',
    stdout: lines('getcwd: /app', ...IN_APP, 'open /x: decoy at root', LISTING_APP, 'created: made here', 'chdir sub: ok', 'getcwd: /app/sub', 'open y: in sub', 'chdir ..: ok', 'getcwd: /app/sub/..'),
  },
];

describe.skipIf(PROGRAMS_MISSING)(`WASI working directory${PROGRAMS_MISSING ? ` (skipped: ${PROGRAMS_MISSING})` : ''}`, () => {
  it.each(ROWS)('$name ($program in $cwd)', async ({ program, cwd, stdout }) => {
    const r = await run(program, { cwd });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe(stdout);
    expect(r.code).toBe(0);
  });

  it.each(['cwd-chdir', 'cwd-plain'])('creates a missing WORKDIR, as docker does, and writes there (%s)', async (program) => {
    const r = await run(program, { cwd: '/new/app' });
    expect(r.stdout).toMatch(/^(getcwd: \/new\/app\n)?fopen x: missing\n/);
    const created = r.vfs.get('/new/app/created.txt') as FileNode;
    expect(new TextDecoder().decode(created.bytes())).toBe('made here\n');
  });
});

describe('preopenDirs', () => {
  const vfs = Vfs.fromImage(BOX_IMAGE);
  const app = vfs.get('/app') as never;
  const names = (hooks: Parameters<typeof preopenDirs>[2], cwd = app) => preopenDirs(vfs, cwd, hooks).map(([name]) => name);

  it('preopens only the root for guests that take chdir, or whose libc is unknown, or in "/"', () => {
    expect(names({ wasiLibc: true, chdir: true, cwdVar: undefined })).toEqual(['/']);
    expect(names({ wasiLibc: false, chdir: false, cwdVar: undefined })).toEqual(['/']);
    expect(names({ wasiLibc: true, chdir: false, cwdVar: undefined }, vfs.root)).toEqual(['/']);
  });

  it('adds "." and the top-level directories (not files, not names the cwd has) for wasi-libc without chdir', () => {
    const local = Vfs.fromImage(BOX_IMAGE);
    local.mkdir('/app/etc');
    const preopens = preopenDirs(local, local.get('/app') as never, { wasiLibc: true, chdir: false, cwdVar: undefined });
    expect(preopens.map(([name]) => name)).toEqual(['/', '.', '/tmp', '/data', '/deep', '/app', '/big', '/big2']);
    expect(preopens[1][1]).toBe(local.get('/app'));
  });
});
