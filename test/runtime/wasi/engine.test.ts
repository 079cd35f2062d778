// The WASI engine running real C programs (test/fixtures/wasi-src) over a box image: one row per program
// and arguments, with the whole expected output. Programs print each result ("label: ok" or an errno
// name) so a row shows the semantics it checks.
import { describe, expect, it } from 'vitest';
import { GuestError } from '../../../runtime/core/wasi/engine.js';
import { LaunchError, type InputSource } from '../../../runtime/core/process.js';
import { FileNode, Vfs } from '../../../runtime/core/vfs.js';
import { runWasi } from '../../../runtime/core/wasi/engine.js';
import { BOX_BYTES, BOX_IMAGE, PROGRAMS_MISSING, program, programBytes, run, type RunOptions, type RunResult } from './helpers.js';

const lines = (...l: string[]) => l.join('\n') + '\n';

interface Row {
  name: string;
  program: string;
  options?: RunOptions;
  stdout?: string | RegExp;
  stderr?: string | RegExp;
  code?: number;
  error?: { kind: 'trap' | 'memory'; exitCode: number; message: RegExp };
}

const FILES_OUT = lines(
  'create: ok', 'write: 5', 'after append: 17 "hello world world"', 'seek end: 17', 'seek -5 from end: 12', 'read: world',
  'tell: 17', 'seek before start: EINVAL', 'pwrite: 5', 'pread: 5 "HELLO"', 'tell after pread/pwrite: 17',
  'pwrite past end: 21 "HELLO world world000!"', 'ftruncate 5: ok', 'size: 5', 'ftruncate 8: ok', 'extended: 8 "HELLO000"',
  'fstat: reg=1 nlink=1 size=8 ino>0=1', 'futimens: ok', 'times: atime=1000000000 mtime=1234567890', 'utimensat: ok',
  'times: atime=1000000000 mtime=2000000000', 'posix_fallocate: ok', 'size: 100', 'fsync: ok', 'fdatasync: ok', 'posix_fadvise: ok',
  'fcntl F_SETFL O_APPEND: ok', 'F_GETFL has O_APPEND: 1', 'size after append: 101', 'O_EXCL on existing: EEXIST',
  'open missing: ENOENT', 'O_DIRECTORY on file: ENOTDIR', 'open dir for writing: EISDIR', 'missing parent: ENOENT',
  'write to read-only fd: EBADF', 'fd reused: 1', 'many appends: 200000', 'image file after write: 29 "CHANGEDl text from the image\n"',
);

const DIRS_OUT = lines(
  'mkdir /tmp/d: ok', 'mkdir again: EEXIST', 'mkdir /tmp/d/sub: ok', 'mkdir /tmp/e: ok', 'rmdir non-empty: ENOTEMPTY',
  'unlink a directory: EISDIR', 'rmdir a file: ENOTDIR', 'rmdir missing: ENOENT', 'rename across dirs: ok', 'old name: ENOENT',
  'new name: content of a', 'rename over a file: ok', 'replaced: content of b', 'source gone: ENOENT',
  'rename dir over non-empty dir: ENOTEMPTY', 'rename dir into itself: EINVAL', 'rename dir: ok', 'moved/sub is dir: 1',
  'rmdir empty: ok', 'unlink file: ok', 'rmdir now empty: ok',
  // 5000 files f0..f4999 plus "." and ".."; the sum of their numbers is 0+1+...+4999.
  'big: entries=5002 dot=1 dotdot=1 sum=12497500', 'big after rewinddir: entries=5002 dot=1 dotdot=1 sum=12497500',
  'removed while reading: 100', 'rmdir big2: ok',
);

