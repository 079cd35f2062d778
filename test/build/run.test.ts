/**
 * RUN with real guests, through `build()`: the built-in shell for shell form, exec form and heredocs, and
 * Wasm programs compiled with clang. Each row is a Dockerfile, and what the built filesystem must then
 * hold (`path kind mode uid:gid "content"` lines), must not hold, or the error the build must stop with.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from '../../runtime/core/exec.js';
import { NO_INPUT } from '../../runtime/core/process.js';
import { Vfs } from '../../runtime/core/vfs.js';
import { diskCache } from '../../src/build/cache.js';
import { WasmboxError } from '../../src/errors.js';
import { contentBytes } from '../../src/fs/spill.js';
import type { Node, Tree } from '../../src/fs/tree.js';
import { scratchDir } from '../helpers/fixtures.js';
import { type TestBuild, buildIn, counting, sandboxReady } from './run-helpers.js';

const notReady = await sandboxReady();
const EPOCH = 1_700_000_000;
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';

let work: { dir: string; remove: () => Promise<void> };
let n = 0;
beforeAll(async () => {
  work = await scratchDir('wasmbox-run-');
});
afterAll(async () => work?.remove());

async function context(files: Record<string, string> = {}): Promise<string> {
  const dir = join(work.dir, `ctx-${++n}`);
  await mkdir(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

interface Case {
  dockerfile: string;
  files?: Record<string, string>;
  buildArgs?: Record<string, string>;
  /** Lines the listing must contain. */
  has?: string[];
  /** Paths that must not exist. */
  absent?: string[];
  /** The start of the error, as the CLI prints it. */
  error?: string;
  history?: string[];
}

