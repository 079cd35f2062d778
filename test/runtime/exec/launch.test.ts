// launch() end to end in boxes built in memory: what runs, what is printed, the exit code, and what
// wasmbox logs when a built-in stands in for a native program. Wasm cases run a module compiled from
// tool.c with clang, once the WASI engine runs modules.
import { describe, expect, it } from 'vitest';
import { NATIVE, PATH, makeBox, runIn, type BoxEntry } from './box.js';
import { buildWasmTool, wasmEngineMissing } from './wasm-tool.js';

const [tool, engineMissing] = await Promise.all([buildWasmTool(), wasmEngineMissing()]);
const wasmSkip = tool.skip ?? engineMissing;

const NATIVE_MESSAGE = (path: string, format: string) =>
  `wasmbox: ${path}: native ${format} binary; a box runs WebAssembly only (rebuild it for wasm32-wasi, or use a Wasm equivalent)\n`;

describe('launch without Wasm', () => {
  const vfs = makeBox({
    '/usr/bin/gcc': { file: NATIVE.elf },
    '/usr/bin/env': { file: NATIVE.elf },
    '/usr/bin/clang': { file: NATIVE.machoLE64 },
    '/usr/bin/cl.exe': { file: NATIVE.pe },
    '/bin/busybox': { file: NATIVE.elf },
    '/bin/ls': { symlink: 'busybox' },
    '/bin/sh': { symlink: 'busybox' },
    '/usr/local/bin/notes': { file: 'echo\n', mode: 0o644 },
    '/usr/local/bin/ruby9': { file: '' },
    '/usr/local/bin/py': { file: new TextEncoder().encode('\0wasmbox-adapter:nope\n') },
    '/app/script.py': { file: '#!/usr/local/bin/py -u\nprint(1)\n' },
    '/app/hello.sh': { file: '#!/bin/sh\necho "hello $1 from $0"\nexit 7\n' },
    '/app/data/b.txt': { file: 'bee\n', mode: 0o644 },
    '/app/data/a.txt': { file: 'ay\n', mode: 0o644 },
  });
  const cases: Array<[string, string[], { code: number; stdout?: string; stderr?: string | RegExp; log?: string[] }]> = [
    ['native ELF', ['gcc', '-v'], { code: 126, stdout: '', stderr: NATIVE_MESSAGE('/usr/bin/gcc', 'ELF') }],
    ['native Mach-O', ['/usr/bin/clang'], { code: 126, stderr: NATIVE_MESSAGE('/usr/bin/clang', 'Mach-O') }],
    ['native PE', ['cl.exe'], { code: 126, stderr: NATIVE_MESSAGE('/usr/bin/cl.exe', 'PE') }],
    ['missing command', ['nope'], { code: 127, stderr: `wasmbox: nope: command not found (searched PATH: ${PATH})\n` }],
    ['not executable', ['notes'], { code: 126, stderr: /notes: permission denied: the file is not executable \(mode 0644\)/ }],
    ['a directory', ['/app/data'], { code: 126, stderr: 'wasmbox: /app/data: is a directory, not a program\n' }],
    ['native ls: the built-in ls stands in', ['ls', '/app/data'], { code: 0, stdout: 'a.txt\nb.txt\n', log: ['wasmbox: /bin/ls is a native binary; using the built-in ls'] }],
    ['native sh: the built-in shell', ['/bin/sh', '-c', 'echo "$0:$1" && exit 3', 'name', 'one'], { code: 3, stdout: 'name:one\n', log: ['wasmbox: /bin/sh is a native binary; using the built-in shell'] }],
    ['bash missing: the built-in shell, nothing logged', ['bash', '-c', 'echo $((6*7))'], { code: 0, stdout: '42\n', log: [] }],
    ['#!/bin/sh script runs in the built-in shell', ['/app/hello.sh', 'you'], { code: 7, stdout: 'hello you from /app/hello.sh\n' }],
    ['adapter marker goes to runAdapter', ['py', 'x'], { code: 126, stderr: 'py: this box names a built-in interpreter "nope" that this wasmbox does not have (it has python, ruby)\n' }],
    ['#! to an adapter: interpreter, its argument, script, args', ['/app/script.py', 'a'], { code: 126, stderr: /^\/usr\/local\/bin\/py: this box names a built-in interpreter "nope"/ }],
    ['native env lists the environment (and the PWD its shell sets)', ['env'], { code: 0, stdout: `PATH=${PATH}\nHOME=/root\nPWD=/\n`, log: ['wasmbox: /usr/bin/env is a native binary; using the built-in env'] }],
    ['native env runs a command', ['env', 'X=1', 'sh', '-c', 'echo $X'], { code: 0, stdout: '1\n' }],
    ['empty file with x bit: exec format error', ['ruby9'], { code: 126, stderr: /ruby9: exec format error: a text file without a #! line/ }],
  ];
  it.each(cases)('%s', async (_, argv, expected) => {
    const ran = await runIn(vfs, argv);
    expect(ran.code).toBe(expected.code);
    if (expected.stdout !== undefined) expect(ran.stdout).toBe(expected.stdout);
    if (typeof expected.stderr === 'string') expect(ran.stderr).toBe(expected.stderr);
    else if (expected.stderr) expect(ran.stderr).toMatch(expected.stderr);
    if (expected.log) expect(ran.log).toEqual(expected.log);
  });
});

describe.skipIf(wasmSkip !== undefined)(`launch with Wasm modules${wasmSkip ? ` (skipped: ${wasmSkip})` : ''}`, () => {
  const box = (): Record<string, BoxEntry> => ({
    '/usr/local/bin/tool': { file: tool.bytes! },
    '/usr/bin/tool': { file: NATIVE.elf },
    '/app/run': { file: '#!/usr/local/bin/tool args\n' },
    '/app/viaenv': { file: '#!/usr/bin/env -S TOOLVAR=set tool getenv TOOLVAR\n' },
    '/app/tool.wasm': { symlink: '/usr/local/bin/tool' },
    '/app/broken.wasm': { file: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 99, 1, 2]) },
  });
  const cases: Array<[string, string[], { code: number; stdout?: string; stderr?: RegExp }, string?]> = [
    ['PATH lookup runs the first match (the Wasm one)', ['tool', 'args', 'x y'], { code: 0, stdout: 'argc=3 [tool] [args] [x y]\n' }],
    ['a symlink to the module, by relative path', ['./tool.wasm'], { code: 0, stdout: 'argc=1 [./tool.wasm]\n' }],
    ['the exit code comes through', ['tool', 'exit', '9'], { code: 9, stderr: /exiting with 9/ }],
    ['stdin reaches the module', ['tool', 'upper'], { code: 0, stdout: 'PIPED\n' }, 'piped\n'],
    ['#! to a Wasm interpreter: kernel argv', ['./run', 'z'], { code: 0, stdout: 'argc=4 [/usr/local/bin/tool] [args] [./run] [z]\n' }],
    ['#!/usr/bin/env -S with a variable', ['/app/viaenv'], { code: 0, stdout: 'TOOLVAR=set\n' }],
    ['not a valid module: 126', ['./broken.wasm'], { code: 126, stderr: /broken.wasm: not a valid WebAssembly module/ }],
  ];
  it.each(cases)('%s', async (_, argv, expected, stdin) => {
    const ran = await runIn(makeBox(box()), argv, { cwd: '/app', stdin });
    expect(ran.code).toBe(expected.code);
    if (expected.stdout !== undefined) expect(ran.stdout).toBe(expected.stdout);
    if (expected.stderr) expect(ran.stderr).toMatch(expected.stderr);
  });
});