const LINKS_OUT = lines(
  'symlink: ok', 'symlink existing: EEXIST', 'readlink: 10 target.txt', 'readlink short buffer: 4 targ', 'readlink of a file: EINVAL',
  'through link: target text', 'lstat: link=1 size=10', 'stat: reg=1 size=11', 'O_NOFOLLOW on link: ELOOP', 'link: ok',
  'read via first name: shared content', 'nlink: 2', 'same inode: 1', 'unlink first name: ok', 'nlink after unlink: 1',
  'second name survives: shared content', 'link a directory: EPERM',
  // Every way out of the box lands back inside it: ../ stops at the root, absolute targets mean the box root.
  'up and out: box secret', 'dotdot path: box secret', 'absolute target: box secret', 'chain: box secret', 'loop: ELOOP',
  'self loop: ELOOP', 'host passwd: ENOENT', 'host passwd via dotdot: ENOENT', 'through dir link: box secret',
  'root above root is dir: 1', 'symlink dangling: ok', 'created at target: made', 'O_CREAT|O_EXCL new file: ok',
  'O_CREAT|O_EXCL through link: EEXIST', 'unlink symlink: ok', 'target remains: target text',
);

const ROWS: Row[] = [
  { name: 'prints to stdout', program: 'hello', stdout: 'hello, world\n', code: 0 },
  {
    name: 'passes UTF-8 args and env exactly',
    program: 'args-env',
    options: { args: ['héllo', '日本', ''], env: ['A=1', 'B=é=x', 'EMPTY='] },
    stdout: lines('argc=4', 'argv[0]=args-env', 'argv[1]=héllo', 'argv[2]=日本', 'argv[3]=', 'env A=1', 'env B=é=x', 'env EMPTY='),
    code: 0,
  },
  { name: 'exit code returned from main', program: 'exit', options: { args: ['return', '7'] }, stdout: 'mode return\nbuffered\n', code: 7 },
  { name: 'exit code from exit(), stdio flushed', program: 'exit', options: { args: ['exit', '9'] }, stdout: 'mode exit\nbuffered\n', code: 9 },
  { name: 'exit code from _Exit(), stdio not flushed', program: 'exit', options: { args: ['_Exit', '4'] }, stdout: 'mode _Exit\n', code: 4 },
  { name: 'exit codes wrap at 256 as on POSIX', program: 'exit', options: { args: ['exit', '300'] }, code: 44 },
  { name: 'exit(-1) is 255', program: 'exit', options: { args: ['exit', '-1'] }, code: 255 },
  { name: 'proc_raise(SIGTERM) ends with 128+15', program: 'exit', options: { args: ['raise', '15'] }, stdout: 'mode raise\nbuffered\n', code: 143 },
  { name: 'proc_raise(SIGCHLD) is ignored', program: 'exit', options: { args: ['raise', '16'] }, stdout: 'mode raise\nbuffered\nraise 16 returned 0\n', code: 16 },
  { name: 'file create/append/seek/pread/pwrite/truncate/stat/times', program: 'files', stdout: FILES_OUT, code: 0 },
  { name: 'directories: errors, renames, a 5000-entry readdir', program: 'dirs', stdout: DIRS_OUT, code: 0 },
  { name: 'symlinks, hardlinks and escape attempts', program: 'links', stdout: LINKS_OUT, code: 0 },
  { name: 'stdin is copied to stdout', program: 'stdin', options: { stdin: 'line one\nline two\n' }, stdout: 'line one\nline two\n', stderr: 'read 18 bytes\n', code: 0 },
  { name: 'empty stdin is end of input', program: 'stdin', stdout: '', stderr: 'read 0 bytes\n', code: 0 },
  {
    name: 'clocks, nanosleep and poll_oneoff',
    program: 'clock',
    options: { args: [String(Math.floor(Date.now() / 1000))] },
    stdout: lines(
      'realtime within 5s of host: 1', 'monotonic went back: 0', 'getres 0: ok positive=1', 'getres 1: ok positive=1',
      'getres 2: ok positive=1', 'getres 3: ok positive=1', 'nanosleep 50ms: slept>=50 1 not-cpu>=45 1', 'cputime advances when busy: 1',
      'poll three clocks: ok events=1 [id=2 type=0 err=ok] waited>=10ms: 1 under 1000ms: 1',
      'poll expired: ok events=1 [id=4 type=0 err=ok] waited>=0ms: 1 under 900ms: 1',
      'poll bad clock: ok events=1 [id=6 type=0 err=ENOTSUP] waited>=0ms: 1 under 900ms: 1',
      'poll stdin and clock: ok events=1 [id=8 type=1 err=ok] waited>=0ms: 1 under 900ms: 1', 'poll nothing: EINVAL',
    ),
    code: 0,
  },
  { name: 'random_get gives fresh bytes', program: 'random', stdout: /^([0-9a-f]{64})\n(?!\1)[0-9a-f]{64}\ndiffer: 1\n$/, code: 0 },
  { name: 'sockets are absent (ENOTSUP, no host exception)', program: 'sockets', stdout: lines('sock_accept: ENOTSUP', 'sock_recv: ENOTSUP', 'sock_send: ENOTSUP', 'sock_shutdown: ENOTSUP'), code: 0 },
  {
    name: 'fd_renumber, stdio as pipes, directory fds, sched_yield',
    program: 'fdops',
    stdout: lines(
      'renumber a onto b: ok', 'b now reads: one', 'read old a: EBADF', 'renumber b onto itself: ok', 'b still open: ok',
      'renumber onto a closed fd: EBADF', 'renumber a closed fd: EBADF', 'isatty stdin/stdout/stderr: 0 0 0', 'lseek stdout: ESPIPE',
      'fstat stdout: ok', 'open dir: ok', 'read a directory fd: EISDIR', 'openat relative to dir fd: ok', 'sched_yield: ok',
    ),
    code: 0,
  },
  {
    name: 'pointers outside guest memory get EFAULT, never a host exception',
    program: 'hostile',
    stdout: lines(
      'fd_write, iovec array outside memory: EFAULT', 'fd_write, data outside memory: EFAULT', 'open /etc/secret: ok',
      'fd_read into memory outside: EFAULT', 'path_open, path outside memory: EFAULT', 'path_open, result outside memory: EFAULT',
      'fd_readdir into memory outside: EFAULT', 'fd_prestat_dir_name outside: EFAULT', 'clock_time_get result outside: EFAULT',
      'args_get outside: EFAULT', 'fd_filestat_get outside: EFAULT', 'poll_oneoff events outside: EFAULT', 'fd_write to a closed fd: EBADF',
      'path_open on a file fd: ENOTDIR',
    ),
    code: 0,
  },
  {
    name: 'a guest that aborts at the memory limit gets a memory error naming the limit',
    program: 'memory',
    options: { args: ['abort'], memoryLimit: 16 << 20 },
    stdout: 'allocated 15 MiB, then malloc failed\n',
    error: { kind: 'memory', exitCode: 137, message: /^memory ran out of memory: it had used 1\d\.\d MiB of its 16 MiB memory limit when it trapped \("unreachable"\); raise the limit \(--memory\)$/ },
  },
  { name: 'a guest that handles malloc failing exits normally', program: 'memory', options: { args: ['exit'], memoryLimit: 16 << 20 }, stdout: 'allocated 15 MiB, then malloc failed\n', code: 3 },
  { name: 'an imported memory is capped too', program: 'memory-import', options: { args: ['exit'], memoryLimit: 16 << 20 }, stdout: 'allocated 15 MiB, then malloc failed\n', code: 3 },
  { name: 'without a limit memory grows', program: 'memory', options: { args: ['exit', '40'] }, stdout: 'allocated 40 MiB, then stopped\n', code: 0 },
  ...(
    [
      ['unreachable', /^trap crashed: it executed `unreachable` \(abort\(\), a failed assertion or a panic\) in function main$/],
      ['oob', /^trap crashed: it accessed memory out of bounds in function main$/],
      ['divzero', /^trap crashed: it divided an integer by zero in function main$/],
      ['stack', /^trap crashed: its call stack overflowed \(runaway recursion\?\) in function recurse$/],
      ['assert', /^trap crashed: it executed `unreachable` .* in function abort$/],
    ] as const
  ).map(([mode, message]): Row => ({
    name: `trap: ${mode}`,
    program: 'trap',
    options: { args: [mode] },
    stderr: new RegExp(`^about to trap: ${mode}\n`),
    error: { kind: 'trap', exitCode: 134, message },
  })),
];

