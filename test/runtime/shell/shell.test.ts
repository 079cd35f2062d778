// The built-in shell over a box: sh's command line, scripts over box files, redirections that change the
// box, exit codes, and how box programs are run from inside scripts. Each row runs `sh -c SCRIPT` (or the
// argv given) in a fresh box and checks what came out and, where it matters, what the box holds after.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { launch } from '../../../runtime/core/exec.js';
import { NO_INPUT, collectOutput } from '../../../runtime/core/process.js';
import type { Vfs } from '../../../runtime/core/vfs.js';
import { NATIVE, makeBox, readText, runIn, type BoxEntry } from '../exec/box.js';

const marker = (name: string) => new TextEncoder().encode(`\0wasmbox-adapter:${name}\n`);
const APP_PY = '#!/usr/bin/env python3\nprint("hi")\n';

/** A busybox-style box: a native /bin/sh and /bin/ls, a /usr/bin without coreutils, programs and data. */
function box(extra: Record<string, BoxEntry> = {}): Vfs {
  return makeBox({
    '/bin/busybox': { file: NATIVE.elf },
    '/bin/sh': { symlink: 'busybox' },
    '/bin/ls': { symlink: 'busybox' },
    '/usr/bin': { dir: true },
    '/usr/local/bin/jq': { file: NATIVE.elf },
    '/usr/local/bin/gcc': { file: NATIVE.elf },
    '/usr/local/bin/python3': { file: marker('nope') },
    '/app/app.py': { file: APP_PY },
    '/app/run.sh': { file: '#!/bin/sh\necho "run $# $1"\nexit 5\n' },
    '/app/noexec.sh': { file: 'echo never\n', mode: 0o644 },
    '/app/data/a.txt': { file: 'apple\nbanana\n', mode: 0o644 },
    '/app/data/b.txt': { file: 'cherry\n', mode: 0o640 },
    '/app/bin.gz': { file: new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), mode: 0o644 },
    ...extra,
  });
}

type Expect = { code?: number; stdout?: string | RegExp; stderr?: string | RegExp; files?: Record<string, string>; log?: string[] };

async function check(script: string, expected: Expect, options: { stdin?: string; vfs?: Vfs; argv?: string[] } = {}): Promise<void> {
  const vfs = options.vfs ?? box();
  const ran = await runIn(vfs, options.argv ?? ['/bin/sh', '-c', script], { cwd: '/app', stdin: options.stdin });
  const match = (actual: string, want: string | RegExp | undefined) => {
    if (typeof want === 'string') expect(actual).toBe(want);
    else if (want) expect(actual).toMatch(want);
  };
  match(ran.stdout, expected.stdout);
  match(ran.stderr, expected.stderr);
  expect(ran.code).toBe(expected.code ?? 0);
  for (const [path, text] of Object.entries(expected.files ?? {})) expect(readText(vfs, path)).toBe(text);
  if (expected.log) expect(ran.log.filter((l) => !l.includes('/bin/sh'))).toEqual(expected.log);
}

