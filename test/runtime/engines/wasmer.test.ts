// The WASIX engine against the real @wasmer/sdk 0.16 in Node: stdio, argv, env, cwd, exit codes, the
// box filesystem in and /workspace changes back out, and the checks that keep a broken sdk from passing
// for a silent guest. One sdk client serves the whole file (the engine keeps it while runs follow).
import { afterAll, describe, expect, it } from 'vitest';
import { closeWasmerEngine, runWasmer, TRAP_STATUS } from '../../../runtime/core/engines/wasmer.js';
import { bufferInput, collectOutput, LaunchError, NO_INPUT, type InputSource } from '../../../runtime/core/process.js';
import { DirNode, FileNode, Vfs } from '../../../runtime/core/vfs.js';
import { guests } from './guests.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A small box: files outside and inside /workspace, a symlink, an empty WORKDIR. */
function box(): Vfs {
  const vfs = Vfs.empty();
  vfs.mkdir('/etc', { recursive: true });
  vfs.writeFile('/etc/motd', enc('hello from the box\n'));
  vfs.mkdir('/usr/share/doc', { recursive: true });
  vfs.writeFile('/usr/share/doc/readme', enc('docs\n'));
  vfs.symlink('/usr/share/doc/readme', '/etc/readme-link');
  vfs.mkdir('/workspace/src', { recursive: true });
  vfs.writeFile('/workspace/src/a.txt', enc('A\n'));
  vfs.writeFile('/workspace/old.txt', enc('old\n'));
  vfs.mkdir('/app', { recursive: true });
  return vfs;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  chunks: number;
  vfs: Vfs;
}

async function run(wasm: Uint8Array, args: string[], opts: { vfs?: Vfs; env?: string[]; cwd?: string; stdin?: InputSource; argv0?: string } = {}): Promise<Run> {
  const vfs = opts.vfs ?? box();
  const out = collectOutput();
  const err = collectOutput();
  let chunks = 0;
  const code = await runWasmer(wasm, {
    argv: [opts.argv0 ?? '/usr/bin/guest', ...args], env: opts.env ?? ['HOME=/root'], cwd: opts.cwd ?? '/', vfs,
    stdin: opts.stdin ?? NO_INPUT, stdout: (b) => (chunks++, out.sink(b)), stderr: err.sink,
  });
  return { code, stdout: dec(out.bytes()), stderr: dec(err.bytes()), chunks, vfs };
}

const text = (vfs: Vfs, path: string) => dec((vfs.get(path) as FileNode).bytes());
const exists = (vfs: Vfs, path: string) => vfs.lookup(path, { follow: false }).node !== undefined;

afterAll(() => closeWasmerEngine());

const why = guests.missing;
const flavours = [['wasi', guests.wasi], ['wasix', guests.wasix]] as const;

