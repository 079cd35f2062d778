// The shell's view of the box filesystem (VfsFileSystem): every call the shell's commands make, the
// errors they get (Node-style text and .code), the emulated devices, and the stand-ins for the shell's
// own commands.
import { describe, expect, it } from 'vitest';
import { VfsFileSystem } from '../../../runtime/core/shell/vfs-fs.js';
import { FileNode, SymlinkNode } from '../../../runtime/core/vfs.js';
import { makeBox } from '../exec/box.js';

function setup(options: { isCommand?: (n: string) => boolean; onScriptRead?: (p: string) => string | undefined } = {}) {
  const vfs = makeBox({
    '/etc/motd': { file: 'héllo\n', mode: 0o644 },
    '/bin/tool': { file: '#!/bin/prog\n', mode: 0o755 },
    '/usr/bin/ls': { file: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]) },
    '/data/sub/f': { file: 'f', mode: 0o600 },
    '/link': { symlink: 'data/sub' },
    '/empty': { dir: true },
  });
  return { vfs, fs: new VfsFileSystem(vfs, { owner: { uid: 7, gid: 8 }, ...options }) };
}

const errorOf = async (promise: Promise<unknown>) => promise.then(() => undefined, (err: Error & { code?: string }) => ({ code: err.code, message: err.message }));