const CASES: [string, Case][] = [
  ['echo into a file', { dockerfile: 'RUN echo hi > /f', has: ['/f file 644 0:0 "hi\\n"'] }],
  ['mkdir -p and touch', { dockerfile: 'RUN mkdir -p /a/b && touch /a/b/c', has: ['/a dir 755 0:0', '/a/b dir 755 0:0', '/a/b/c file 644 0:0 ""'] }],
  ['rm a copied file', { dockerfile: 'COPY x /etc/x\nCOPY x /etc/y\nRUN rm /etc/x', files: { x: 'x' }, has: ['/etc/y file 644 0:0 "x"'], absent: ['/etc/x'] }],
  ['rm -r a directory', { dockerfile: 'COPY d /d\nRUN rm -r /d/sub', files: { 'd/sub/f': 'f', 'd/keep': 'k' }, has: ['/d/keep file 644 0:0 "k"'], absent: ['/d/sub', '/d/sub/f'] }],
  ['chmod', { dockerfile: 'COPY x /x\nRUN chmod 700 /x', files: { x: 'x' }, has: ['/x file 700 0:0 "x"'] }],
  ['symlinks', { dockerfile: 'RUN echo x > /f && ln -s /f /link && ln -s f /rel', has: ['/link symlink 777 0:0 "/f"', '/rel symlink 777 0:0 "f"'] }],
  ['ENV and ARG values are the environment; ARGs stay out of the config', {
    dockerfile: 'ARG A=1\nARG V\nENV B=2\nRUN echo "$A $B $V" > /env', buildArgs: { V: 'cli' }, has: ['/env file 644 0:0 "1 2 cli\\n"'],
    history: ['ARG A=1', 'ARG V=cli', 'ENV B=2', 'RUN |2 A=1 V=cli /bin/sh -c echo "$A $B $V" > /env # buildkit'],
  }],
  ['an undeclared build-arg is not visible', { dockerfile: 'RUN echo "[$SECRET]" > /env', buildArgs: { SECRET: 's' }, has: ['/env file 644 0:0 "[]\\n"'] }],
  ['PATH defaults as in BuildKit', { dockerfile: 'RUN echo "$PATH" > /p', has: ['/p file 644 0:0 "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\\n"'] }],
  ['WORKDIR is the working directory', { dockerfile: 'WORKDIR /w\nRUN pwd > out', has: ['/w/out file 644 0:0 "/w\\n"'] }],
  ['a relative WORKDIR that does not exist yet is made', { dockerfile: 'ENV D=/made\nWORKDIR $D/here\nRUN echo . > x', has: ['/made/here/x file 644 0:0 ".\\n"'] }],
  ['USER owns what RUN creates', {
    dockerfile: 'COPY passwd /etc/passwd\nWORKDIR /home/app\nUSER app\nRUN echo x > mine && mkdir sub\nUSER 1234:55\nRUN echo y > other', files: { passwd: PASSWD },
    has: ['/home/app dir 755 0:0', '/home/app/mine file 644 1000:1000 "x\\n"', '/home/app/sub dir 755 1000:1000', '/home/app/other file 644 1234:55 "y\\n"'],
  }],
  ['USER with a name not in /etc/passwd', { dockerfile: 'USER nobody\nRUN true', error: 'error: Dockerfile:3: USER: no user "nobody" in the box\'s /etc/passwd' }],
  ['a bare heredoc is the script', { dockerfile: 'RUN <<EOF\necho a > /h\necho b >> /h\nEOF', has: ['/h file 644 0:0 "a\\nb\\n"'], history: ['RUN /bin/sh -c echo a > /h\necho b >> /h\n # buildkit'] }],
  ['a heredoc the shell reads', { dockerfile: 'RUN cat <<EOF > /h\nline $HOME\nEOF', has: ['/h file 644 0:0 "line /root\\n"'] }],
  ['a heredoc fed to another shell', { dockerfile: 'RUN <<EOF bash\necho via-bash > /h\nEOF', has: ['/h file 644 0:0 "via-bash\\n"'] }],
  ['a #! heredoc runs from /dev/pipes, which stays out of the box', {
    dockerfile: 'RUN <<EOF\n#!/bin/sh\necho "$0" > /h\nEOF', has: ['/h file 644 0:0 "/dev/pipes/EOF\\n"'], absent: ['/dev'], history: ['RUN /bin/sh -c /dev/pipes/EOF # buildkit'],
  }],
  ['SHELL changes the shell of later RUNs', { dockerfile: 'RUN echo $0 > /a\nSHELL ["/bin/bash", "-c"]\nRUN echo $0 > /b', has: ['/a file 644 0:0 "/bin/sh\\n"', '/b file 644 0:0 "/bin/bash\\n"'] }],
  ['exec form', { dockerfile: 'RUN ["/bin/sh", "-c", "echo exec $HOME > /e"]', has: ['/e file 644 0:0 "exec /root\\n"'], history: ['RUN /bin/sh -c echo exec $HOME > /e # buildkit'] }],
  ['a failing command stops the build with its exit code and stderr', {
    dockerfile: 'COPY x /x\nRUN echo to-stdout; echo oops >&2; exit 2', files: { x: 'x' },
    error: 'error: Dockerfile:3: RUN echo to-stdout; echo oops >&2; exit 2: exit code 2\n  | oops\n  hint: the command failed',
  }],
  ['only the last 20 lines of stderr are shown', {
    dockerfile: 'RUN for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do echo line$i >&2; done; exit 1',
    error: `exit code 1\n${Array.from({ length: 20 }, (_, i) => `  | line${i + 6}`).join('\n')}\n  hint:`,
  }],
  ['a missing program is exit code 127', { dockerfile: 'RUN nosuchcmd --flag', error: 'error: Dockerfile:2: RUN nosuchcmd --flag: exit code 127\n  | bash: nosuchcmd: command not found\n  hint: the program was not found' }],
  ['a bind mount of the context is read-only and not in the box', {
    dockerfile: 'RUN --mount=target=/ctx cat /ctx/a.txt > /copied', files: { 'a.txt': 'from context' }, has: ['/copied file 644 0:0 "from context"'], absent: ['/ctx'],
  }],
  ['writing to a read-only bind mount fails', { dockerfile: 'RUN --mount=target=/ctx touch /ctx/new', files: { 'a.txt': 'a' }, error: 'error: Dockerfile:2: RUN --mount=target=/ctx touch /ctx/new: exit code 1\n  | touch: cannot touch \'/ctx/new\': EROFS' }],
  ['removing from a read-only bind mount fails', { dockerfile: 'RUN --mount=target=/ctx rm /ctx/a.txt', files: { 'a.txt': 'a' }, error: 'exit code 1\n  | rm: cannot remove \'/ctx/a.txt\': EROFS' }],
  ['a read-write bind mount takes writes and drops them', {
    dockerfile: 'RUN --mount=type=bind,source=sub,target=/src,rw echo new > /src/new && cat /src/new /src/old > /seen', files: { 'sub/old': 'old\n' },
    has: ['/seen file 644 0:0 "new\\nold\\n"'], absent: ['/src'],
  }],
  ['a tmpfs mount starts empty and is dropped', {
    dockerfile: 'COPY x /tmp/x\nRUN --mount=type=tmpfs,target=/tmp ls /tmp > /listed; echo y > /tmp/y', files: { x: 'x' }, has: ['/listed file 644 0:0 ""', '/tmp/x file 644 0:0 "x"'], absent: ['/tmp/y'],
  }],
  ['a cache mount directory gets the mode asked for', {
    dockerfile: 'RUN --mount=type=cache,target=/c,uid=1000,gid=1001,mode=0700 stat -c "%a" /c > /st', has: ['/st file 644 0:0 "700\\n"'], absent: ['/c'],
  }],
  ['a cache mount starts from another stage', {
    dockerfile: 'RUN mkdir /s && echo seeded > /s/f\nFROM scratch\nRUN --mount=type=cache,target=/c,from=0,source=/s cat /c/f > /got', has: ['/got file 644 0:0 "seeded\\n"'],
  }],
  ['a bind mount from an earlier stage', {
    dockerfile: 'RUN echo built > /out\nFROM scratch\nRUN --mount=from=0,source=/out,target=/in cat /in > /got', has: ['/got file 644 0:0 "built\\n"'], absent: ['/out', '/in'],
  }],
];

