// argv[0] resolution and `#!` planning, as data: one row per case, each a box, a command and what the
// resolver or planner must answer. Nothing here runs a program.
import { describe, expect, it } from 'vitest';
import { planLaunch, resolveCommand, sniffFormat } from '../../../runtime/core/exec.js';
import { adapterMarker } from '../../../runtime/core/adapters/index.js';
import { NATIVE, PATH, makeBox, type BoxEntry } from './box.js';

const WASM = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

describe('sniffFormat', () => {
  const cases: Array<[string, Uint8Array | string, unknown]> = [
    ['wasm', WASM, { kind: 'wasm' }],
    ['adapter marker', adapterMarker('python'), { kind: 'adapter', adapter: 'python' }],
    ['ELF', NATIVE.elf, { kind: 'native', format: 'ELF' }],
    ['Mach-O 64 big-endian', NATIVE.machoBE64, { kind: 'native', format: 'Mach-O' }],
    ['Mach-O 64 little-endian', NATIVE.machoLE64, { kind: 'native', format: 'Mach-O' }],
    ['Mach-O 32 little-endian', NATIVE.machoLE32, { kind: 'native', format: 'Mach-O' }],
    ['Mach-O fat', NATIVE.fat, { kind: 'native', format: 'Mach-O' }],
    ['Mach-O fat, swapped', NATIVE.fatLE, { kind: 'native', format: 'Mach-O' }],
    ['PE', NATIVE.pe, { kind: 'native', format: 'PE' }],
    ['plain #!', '#!/bin/sh\necho hi\n', { kind: 'script', interpreter: '/bin/sh' }],
    ['#! with blanks and one argument', '#!  /usr/bin/python3   -u  \n', { kind: 'script', interpreter: '/usr/bin/python3', arg: '-u' }],
    ['#! argument is not split', '#!/usr/bin/env -S python3 -u\n', { kind: 'script', interpreter: '/usr/bin/env', arg: '-S python3 -u' }],
    ['#! without a newline', '#!/bin/bash', { kind: 'script', interpreter: '/bin/bash' }],
    ['#! keeps a CR', '#!/bin/sh\r\n', { kind: 'script', interpreter: '/bin/sh\r' }],
    ['text without #!', 'echo hi\n', { kind: 'text' }],
    ['empty file', '', { kind: 'text' }],
    ['binary junk', new Uint8Array([1, 2, 0, 3]), { kind: 'binary' }],
  ];
  it.each(cases)('%s', (_, bytes, expected) => {
    expect(sniffFormat(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes)).toEqual(expected);
  });
});