function expectText(actual: string, expected: string | RegExp | undefined): void {
  if (expected instanceof RegExp) expect(actual).toMatch(expected);
  else if (expected !== undefined) expect(actual).toBe(expected);
}

function expectEnd(r: RunResult, row: Row): void {
  if (row.error) {
    expect(r.error).toBeInstanceOf(GuestError);
    const e = r.error as GuestError;
    expect({ kind: e.kind, exitCode: e.exitCode }).toEqual({ kind: row.error.kind, exitCode: row.error.exitCode });
    expect(e.message).toMatch(row.error.message);
    expect(e.message).not.toMatch(/\n\s+at /);
  } else {
    expect(r.error).toBeUndefined();
    if (row.code !== undefined) expect(r.code).toBe(row.code);
  }
}

describe.skipIf(PROGRAMS_MISSING)(`WASI engine running C programs${PROGRAMS_MISSING ? ` (skipped: ${PROGRAMS_MISSING})` : ''}`, () => {
  it.each(ROWS)('$name ($program)', async (row) => {
    const r = await run(row.program, row.options);
    expectEnd(r, row);
    expectText(r.stdout, row.stdout);
    expectText(r.stderr, row.stderr);
  });

  it('never changes the box image: guest writes are copy-on-write', async () => {
    const before = BOX_BYTES.slice();
    const r = await run('files');
    expect(r.code).toBe(0);
    const changed = r.vfs.get('/data/orig.txt') as FileNode;
    expect(new TextDecoder().decode(changed.bytes())).toBe('CHANGEDl text from the image\n');
    expect(changed.origin).toBeUndefined();
    expect(BOX_BYTES).toEqual(before);
    const fresh = Vfs.fromImage(BOX_IMAGE).get('/data/orig.txt') as FileNode;
    expect(new TextDecoder().decode(fresh.bytes())).toBe('original text from the image\n');
  });

  it('streams stdout per write and reads stdin in the chunks the source gives', async () => {
    const input = new TextEncoder().encode('0123456789abcdef'.repeat(8192));
    let at = 0;
    const trickle: InputSource = { read: (max) => input.subarray(at, (at += Math.min(max, 7))) };
    const chunks: Uint8Array[] = [];
    const vfs = Vfs.fromImage(BOX_IMAGE);
    const code = await runWasi(await program('stdin'), { argv: ['stdin'], env: [], cwd: '/', vfs, stdin: trickle, stdout: (b) => chunks.push(b), stderr: () => {} });
    expect(code).toBe(0);
    // 128 KiB reach the sink in many writes (one per full stdio buffer), not once at exit.
    expect(chunks.length).toBeGreaterThan(8);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(input));
  });

  it('stops a module it could not cap at the next syscall past the limit (soft limit)', async () => {
    const foreign = await WebAssembly.compile(programBytes('memory') as Uint8Array<ArrayBuffer>);
    const spec = { argv: ['memory', 'exit', '40'], env: [], cwd: '/', vfs: Vfs.empty(), stdin: { read: () => new Uint8Array() }, stdout: () => {}, stderr: () => {} };
    const err = await runWasi(foreign, spec, { memoryLimit: 16 << 20 }).catch((e) => e);
    expect(err).toBeInstanceOf(GuestError);
    expect(err).toMatchObject({ kind: 'memory', exitCode: 137 });
    expect(err.message).toMatch(/^memory was stopped: its memory grew to 4\d\.\d MiB, past the memory limit of 16 MiB; raise the limit \(--memory\)$/);
  });

  it('refuses a module whose initial memory is above the limit', async () => {
    const err = await run('hello', { memoryLimit: 64 * 1024 }).then((r) => r.error);
    expect(err).toBeInstanceOf(LaunchError);
    expect(err?.message).toMatch(/^the module needs \d+(\.\d)? MiB of memory to start, more than the memory limit of 0\.1 MiB; raise the limit \(--memory\)$/);
  });

  it('runs warm in well under a millisecond', async () => {
    const module = await program('hello');
    const vfs = Vfs.empty();
    const spec = { argv: ['hello'], env: [], cwd: '/', vfs, stdin: { read: () => new Uint8Array() }, stdout: () => {}, stderr: () => {} };
    for (let i = 0; i < 200; i++) await runWasi(module, spec);
    const n = 1000;
    const start = performance.now();
    for (let i = 0; i < n; i++) await runWasi(module, spec);
    const ms = (performance.now() - start) / n;
    console.log(`warm in-process run of hello.wasm: ${(ms * 1000).toFixed(0)} µs (mean of ${n})`);
    expect(ms).toBeGreaterThan(0);
  });
});