describe.skipIf(why)(`runWasmer${why ? ` (skipped: ${why})` : ''}`, () => {
  describe.each(flavours)('a %s guest', (_, wasm) => {
    const cases: [string, string[], Partial<Run>][] = [
      ['argv[0] is the program name, the rest verbatim', ['args', 'two words', ''], { stdout: 'argv[0]=guest\nargv[1]=args\nargv[2]=two words\nargv[3]=\n' }],
      ['exit status', ['exit:7'], { code: 7 }],
      ['exit status modulo 256', ['exit:300'], { code: 44 }],
      ['stdout and stderr apart', ['err:to-stderr', 'read:/etc/motd'], { stdout: 'hello from the box\n', stderr: 'to-stderr\n' }],
      ['a box file through a symlink', ['read:/etc/readme-link'], { stdout: 'docs\n' }],
      ['a /workspace file', ['read:/workspace/src/a.txt'], { stdout: 'A\n' }],
      ['a missing file fails like POSIX', ['read:/etc/nope'], { code: 1, stderr: '/etc/nope: No such file or directory\n' }],
    ];
    it.each(cases)('%s', async (_, args, expected) => {
      expect(await run(wasm!, args)).toMatchObject({ code: 0, stdout: '', stderr: '', ...expected });
    });

    it('sees exactly the environment it is given (last value wins), nothing from the host', async () => {
      const r = await run(wasm!, ['env'], { env: ['A=1', 'B=two words', 'EMPTY=', 'A=3'] });
      expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['A=3', 'B=two words', 'EMPTY=']);
    });

    it('reads stdin to the end, across many chunks', async () => {
      const input = enc('0123456789abcdef'.repeat(20_000) + 'end\n');
      const r = await run(wasm!, ['cat'], { stdin: bufferInput(input) });
      expect(r.stdout).toBe(dec(input));
    });

    it('streams a large output in many chunks', async () => {
      const r = await run(wasm!, ['big:4194304']);
      expect(r.stdout.length).toBe(4_194_304);
      expect(r.chunks).toBeGreaterThan(1);
    });

    it('writes, removes and creates under /workspace land in the box', async () => {
      const r = await run(wasm!, ['write:/workspace/new.txt=NEW', 'append:/workspace/src/a.txt=B', 'rm:/workspace/old.txt', 'mkdir:/workspace/empty', 'mkdir:/workspace/d', 'write:/workspace/d/f=F']);
      expect(r.code).toBe(0);
      expect(text(r.vfs, '/workspace/new.txt')).toBe('NEW');
      expect(text(r.vfs, '/workspace/src/a.txt')).toBe('A\nB');
      expect(text(r.vfs, '/workspace/d/f')).toBe('F');
      expect(r.vfs.get('/workspace/empty').kind).toBe('dir');
      expect(exists(r.vfs, '/workspace/old.txt')).toBe(false);
    });

    it('leaves unchanged files as they were (same node, same version)', async () => {
      const vfs = box();
      const before = vfs.get('/workspace/src/a.txt') as FileNode;
      const version = before.version;
      await run(wasm!, ['read:/workspace/src/a.txt'], { vfs });
      expect(vfs.get('/workspace/src/a.txt')).toBe(before);
      expect(before.version).toBe(version);
    });

    it('keeps no writes outside /workspace (the sdk makes them per-command overlays)', async () => {
      const r = await run(wasm!, ['write:/etc/motd=changed', 'read:/etc/motd', 'write:/etc/new=x']);
      // The guest sees its write, but the sdk's overlay ignores O_TRUNC on a file's first write: "changedrom the box".
      expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/^changed/) });
      expect(text(r.vfs, '/etc/motd')).toBe('hello from the box\n');
      expect(exists(r.vfs, '/etc/new')).toBe(false);
    });

    it('reports a trap on stderr with status 134', async () => {
      const r = await run(wasm!, ['trap']);
      expect(r.code).toBe(TRAP_STATUS);
      expect(r.stderr).toMatch(/^wasmbox: \/usr\/bin\/guest: the WebAssembly guest crashed \(.*unreachable.*\)\n$/);
    });

    it('returns 0 for a guest that really runs and says nothing', async () => {
      expect(await run(wasm!, [])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    });
  });

  it('gives a WASIX guest its working directory, created when missing, even empty and outside /workspace', async () => {
    for (const cwd of ['/app', '/workspace/src', '/srv/new/dir']) {
      const r = await run(guests.wasix!, ['cwd', 'write:here.txt=x'], { cwd });
      expect(r).toMatchObject({ code: 0, stdout: `${cwd}\n` });
      expect(r.vfs.get(cwd).kind).toBe('dir');
    }
    const r = await run(guests.wasix!, ['write:out.txt=relative', 'read:../src/a.txt'], { cwd: '/workspace/sub' });
    expect(text(r.vfs, '/workspace/sub/out.txt')).toBe('relative');
    expect(r.stdout).toBe('A\n');
  });

  it('names argv[0] after the program, in the characters the sdk allows for command names', async () => {
    const r = await run(guests.wasi!, ['args'], { argv0: '/opt/my tool@2' });
    expect(r.stdout).toBe('argv[0]=my_tool_2\nargv[1]=args\n');
  });

  it('gives the box a /workspace only when the guest leaves something there', async () => {
    const empty = Vfs.empty();
    await run(guests.wasi!, ['ls:/workspace'], { vfs: empty });
    expect(exists(empty, '/workspace')).toBe(false);
    const r = await run(guests.wasi!, ['mkdir:/workspace/d', 'write:/workspace/d/f=made'], { vfs: Vfs.empty() });
    expect(text(r.vfs, '/workspace/d/f')).toBe('made');
  });

  it('sees changes made to the box between runs, on either side of /workspace', async () => {
    const vfs = box();
    await run(guests.wasi!, ['write:/workspace/step=1'], { vfs });
    vfs.writeFile('/etc/motd', enc('changed by the host\n'));
    vfs.writeFile('/etc/added', enc('added\n'));
    const r = await run(guests.wasi!, ['read:/workspace/step', 'read:/etc/motd', 'read:/etc/added'], { vfs });
    expect(r.stdout).toBe('1changed by the host\nadded\n');
  });

  it('runs overlapping guests on different boxes apart', async () => {
    const [a, b] = await Promise.all([0, 1].map((i) => {
      const vfs = box();
      vfs.writeFile('/etc/motd', enc(`box ${i}\n`));
      return run(guests.wasi!, ['read:/etc/motd', `write:/workspace/who=${i}`], { vfs });
    }));
    expect([a.stdout, b.stdout]).toEqual(['box 0\n', 'box 1\n']);
    expect([text(a.vfs, '/workspace/who'), text(b.vfs, '/workspace/who')]).toEqual(['0', '1']);
  });

  it('reports a change the box refuses (a read-only mount) on stderr and keeps the rest', async () => {
    const vfs = box();
    const file = new FileNode(vfs.ino(), 0o644, 0, 0, 0n, enc('fixed\n'), true);
    vfs.mount('/workspace/ro', new DirNode(vfs.ino(), 0o755, 0, 0, 0n, () => new Map([['f', file]]), true));
    const r = await run(guests.wasi!, ['read:/workspace/ro/f', 'write:/workspace/ro/f=changed', 'write:/workspace/ok=yes'], { vfs });
    expect(r).toMatchObject({ code: 0, stdout: 'fixed\n' });
    expect(r.stderr).toBe("wasmbox: the guest's change to /workspace/ro/f cannot be kept: EROFS: read-only file system, open '/workspace/ro/f'\n");
    expect(text(vfs, '/workspace/ro/f')).toBe('fixed\n');
    expect(text(vfs, '/workspace/ok')).toBe('yes');
  });

  it('refuses a module without _start with exit 126, naming the program', async () => {
    const noStart = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const failure = run(noStart, [], { argv0: '/bin/tool' });
    await expect(failure).rejects.toBeInstanceOf(LaunchError);
    await expect(failure).rejects.toMatchObject({ exitCode: 126, message: expect.stringMatching(/^\/bin\/tool: .*_start/) });
  });
});