describe('scripts over box files', () => {
  const cases: Array<[string, string, Expect, string?]> = [
    ['a pipeline', 'cat data/*.txt | sort -r | head -n 2', { stdout: 'cherry\nbanana\n' }],
    ['cd and relative paths', 'cd data && wc -l < a.txt && cat ../data/b.txt && pwd', { stdout: '2\ncherry\n/app/data\n' }],
    ['redirections write into the box', 'echo one > out.txt; echo two >> out.txt; mkdir -p /tmp/x; printf %s 3 > /tmp/x/f', { files: { '/app/out.txt': 'one\ntwo\n', '/tmp/x/f': '3' } }],
    ['cp, mv, ln -s, rm', 'cp data/a.txt c.txt && mv c.txt d.txt && ln -s d.txt e && cat e && rm data/b.txt && ls data', { stdout: 'apple\nbanana\na.txt\n', files: { '/app/d.txt': 'apple\nbanana\n' } }],
    ['the box modes show', 'stat -c %a data/b.txt; chmod 700 data/b.txt; stat -c %a data/b.txt; [ -x run.sh ] && echo x', { stdout: '640\n700\nx\n' }],
    ['a heredoc', 'cat <<EOF\n  $HOME is home\nEOF\ncat <<\'EOF\'\n$HOME\nEOF', { stdout: '  /root is home\n$HOME\n' }],
    ['stdin is piped in', 'tr a-z A-Z; echo done', { stdout: 'PIPED\ndone\n' }, 'piped\n'],
    ['the exit code of the last command', 'true; grep -q zzz data/a.txt', { code: 1 }],
    ['exit', 'echo before; exit 4; echo after', { code: 4, stdout: 'before\n' }],
    ['set -e stops at the first failure', 'set -e; echo a; false; echo b', { code: 1, stdout: 'a\n' }],
    ['pipefail', 'set -o pipefail; false | true; echo $?', { stdout: '1\n' }],
    ['/dev/null', 'echo x > /dev/null; cat /dev/null; ls nope 2>/dev/null; echo $?', { stdout: '2\n' }],
    ['UTF-8 text', 'echo "héllo €"', { stdout: 'héllo €\n' }],
    ['only the box environment', 'env; echo "${HOSTNAME-no hostname}"', { stdout: 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nHOME=/root\nPWD=/app\nno hostname\n' }],
    ['exported variables reach env', 'export A=1; B=2 env | grep -E "^(A|B)="; C=3; env | grep -c ^C=', { stdout: 'A=1\nB=2\n0\n', code: 1 }],
    ['variables reach nested shells only when exported', 'X=1; export Y=2; Z=3 sh -c \'echo "[$X][$Y][$Z]"\'; env W=4 sh -c \'echo "[$W]"\'; unset HOME; sh -c \'echo "[${HOME-unset}]"\'', { stdout: '[][2][3]\n[4]\n[unset]\n' }],
    ['trap is accepted; handlers that cannot run are logged', 'set -e; trap "echo int" INT TERM; trap "rm -f x" EXIT; trap - EXIT; echo ok', { stdout: 'ok\n', log: ['wasmbox: the built-in shell does not run trap handlers for EXIT; ignoring: trap "rm -f x" EXIT'] }],
    ['coreutils exist even though /usr/bin has none', 'echo hi | cat | wc -c', { stdout: '3\n' }],
  ];
  it.each(cases)('%s', (_, script, expected, stdin) => check(script, expected, { stdin }));

  it('writes binary output byte for byte', async () => {
    const out = collectOutput();
    const code = await launch({ argv: ['sh', '-c', 'printf hello | gzip -c'], env: [], cwd: '/app', vfs: box(), stdin: NO_INPUT, stdout: out.sink, stderr: () => {} });
    expect(code).toBe(0);
    expect(gunzipSync(out.bytes()).toString()).toBe('hello');
  });
});

describe("sh's command line", () => {
  const cases: Array<[string, string[], Expect, string?]> = [
    ['-c with $0 and arguments', ['sh', '-c', 'echo "$0|$1|$2|$#"', 'name', 'a b', 'c'], { stdout: 'name|a b|c|2\n' }],
    ['-c without a name: $0 is the shell', ['/bin/sh', '-c', 'echo $0'], { stdout: '/bin/sh\n' }],
    ['option letters before -c', ['sh', '-eu', '-c', 'echo a; false; echo b'], { code: 1, stdout: 'a\n' }],
    ['-o pipefail', ['bash', '-o', 'pipefail', '-c', 'false | true'], { code: 1 }],
    ['-c needs a string', ['sh', '-c'], { code: 2, stderr: 'sh: -c: option requires an argument\n' }],
    ['an unknown option', ['sh', '-Z'], { code: 2, stderr: 'sh: -Z: invalid option\n' }],
    ['a script file with arguments', ['sh', 'run.sh', 'x', 'y'], { code: 5, stdout: 'run 2 x\n' }],
    ['a script without x bit, through sh', ['sh', './noexec.sh'], { stdout: 'never\n' }],
    ['a missing script', ['sh', 'nope.sh'], { code: 127, stderr: 'sh: nope.sh: No such file or directory\n' }],
    ['a directory', ['sh', 'data'], { code: 126, stderr: 'sh: data: Is a directory\n' }],
    ['a binary', ['sh', 'bin.gz'], { code: 126, stderr: 'sh: bin.gz: cannot execute binary file\n' }],
    ['the script on stdin', ['sh'], { stdout: 'from stdin\n' }, 'echo from stdin\n'],
    ['-s with arguments', ['sh', '-s', 'p1'], { stdout: 'p1\n' }, 'echo $1\n'],
    ['nested sh -c and bash -ec', ['sh', '-c', 'sh -c \'echo "in $0 $1"\' n1 a1; bash -ec "false; echo no"; echo "rc=$?"'], { stdout: 'in n1 a1\nrc=1\n' }],
    ['a #!/bin/sh script by path, in the shell itself', ['sh', '-c', './run.sh a b; echo "rc=$?"'], { stdout: 'run 2 a\nrc=5\n' }],
  ];
  it.each(cases)('%s', (_, argv, expected, stdin) => check('', expected, { argv, stdin }));
});

describe('box programs inside scripts', () => {
  const nope = (argv0: string) => `${argv0}: this box names a built-in interpreter "nope" that this wasmbox does not have (it has python, ruby)\n`;
  const cases: Array<[string, string, Expect, Record<string, BoxEntry>?]> = [
    ['an adapter by name goes to launch', 'python3 app.py; echo "rc=$?"', { stdout: 'rc=126\n', stderr: nope('/usr/local/bin/python3') }],
    ['a #!/usr/bin/env script by path goes to launch', './app.py; echo "rc=$?"', { stdout: 'rc=126\n', stderr: nope('python3') }],
    ['a #! script for another interpreter found on PATH', 'PATH=/app:$PATH; app.py', { code: 126, stderr: nope('python3') }],
    ['through xargs and find -exec', 'echo x | xargs python3; find /app -name app.py -exec {} \\; ; echo end', { stdout: 'end\n', stderr: nope('/usr/local/bin/python3') + nope('python3') }],
    ['a box program at /usr/bin/NAME shadows the built-in NAME', 'tree /app', { code: 126, stderr: nope('/usr/bin/tree') }, { '/usr/bin/tree': { file: marker('nope') } }],
    ['native /bin/ls: the built-in ls, logged once', 'ls data; /bin/ls data', { stdout: 'a.txt\nb.txt\na.txt\nb.txt\n', log: ['wasmbox: /bin/ls is a native binary; using the built-in ls'] }],
    ['native jq outside /bin: the built-in jq', 'echo \'{"a":[1,2]}\' | jq -c .a', { stdout: '[1,2]\n', log: ['wasmbox: /usr/local/bin/jq is a native binary; using the built-in jq'] }],
    ['native without a built-in: 126 and the message', 'gcc -v; echo "rc=$?"', { stdout: 'rc=126\n', stderr: 'wasmbox: /usr/local/bin/gcc: native ELF binary; a box runs WebAssembly only (rebuild it for wasm32-wasi, or use a Wasm equivalent)\n' }],
    ['missing: 127', 'nope; echo "rc=$?"', { stdout: 'rc=127\n', stderr: 'bash: nope: command not found\n' }],
    ['not executable: 126', './noexec.sh; echo "rc=$?"', { stdout: 'rc=126\n', stderr: /Permission denied/ }],
    ['#!/bin/sh -e: the option on the #! line applies', './e.sh; echo "rc=$?"', { stdout: 'rc=1\n' }, { '/app/e.sh': { file: '#!/bin/sh -e\nfalse\necho after\n' } }],
    ['a script runs apart from its caller', './s.sh; false; echo "still $X $(pwd)"', { stdout: 'script\nstill  /app\n' }, { '/app/s.sh': { file: '#!/bin/sh\nset -e\nX=in\ncd /\necho script\n' } }],
    ['which and command -v find box programs', 'command -v python3; which ls; PATH=/app:$PATH; which app.py', { stdout: '/usr/local/bin/python3\n/bin/ls\n/app/app.py\n' }],
  ];
  it.each(cases)('%s', (_, script, expected, extra) => check(script, expected, { vfs: box(extra) }));
});

describe('files that are programs read as files', () => {
  // Whatever routes running a program elsewhere must never change what reading it gives.
  const appPy = (s: string) => s.replace(/\$F/g, '/app/app.py');
  const sha = createHash('sha256').update(APP_PY).digest('hex');
  const cases: Array<[string, string, Expect]> = [
    ['cat', 'cat $F', { stdout: APP_PY }],
    ['grep', 'grep -c print $F', { stdout: '1\n' }],
    ['sed', 'sed -n 1p $F', { stdout: '#!/usr/bin/env python3\n' }],
    ['head and wc', 'head -c 11 $F; echo; wc -c < $F', { stdout: `#!/usr/bin/\n${APP_PY.length}\n` }],
    ['sha256sum', 'sha256sum $F', { stdout: `${sha}  /app/app.py\n` }],
    ['$(< file) right after [ -f file ]', '[ -f $F ] && v=$(< $F); printf %s "$v"', { stdout: APP_PY.trimEnd() }],
    ['awk', 'awk "NR==2" $F', { stdout: 'print("hi")\n' }],
    ['cp keeps the bytes', 'mkdir /tmp; cp $F /tmp/copy.py && cmp=$(cat /tmp/copy.py) && [ "$cmp" = "$(cat $F)" ] && echo same', { stdout: 'same\n', files: { '/tmp/copy.py': APP_PY } }],
    ['sed -i edits the real text', 'sed -i s/hi/bye/ $F', { files: { '/app/app.py': APP_PY.replace('hi', 'bye') } }],
    ['source parses it as shell, as bash would', '. $F', { code: 1, stderr: /syntax error/ }],
  ];
  it.each(cases)('%s', (_, script, expected) => check(appPy(script), expected));
});