describe.skipIf(notReady)(`RUN with the built-in shell${notReady ? ` (skipped: ${notReady})` : ''}`, () => {
  it.each(CASES)('%s', async (_name, c) => {
    const dir = await context(c.files);
    const run = buildIn(dir, { dockerfile: `FROM scratch\n${c.dockerfile}\n`, buildArgs: c.buildArgs, epoch: EPOCH });
    if (c.error) {
      const err = await run.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WasmboxError);
      expect((err as WasmboxError).format()).toContain(c.error);
      return;
    }
    const built = await run;
    const lines = listing(built.tree);
    for (const line of c.has ?? []) expect(lines).toContain(line);
    for (const path of c.absent ?? []) expect(built.tree.get(path, false), `${path} should not exist`).toBeUndefined();
    if (c.history) expect(built.config.history?.map((h) => h.created_by)).toEqual(c.history);
  });

  it('runs an ONBUILD RUN trigger in the stage built on it', async () => {
    const built = await buildIn(await context(), { dockerfile: 'FROM scratch AS base\nONBUILD RUN echo triggered > /t\nFROM base\nRUN cat /t > /seen\n', epoch: EPOCH });
    expect(text(built.tree, '/seen')).toBe('triggered\n');
  });

  it('keeps hardlinks made by RUN', async () => {
    const built = await buildIn(await context(), { dockerfile: 'FROM scratch\nRUN echo x > /f && ln /f /hard\n', epoch: EPOCH });
    expect(built.tree.get('/hard')).toBe(built.tree.get('/f'));
  });

  it('streams the output to the build log', async () => {
    const built = await buildIn(await context(), { dockerfile: 'FROM scratch\nRUN echo out; echo err >&2\n' });
    expect(built.output).toBe('out\nerr\n');
  });

  it('the second build of an unchanged Dockerfile runs nothing and writes the same bytes', async () => {
    const dir = await context({ 'a.txt': 'a' });
    const cacheDir = join(work.dir, `cache-${++n}`);
    const spec = (launcher: TestBuild['launcher'], epoch?: number): TestBuild => ({
      dockerfile: 'FROM scratch\nCOPY a.txt /\nRUN echo one >> /log\nRUN cat /a.txt >> /log; date > /when\n', launcher, cache: diskCache(cacheDir), epoch,
    });
    const first = counting();
    const one = await buildIn(dir, spec(first));
    const second = counting();
    const two = await buildIn(dir, spec(second));
    expect([first.runs.length, second.runs.length]).toEqual([2, 0]);
    expect(two.diffId).toBe(one.diffId);
    expect(two.cached).toHaveLength(2);
  });

  it('with SOURCE_DATE_EPOCH, two uncached builds are byte-identical', async () => {
    const dir = await context();
    const spec: TestBuild = { dockerfile: 'FROM scratch\nRUN mkdir -p /a/b && echo x > /a/b/c && ln -s c /a/b/l\n', epoch: EPOCH, noCache: true };
    const one = await buildIn(dir, spec);
    await new Promise((r) => setTimeout(r, 1100));
    const two = await buildIn(dir, spec);
    expect(two.diffId).toBe(one.diffId);
    expect((one.tree.get('/a/b/c') as Node).mtime).toBe(EPOCH);
  });

  it('a cache mount keeps what the shell wrote for the next build', async () => {
    const dir = await context();
    const cache = diskCache(join(work.dir, `cache-${++n}`));
    const df = (tag: string) => `FROM scratch\nRUN --mount=type=cache,target=/var/cache/x echo ${tag} >> /var/cache/x/log && cat /var/cache/x/log > /seen\n`;
    await buildIn(dir, { dockerfile: df('one'), cache });
    const two = await buildIn(dir, { dockerfile: df('two'), cache });
    expect(text(two.tree, '/seen')).toBe('one\ntwo\n');
    expect(two.tree.get('/var', false)).toBeUndefined();
  });
});