describe('resolveCommand', () => {
  const box: Record<string, BoxEntry> = {
    '/usr/local/bin/tool': { file: WASM },
    '/usr/bin/tool': { file: NATIVE.elf },
    '/usr/bin/only-usr': { file: WASM },
    '/bin/ls': { symlink: 'busybox' },
    '/bin/busybox': { file: NATIVE.elf },
    '/usr/local/bin/noexec': { file: 'echo\n', mode: 0o644 },
    '/usr/bin/noexec': { file: WASM },
    '/usr/local/bin/private': { file: 'echo\n', mode: 0o644 },
    '/usr/local/bin/adir': { dir: true },
    '/bin/adir': { file: WASM },
    '/app/run.wasm': { file: WASM },
    '/app/sub/x': { file: WASM },
    '/app/link': { symlink: 'sub/x' },
    '/app/up': { symlink: '../../../../bin/busybox' },
    '/app/loop': { symlink: 'loop' },
  };
  const vfs = makeBox(box);
  const where = (env: string[] = [`PATH=${PATH}`], cwd = '/app') => ({ vfs, env, cwd });
  const cases: Array<[string, string, ReturnType<typeof where>, Record<string, unknown>]> = [
    ['PATH order: the first directory wins', 'tool', where(), { found: true, path: '/usr/local/bin/tool' }],
    ['PATH order follows the variable', 'tool', where(['PATH=/usr/bin:/usr/local/bin']), { found: true, path: '/usr/bin/tool' }],
    ['later PATH entries are searched', 'only-usr', where(), { found: true, path: '/usr/bin/only-usr' }],
    ['symlinked executable keeps the name it was found by', 'ls', where(), { found: true, path: '/bin/ls', format: { kind: 'native', format: 'ELF' } }],
    ['a file without x bit is skipped for a later one', 'noexec', where(), { found: true, path: '/usr/bin/noexec' }],
    ['only a file without x bit: permission denied', 'private', where(), { found: false, reason: 'denied', exitCode: 126 }],
    ['directories on PATH are skipped', 'adir', where(), { found: true, path: '/bin/adir' }],
    ['missing: 127 naming the PATH searched', 'nope', where(['PATH=/a:/b']), { found: false, reason: 'missing', exitCode: 127, message: 'wasmbox: nope: command not found (searched PATH: /a:/b)' }],
    ['no PATH: docker default', 'nope', where([]), { found: false, message: `wasmbox: nope: command not found (searched PATH: ${PATH})` }],
    ['absolute path', '/app/run.wasm', where(), { found: true, path: '/app/run.wasm', format: { kind: 'wasm' } }],
    ['relative path against cwd', './run.wasm', where(), { found: true, path: './run.wasm' }],
    ['relative path with a directory', 'sub/x', where(), { found: true, path: 'sub/x' }],
    ['relative path from another cwd', '../app/run.wasm', where(undefined, '/usr'), { found: true }],
    ['a name with / is never looked up on PATH', 'bin/tool', where(undefined, '/'), { found: false, reason: 'missing', exitCode: 127 }],
    ['symlink to a relative target', './link', where(), { found: true, format: { kind: 'wasm' } }],
    ['.. in a symlink stops at the box root', './up', where(), { found: true, format: { kind: 'native', format: 'ELF' } }],
    ['symlink loop: missing', './loop', where(), { found: false, exitCode: 127 }],
    ['a directory by path: 126', '/usr/local/bin/adir', where(), { found: false, reason: 'directory', exitCode: 126 }],
    ['not executable by path: 126', '/usr/local/bin/private', where(), { found: false, reason: 'denied', exitCode: 126 }],
    ['missing path: 127', './nope', where(), { found: false, reason: 'missing', exitCode: 127, message: 'wasmbox: ./nope (from /app): no such file in the box' }],
  ];
  it.each(cases)('%s', (_, name, ctx, expected) => {
    expect(resolveCommand(name, ctx)).toMatchObject(expected);
  });

  it('says how to fix a file without x bit', () => {
    const res = resolveCommand('/usr/local/bin/private', where());
    expect(res.found ? '' : res.message).toBe('wasmbox: /usr/local/bin/private: permission denied: the file is not executable (mode 0644); chmod +x it in the Dockerfile or run it through its interpreter');
  });
});