describe('VfsFileSystem', () => {
  it('reads text, bytes and encodings', async () => {
    const { fs } = setup();
    expect(await fs.readFile('/etc/motd')).toBe('héllo\n');
    expect(await fs.readFile('/etc/motd', 'base64')).toBe(btoa(String.fromCharCode(...new TextEncoder().encode('héllo\n'))));
    expect(await fs.readFile('/etc/motd', { encoding: 'hex' })).toBe('68c3a96c6c6f0a');
    expect(await fs.readFileBytes('/etc/motd')).toBe('h\xc3\xa9llo\n');
  });

  it('hands out copies, so a command cannot change the box by mutating a buffer', async () => {
    const { fs, vfs } = setup();
    const buf = await fs.readFileBuffer('/etc/motd');
    buf[0] = 0x48;
    expect(new TextDecoder().decode((vfs.get('/etc/motd') as FileNode).bytes())).toBe('héllo\n');
  });

  it('writes and appends as the shell user, through symlinks', async () => {
    const { fs, vfs } = setup();
    await fs.writeFile('/link/new', 'a');
    await fs.appendFile('/data/sub/new', new Uint8Array([0x62]));
    await fs.writeFile('/data/sub/bin', '\xff\x00', 'binary');
    const file = vfs.get('/data/sub/new') as FileNode;
    expect([new TextDecoder().decode(file.bytes()), file.mode, file.uid, file.gid]).toEqual(['ab', 0o644, 7, 8]);
    expect([...(vfs.get('/data/sub/bin') as FileNode).bytes()]).toEqual([0xff, 0]);
  });

  const failures: Array<[string, (fs: VfsFileSystem) => Promise<unknown>, string, string]> = [
    ['read a missing file', (fs) => fs.readFile('/nope'), 'ENOENT', "ENOENT: no such file or directory, open '/nope'"],
    ['read a directory', (fs) => fs.readFile('/data'), 'EISDIR', "EISDIR: is a directory, read '/data'"],
    ['list a file', (fs) => fs.readdir('/etc/motd'), 'ENOTDIR', "ENOTDIR: not a directory, scandir '/etc/motd'"],
    ['stat a missing path', (fs) => fs.stat('/nope/x'), 'ENOENT', "ENOENT: no such file or directory, stat '/nope/x'"],
    ['mkdir over a file', (fs) => fs.mkdir('/etc/motd'), 'EEXIST', "EEXIST: file already exists, mkdir '/etc/motd'"],
    ['rm a full directory without recursive', (fs) => fs.rm('/data'), 'ENOTEMPTY', "ENOTEMPTY: directory not empty, rm '/data'"],
    ['rm a missing path', (fs) => fs.rm('/nope'), 'ENOENT', "ENOENT: no such file or directory, rm '/nope'"],
    ['readlink a file', (fs) => fs.readlink('/etc/motd'), 'EINVAL', "EINVAL: invalid argument, readlink '/etc/motd'"],
    ['cp a directory without recursive', (fs) => fs.cp('/data', '/copy'), 'EISDIR', "EISDIR: is a directory, cp '/data'"],
  ];
  it.each(failures)('fails like Node: %s', async (_, call, code, message) => {
    expect(await errorOf(call(setup().fs))).toEqual({ code, message });
  });

  it('stats with the box modes (permission bits) and types', async () => {
    const { fs } = setup();
    expect(await fs.stat('/data/sub/f')).toMatchObject({ isFile: true, isDirectory: false, mode: 0o600, size: 1 });
    expect(await fs.stat('/link')).toMatchObject({ isDirectory: true, isSymbolicLink: false });
    expect(await fs.lstat('/link')).toMatchObject({ isSymbolicLink: true, size: 8 });
    expect(await fs.readdirWithFileTypes('/')).toEqual(expect.arrayContaining([{ name: 'link', isFile: false, isDirectory: false, isSymbolicLink: true }]));
  });

  it('resolves paths lexically and realpaths through symlinks', async () => {
    const { fs } = setup();
    expect(fs.resolvePath('/a/b', '../c/./d//e')).toBe('/a/c/d/e');
    expect(fs.resolvePath('/a', '/x/../../y')).toBe('/y');
    expect(await fs.realpath('/link/f')).toBe('/data/sub/f');
    expect(await fs.realpath('/link')).toBe('/data/sub');
  });

  it('changes modes, times, links and trees', async () => {
    const { fs, vfs } = setup();
    await fs.chmod('/etc/motd', 0o4755);
    await fs.utimes('/etc/motd', new Date(1000), new Date(2000));
    await fs.link('/etc/motd', '/etc/hard');
    await fs.symlink('motd', '/etc/soft');
    await fs.cp('/data', '/copy', { recursive: true });
    await fs.mv('/copy/sub/f', '/moved');
    await fs.rm('/data', { recursive: true });
    expect((vfs.get('/etc/hard') as FileNode).mode).toBe(0o4755);
    expect(vfs.get('/etc/hard')).toBe(vfs.get('/etc/motd'));
    expect((vfs.get('/etc/motd') as FileNode).mtime).toBe(2_000_000_000n);
    expect((vfs.get('/etc/soft', { follow: false }) as SymlinkNode).target).toBe('motd');
    expect(await fs.readFile('/moved')).toBe('f');
    expect(await fs.exists('/data')).toBe(false);
    expect(fs.getAllPaths()).toEqual(expect.arrayContaining(['/copy/sub', '/moved', '/etc/soft']));
  });

  it('emulates /dev/null, /dev/zero and /dev/urandom', async () => {
    const { fs, vfs } = setup();
    await fs.writeFile('/dev/null', 'gone');
    expect(await fs.readFile('/dev/null')).toBe('');
    expect((await fs.readFileBuffer('/dev/zero')).every((b) => b === 0)).toBe(true);
    expect((await fs.readFileBuffer('/dev/urandom')).some((b) => b !== 0)).toBe(true);
    expect(await fs.stat('/dev/null')).toMatchObject({ isFile: false, isDirectory: false });
    expect(vfs.lookup('/dev').node).toBeUndefined();
  });

  it("stands in for the shell's commands only where the box has nothing", async () => {
    const { fs } = setup({ isCommand: (n) => n === 'cat' || n === 'ls' });
    expect(await fs.exists('/usr/bin/cat')).toBe(true);
    expect(await fs.stat('/bin/cat')).toMatchObject({ isFile: true, mode: 0o755 });
    expect(await fs.readdir('/usr/bin')).toEqual(['ls']);
    expect(await fs.readFileBytes('/usr/bin/ls')).toBe('\x7fELF');
    expect(await fs.exists('/usr/local/bin/cat')).toBe(false);
    expect(await fs.exists('/usr/bin/grep')).toBe(false);
  });

  it('lets the hook replace only plain text reads of executable files', async () => {
    const seen: string[] = [];
    const { fs } = setup({ onScriptRead: (p) => (seen.push(p), 'replaced') });
    expect(await fs.readFile('/bin/tool')).toBe('replaced');
    expect(await fs.readFile('/bin/tool', 'utf8')).toBe('#!/bin/prog\n');
    expect(await fs.readFileBytes('/bin/tool')).toBe('#!/bin/prog\n');
    expect(await fs.readFile('/etc/motd')).toBe('héllo\n');
    expect(seen).toEqual(['/bin/tool']);
  });
});