const C_TOOL = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* tool ops: make, move, remove and link files, as a build step would. */
static int ops(void) {
  if (mkdir("/made", 0755) != 0) { perror("mkdir"); return 1; }
  if (rename("/data/old.txt", "/made/new.txt") != 0) { perror("rename"); return 1; }
  if (unlink("/data/gone.txt") != 0) { perror("unlink"); return 1; }
  if (symlink("new.txt", "/made/link") != 0) { perror("symlink"); return 1; }
  FILE *f = fopen("/data/keep.txt", "a");
  if (!f) { perror("append"); return 1; }
  fputs("appended\\n", f);
  fclose(f);
  return 0;
}
int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "ops") == 0) return ops();
  if (argc < 3) { fprintf(stderr, "usage: tool FILE CODE\\n"); return 64; }
  FILE *f = fopen(argv[1], "w");
  if (!f) { perror(argv[1]); return 1; }
  const char *v = getenv("VALUE");
  fprintf(f, "%s\\n", v ? v : "(unset)");
  fclose(f);
  printf("wrote %s\\n", argv[1]);
  fprintf(stderr, "tool says bye\\n");
  return atoi(argv[2]);
}
`;

/** Compiles the C tool with clang and checks the WASI engine runs it; the reason to skip when either cannot. */
async function compileTool(): Promise<{ bytes?: Buffer; skip?: string }> {
  if (!existsSync('/usr/bin/clang') && !existsSync('/usr/local/bin/clang')) return { skip: 'clang is not installed (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)' };
  const tmp = await scratchDir('wasmbox-run-tool-');
  try {
    await writeFile(join(tmp.dir, 'tool.c'), C_TOOL);
    execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-o', join(tmp.dir, 'tool.wasm'), join(tmp.dir, 'tool.c')]);
    const bytes = await readFile(join(tmp.dir, 'tool.wasm'));
    // While the WASI engine is still a stub (its helper is writing it), skip instead of failing.
    const vfs = Vfs.empty();
    vfs.writeFile('/tool', bytes, { mode: 0o755 });
    let err = '';
    const code = await launch({ argv: ['/tool', '/probe', '0'], env: [], cwd: '/', vfs, stdin: NO_INPUT, stdout: () => {}, stderr: (b) => (err += new TextDecoder().decode(b)) })
      .catch((e: Error) => (err = e.message, -1));
    if (code !== 0 && /not yet|Cannot find module/.test(err)) return { skip: `the WASI engine cannot run modules yet (${err.trim()})` };
    return { bytes };
  } finally {
    await tmp.remove();
  }
}

const compiled = notReady ? { skip: notReady } : await compileTool();

/** A context holding the compiled tool. */
async function toolContext(): Promise<string> {
  const dir = await context();
  await writeFile(join(dir, 'tool'), compiled.bytes!);
  return dir;
}

describe.skipIf(compiled.skip)(`RUN with a Wasm guest${compiled.skip ? ` (skipped: ${compiled.skip})` : ''}`, () => {
  it.each([
    ['exec form', 'RUN ["/usr/bin/tool", "/out", "0"]', '/out file 644 0:0 "from-env\\n"'],
    ['shell form through PATH', 'RUN tool /out 0', '/out file 644 0:0 "from-env\\n"'],
    ['as a user', 'USER 1000:1000\nWORKDIR /home\nRUN tool out 0', '/home/out file 644 1000:1000 "from-env\\n"'],
  ])('%s', async (_name, line, want) => {
    const built = await buildIn(await toolContext(), { dockerfile: `FROM scratch\nCOPY --chmod=755 tool /usr/bin/tool\nENV VALUE=from-env\n${line}\n`, epoch: EPOCH });
    expect(listing(built.tree)).toContain(want);
    expect(built.output).toContain('tool says bye');
  });

  it('what a Wasm guest makes, moves, removes and appends becomes the layer', async () => {
    const dir = await toolContext();
    for (const [name, body] of [['old.txt', 'old\n'], ['gone.txt', 'gone\n'], ['keep.txt', 'keep\n']]) {
      await mkdir(join(dir, 'data'), { recursive: true });
      await writeFile(join(dir, 'data', name), body);
    }
    const built = await buildIn(dir, { dockerfile: 'FROM scratch\nCOPY --chmod=755 tool /usr/bin/tool\nCOPY data /data\nRUN ["tool", "ops"]\n', epoch: EPOCH });
    const lines = listing(built.tree);
    for (const want of ['/made dir 755 0:0', '/made/new.txt file 644 0:0 "old\\n"', '/made/link symlink 777 0:0 "new.txt"', '/data/keep.txt file 644 0:0 "keep\\nappended\\n"']) expect(lines).toContain(want);
    for (const path of ['/data/old.txt', '/data/gone.txt']) expect(built.tree.get(path, false)).toBeUndefined();
  });

  it('a failing Wasm guest stops the build with its exit code and stderr', async () => {
    const err = await buildIn(await toolContext(), { dockerfile: 'FROM scratch\nCOPY --chmod=755 tool /usr/bin/tool\nRUN tool /out 3\n' }).then(() => undefined, (e: unknown) => e);
    expect((err as WasmboxError).format()).toContain('error: Dockerfile:3: RUN tool /out 3: exit code 3\n  | tool says bye');
  });
});

function text(tree: Tree, path: string): string {
  const node = tree.get(path);
  return node?.kind === 'file' ? new TextDecoder().decode(contentBytes(node.data)) : `(${node?.kind ?? 'missing'})`;
}

/** `path kind mode uid:gid "content or target"` (just `path kind mode uid:gid` for directories). */
function listing(tree: Tree): string[] {
  return [...tree.walk()].map(([path, node]) => {
    const head = `${path} ${node.kind} ${(node.mode & 0o7777).toString(8)} ${node.uid}:${node.gid}`;
    if (node.kind === 'file') return `${head} ${JSON.stringify(new TextDecoder().decode(contentBytes(node.data)))}`;
    return node.kind === 'symlink' ? `${head} ${JSON.stringify(node.target)}` : head;
  });
}