describe('planLaunch', () => {
  const vfs = makeBox({
    '/usr/bin/wasmtool': { file: WASM },
    '/usr/local/bin/python3': { file: adapterMarker('python') },
    '/usr/bin/env': { file: NATIVE.elf },
    '/app/a.py': { file: '#!/usr/bin/env python3\nprint(1)\n' },
    '/app/s.py': { file: '#!/usr/bin/env -S PYTHONX=1 python3 -u\n' },
    '/app/direct': { file: '#!/usr/local/bin/python3 -u -X dev\n' },
    '/app/chain1': { file: '#!/app/chain2 one\n' },
    '/app/chain2': { file: '#!/usr/bin/wasmtool two\n' },
    '/app/deep1': { file: '#!/app/deep2\n' },
    '/app/deep2': { file: '#!/app/deep3\n' },
    '/app/deep3': { file: '#!/app/deep4\n' },
    '/app/deep4': { file: '#!/app/deep5\n' },
    '/app/deep5': { file: '#!/usr/bin/wasmtool\n' },
    '/app/self': { file: '#!/app/self\n' },
    '/app/sh.sh': { file: '#!/bin/sh\necho\n' },
    '/app/bash.sh': { file: '#!/usr/bin/env bash\necho\n' },
    '/app/bad': { file: '#!/nowhere/interp\n' },
    '/app/crlf': { file: '#!/bin/bash\r\necho\r\n' },
    '/app/envmiss': { file: '#!/usr/bin/env nosuch\n' },
    '/app/envnone': { file: '#!/usr/bin/env\n' },
    '/app/rel': { file: '#!wasmtool\n' },
    '/app/wasmtool': { file: WASM },
    '/app/plain': { file: 'echo hi\n' },
    '/app/junk': { file: new Uint8Array([9, 9, 0, 9]) },
    '/bin/busybox': { file: NATIVE.elf },
    '/bin/sh': { symlink: 'busybox' },
    '/usr/bin/gcc': { file: NATIVE.pe },
  });
  const env = [`PATH=${PATH}`];
  const plan = (argv: string[], cwd = '/app') => planLaunch({ argv, env, cwd, vfs });
  const cases: Array<[string, string[], Record<string, unknown>]> = [
    ['Wasm on PATH', ['wasmtool', 'x'], { run: 'wasm', argv: ['wasmtool', 'x'], path: '/usr/bin/wasmtool' }],
    ['adapter marker', ['python3', '-c', 'pass'], { run: 'adapter', adapter: 'python', argv: ['python3', '-c', 'pass'] }],
    ['#!/usr/bin/env NAME goes through PATH', ['./a.py', 'arg'], { run: 'adapter', argv: ['python3', './a.py', 'arg'] }],
    ['env -S splits words and sets variables', ['/app/s.py'], { run: 'adapter', argv: ['python3', '-u', '/app/s.py'], env: [...env, 'PYTHONX=1'] }],
    ['the #! argument stays one word', ['./direct', 'a'], { run: 'adapter', argv: ['/usr/local/bin/python3', '-u -X dev', './direct', 'a'] }],
    ['chained interpreters', ['./chain1', 'z'], { run: 'wasm', argv: ['/usr/bin/wasmtool', 'two', '/app/chain2', 'one', './chain1', 'z'] }],
    ['four levels of #! are allowed', ['./deep2'], { run: 'wasm' }],
    ['five levels are too many', ['./deep1'], { run: 'fail', exitCode: 126, message: 'wasmbox: /app/deep5: too many levels of #! interpreters (more than 4)' }],
    ['a script that is its own interpreter', ['./self'], { run: 'fail', exitCode: 126 }],
    ['#!/bin/sh with a native sh: built-in shell', ['./sh.sh', 'a'], { run: 'shell', argv: ['/bin/sh', './sh.sh', 'a'] }],
    ['#!/usr/bin/env bash with no bash: built-in shell', ['./bash.sh'], { run: 'shell', argv: ['bash', './bash.sh'] }],
    ['sh on PATH pointing at native busybox', ['sh', '-c', 'x'], { run: 'shell', native: '/bin/sh', argv: ['sh', '-c', 'x'] }],
    ['bash missing from the box', ['/bin/bash', '-c', 'x'], { run: 'shell', native: undefined }],
    ['a sh outside the bin directories is not a shell', ['./sh'], { run: 'fail', exitCode: 127 }],
    ['bad interpreter', ['./bad'], { run: 'fail', exitCode: 126, message: 'wasmbox: ./bad: bad interpreter in "#!/nowhere/interp": /nowhere/interp: no such file in the box' }],
    ['CRLF line endings are named', ['./crlf'], { run: 'fail', exitCode: 126 }],
    ['env NAME missing: 127', ['./envmiss'], { run: 'fail', exitCode: 127 }],
    ['env with no program', ['./envnone'], { run: 'fail', exitCode: 126 }],
    ['a relative interpreter is opened against the cwd, not PATH', ['./rel'], { run: 'wasm', path: './wasmtool', argv: ['wasmtool', './rel'] }],
    ['text without #!: exec format error', ['./plain'], { run: 'fail', exitCode: 126 }],
    ['unknown binary: exec format error', ['./junk'], { run: 'fail', exitCode: 126 }],
    ['native binary', ['gcc'], { run: 'native', name: 'gcc', path: '/usr/bin/gcc', format: 'PE' }],
    ['missing command', ['nope'], { run: 'fail', exitCode: 127 }],
  ];
  it.each(cases)('%s', (_, argv, expected) => {
    expect(plan(argv)).toMatchObject(expected);
  });

  it('tells CRLF scripts apart from missing interpreters', () => {
    const p = plan(['./crlf']);
    expect(p.run === 'fail' && p.message).toContain('Windows line endings');
  });
});
