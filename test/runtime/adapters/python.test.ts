// `python3` in a box, run by real Pyodide over an in-memory box filesystem. Every case in this file
// shares one loaded interpreter (loading takes ~2 s), which also tests that runs do not leak into each other.
import { describe, expect, it } from 'vitest';
import { DirNode, FileNode, SymlinkNode, Vfs } from '../../../runtime/core/vfs.js';
import { readText, runIn } from './harness.js';

const APP = {
  '/app/app.py': 'import sys, helper\nprint(sys.argv, helper.X)\nsys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)\n',
  '/app/helper.py': 'X = 42\n',
  '/app/boom.py': 'def f():\n    raise ValueError("bad")\nf()\n',
  '/app/pkg/__main__.py': 'import sys\nprint("pkg main", sys.argv)\n',
};

interface Case {
  name: string;
  argv: string[];
  stdin?: string;
  env?: string[];
  cwd?: string;
  code?: number;
  stdout?: string | RegExp;
  stderr?: string | RegExp;
}

const cases: Case[] = [
  { name: 'a script with arguments: argv, a sibling import, the exit code', argv: ['python3', 'app.py', '3'], cwd: '/app', code: 3, stdout: "['app.py', '3'] 42\n" },
  { name: 'a #! script as exec runs it: absolute interpreter and script', argv: ['/usr/local/bin/python3', '/app/app.py', '0'], stdout: "['/app/app.py', '0'] 42\n" },
  { name: '-c with arguments', argv: ['python3', '-c', 'import sys; print(sys.argv)', 'a', '-b'], stdout: "['-c', 'a', '-b']\n" },
  { name: 'option letters bundled with -c', argv: ['python3', '-uBc', 'print(1)'], stdout: '1\n' },
  { name: '-m runs a stdlib module over stdin', argv: ['python3', '-m', 'json.tool'], stdin: '{"a": [1, 2]}', stdout: '{\n    "a": [\n        1,\n        2\n    ]\n}\n' },
  { name: '-m runs a box module found from the cwd', argv: ['python3', '-m', 'helper'], cwd: '/app', stdout: '' },
  { name: 'a directory with __main__.py', argv: ['python3', '/app/pkg', 'z'], stdout: "pkg main ['/app/pkg', 'z']\n" },
  { name: 'the program from stdin', argv: ['python3'], stdin: 'print(6 * 7)\n', stdout: '42\n' },
  { name: '"-" reads the program from stdin and keeps its arguments', argv: ['python3', '-', 'q'], stdin: 'import sys; print(sys.argv)', stdout: "['-', 'q']\n" },
  { name: 'stdin as text', argv: ['python3', '-c', 'import sys; print(repr(sys.stdin.read()))'], stdin: 'line1\nline2\n', stdout: "'line1\\nline2\\n'\n" },
  { name: 'input() reads a line', argv: ['python3', '-c', 'print(input().upper())'], stdin: 'abc\nrest', stdout: 'ABC\n' },
  { name: 'os.environ is exactly the process environment', argv: ['python3', '-c', 'import os; print(sorted(os.environ.items()))'], env: ['A=1', 'PATH=/usr/bin'], stdout: "[('A', '1'), ('PATH', '/usr/bin')]\n" },
  { name: 'HOME from the environment drives expanduser', argv: ['python3', '-c', 'import os; print(os.path.expanduser("~"))'], env: ['HOME=/home/app'], stdout: '/home/app\n' },
  { name: 'the working directory', argv: ['python3', '-c', 'import os; print(os.getcwd())'], cwd: '/app', stdout: '/app\n' },
  { name: 'a missing working directory is created, as docker does', argv: ['python3', '-c', 'import os; print(os.getcwd())'], cwd: '/srv/new', stdout: '/srv/new\n' },
  { name: 'sys.executable is argv[0] found through PATH', argv: ['python3', '-c', 'import sys; print(sys.executable)'], env: ['PATH=/opt/bin:/usr/local/bin'], stdout: '/usr/local/bin/python3\n' },
  { name: 'sys.exit(3)', argv: ['python3', '-c', 'import sys; sys.exit(3)'], code: 3, stdout: '' },
  { name: 'sys.exit() is success', argv: ['python3', '-c', 'import sys; sys.exit()'], code: 0 },
  { name: 'sys.exit("message") prints it and fails', argv: ['python3', '-c', 'import sys; sys.exit("it broke")'], code: 1, stderr: 'it broke\n' },
  { name: 'an uncaught exception: a traceback of the program only, exit 1', argv: ['python3', '/app/boom.py'], code: 1, stderr: /^Traceback \(most recent call last\):\n {2}File "\/app\/boom.py", line 3, in <module>\n[\s\S]*File "\/app\/boom.py", line 2, in f\n[\s\S]*ValueError: bad\n$/ },
  { name: 'a syntax error: no traceback, exit 1', argv: ['python3', '-c', 'def f(:\n  pass'], code: 1, stderr: /^ {2}File "<string>", line 1\n[\s\S]*SyntaxError: invalid syntax\n$/ },
  { name: 'a missing script: exit 2, named like CPython names it', argv: ['python3', '/app/missing.py'], code: 2, stderr: /^python3: can't open file '\/app\/missing.py': \[Errno \d+\] No such file or directory\n$/ },
  { name: 'an unknown option: usage, exit 2', argv: ['python3', '-Z'], code: 2, stderr: /^unknown option -Z\nusage: python3/ },
  { name: 'a missing -c argument', argv: ['python3', '-c'], code: 2, stderr: /^Argument expected for the -c option\n/ },
  { name: '--version', argv: ['python3', '--version'], stdout: /^Python 3\.\d+\.\d+\n$/ },
  { name: 'PYTHONPATH is searched', argv: ['python3', '-c', 'import helper; print(helper.X)'], env: ['PYTHONPATH=/app'], stdout: '42\n' },
  { name: '-I ignores PYTHONPATH', argv: ['python3', '-I', '-c', 'import helper'], env: ['PYTHONPATH=/app'], code: 1, stderr: /ModuleNotFoundError: No module named 'helper'/ },
  { name: 'asyncio.run works without JSPI', argv: ['python3', '-c', 'import asyncio\nasync def m():\n    await asyncio.sleep(0.01)\n    return await asyncio.gather(*(asyncio.sleep(0, i) for i in range(3)))\nprint(asyncio.run(m()))'], stdout: '[0, 1, 2]\n' },
  { name: 'KeyboardInterrupt exits 130', argv: ['python3', '-c', 'raise KeyboardInterrupt'], code: 130, stderr: /KeyboardInterrupt/ },
];

describe('python3 (Pyodide) in a box', () => {
  it.each(cases)('$name', async (c) => {
    const r = await runIn('python', { argv: c.argv, files: APP, stdin: c.stdin, env: c.env, cwd: c.cwd });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: c.code ?? 0, ...(c.stderr === undefined && { stderr: '' }) });
    if (typeof c.stdout === 'string') expect(r.stdout).toBe(c.stdout);
    if (c.stdout instanceof RegExp) expect(r.stdout).toMatch(c.stdout);
    if (typeof c.stderr === 'string') expect(r.stderr).toBe(c.stderr);
    if (c.stderr instanceof RegExp) expect(r.stderr).toMatch(c.stderr);
    expect(r.stderr).not.toContain('_wasmbox');
  });

  it('streams stdout and stderr chunk by chunk, in the order the program wrote them', async () => {
    const r = await runIn('python', { argv: ['python3', '-c', 'import sys\nprint("a")\nprint("b", file=sys.stderr)\nprint("c")'] });
    expect(r.chunks).toEqual([{ stream: 'out', text: 'a\n' }, { stream: 'err', text: 'b\n' }, { stream: 'out', text: 'c\n' }]);
  });

  it('passes bytes through unchanged both ways', async () => {
    const input = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    const r = await runIn('python', { argv: ['python3', '-c', 'import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(bytes(reversed(d)))'], stdin: input });
    expect([...r.stdoutBytes]).toEqual([...input].reverse());
  });

  it('reads, writes, moves and deletes box files through the box filesystem', async () => {
    const vfs = Vfs.empty();
    vfs.mkdir('/app');
    vfs.writeFile('/app/in.txt', new TextEncoder().encode('input data'));
    vfs.writeFile('/app/gone.txt', new Uint8Array(1));
    vfs.writeFile('/app/resize.bin', new Uint8Array(10));
    vfs.mount('/ro', new DirNode(vfs.ino(), 0o755, 0, 0, 0n, () => new Map(), true));
    const program = [
      'import errno, os',
      'data = open("in.txt").read()',
      'with open("/app/out.txt", "w") as f: f.write(data.upper())',
      'with open("/app/out.txt", "a") as f: f.write("!")',
      'os.makedirs("/data/sub")',
      'os.rename("/app/out.txt", "/data/sub/moved.txt")',
      'os.symlink("/data/sub/moved.txt", "/app/link")',
      'os.unlink("/app/gone.txt")',
      'os.chmod("/data/sub/moved.txt", 0o600)',
      'os.utime("/data/sub/moved.txt", (1000, 2000))',
      'os.truncate("/app/resize.bin", 3)',
      'with open("/app/resize.bin", "r+b") as f: f.seek(1); f.write(b"xy")',
      'os.mkdir("/toplevel")',
      'print(open("/app/link").read(), os.readlink("/app/link"), sorted(os.listdir("/app")), os.path.getsize("/data/sub/moved.txt"))',
      'try: open("/ro/x", "w")',
      'except OSError as e: print("ro", e.errno == errno.EROFS)',
    ].join('\n');
    const r = await runIn('python', { argv: ['python3', '-c', program], vfs, cwd: '/app' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("INPUT DATA! /data/sub/moved.txt ['in.txt', 'link', 'resize.bin'] 11\nro True\n");
    expect(readText(vfs, '/data/sub/moved.txt')).toBe('INPUT DATA!');
    const moved = vfs.get('/data/sub/moved.txt') as FileNode;
    expect({ mode: moved.mode, mtime: moved.mtime }).toEqual({ mode: 0o600, mtime: 2000n * 1_000_000_000n });
    expect((vfs.get('/app/link', { follow: false }) as SymlinkNode).target).toBe('/data/sub/moved.txt');
    expect(vfs.lookup('/app/gone.txt').node).toBeUndefined();
    expect([...(vfs.get('/app/resize.bin') as FileNode).bytes()]).toEqual([0, 0x78, 0x79]);
    expect(vfs.get('/toplevel')).toBeInstanceOf(DirNode);
  });

  it('flushes files the program left open before the process ends', async () => {
    const r = await runIn('python', { argv: ['python3', '-c', 'f = open("/tmp/open.txt", "w")\nf.write("unflushed")'], files: { '/tmp/.keep': '' } });
    expect(r.code).toBe(0);
    expect(readText(r.vfs, '/tmp/open.txt')).toBe('unflushed');
  });

  it('starts every run clean: globals, builtins, modules, stdin and closed stdio do not carry over', async () => {
    const vfs = Vfs.empty();
    vfs.mkdir('/app');
    vfs.writeFile('/app/mod.py', new TextEncoder().encode('V = 1\n'));
    const first = 'import builtins, sys, mod\nLEAK = 1\nbuiltins.LEAK2 = 2\nprint(mod.V, sys.stdin.readline().strip())\nsys.stdout.close()';
    expect((await runIn('python', { argv: ['python3', '-c', first], vfs, cwd: '/app', stdin: 'one\ntwo\n' })).code).toBe(0);
    vfs.writeFile('/app/mod.py', new TextEncoder().encode('V = 2\n'));
    const second = 'import builtins, sys, mod\nprint("LEAK" in globals(), hasattr(builtins, "LEAK2"), mod.V, repr(sys.stdin.read()))';
    const r = await runIn('python', { argv: ['python3', '-c', second], vfs, cwd: '/app', stdin: 'three\n' });
    expect(r.stdout).toBe("False False 2 'three\\n'\n");
  });

  it('keeps the interpreter itself out of reach: rebound stdlib globals come back, its /lib is read-only', async () => {
    const tamper = [
      'import errno, json, os, site',
      'json.dumps = lambda *a, **k: "tampered"',
      'try: open(os.path.join(site.getsitepackages()[0], "evil.py"), "w")',
      'except OSError as e: print(e.errno == errno.EROFS)',
    ].join('\n');
    expect((await runIn('python', { argv: ['python3', '-c', tamper] })).stdout).toBe('True\n');
    const after = await runIn('python', { argv: ['python3', '-c', 'import json, importlib.util; print(json.dumps([1]), importlib.util.find_spec("evil"))'] });
    expect(after.stdout).toBe('[1] None\n');
  });

  it('sees only its own box: another Vfs in the same interpreter is another filesystem', async () => {
    const a = await runIn('python', { argv: ['python3', '-c', 'open("/mine.txt", "w").write("a")'] });
    const b = await runIn('python', { argv: ['python3', '-c', 'import os; print(os.path.exists("/mine.txt"), sorted(os.listdir("/")))'] });
    expect(readText(a.vfs, '/mine.txt')).toBe('a');
    expect(b.stdout).toBe("False ['dev', 'lib', 'proc']\n");
  });

  it('os._exit ends the process with its code, and the next process gets a fresh interpreter', async () => {
    const r = await runIn('python', { argv: ['python3', '-c', 'import os; print("bye", flush=True); os._exit(7)'] });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 7, stdout: 'bye\n' });
    const next = await runIn('python', { argv: ['python3', '-c', 'print("alive")'] });
    expect(next.stdout).toBe('alive\n');
  });
});
