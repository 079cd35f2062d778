/**
 * The boxes the edge bundle tests serve, built with the real CLI: examples/hello-c (needs clang), a
 * shell-script CGI program written here, the Python and Ruby examples, and a box too large for a worker.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type Compiled, REPO } from '../runtime/hosts/compiled.js';

/** Why hello-c cannot be built here (clang with wasi-libc missing), or undefined. */
export const NO_CLANG = (() => {
  try {
    execFileSync('bash', [join(REPO, 'examples/hello-c/make.sh')], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'examples/hello-c needs clang with wasi-libc (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)';
  }
})();

/** A CGI program: PATH_INFO picks what it does; /env prints the variables a CGI server sets. */
export const CGI_SCRIPT = `#!/bin/sh
case "$PATH_INFO" in
  /env*)
    printf 'Content-Type: text/plain\\r\\n\\r\\n'
    echo "REQUEST_METHOD=$REQUEST_METHOD"
    echo "PATH_INFO=$PATH_INFO"
    echo "QUERY_STRING=$QUERY_STRING"
    echo "REQUEST_URI=$REQUEST_URI"
    echo "CONTENT_TYPE=$CONTENT_TYPE"
    echo "CONTENT_LENGTH=$CONTENT_LENGTH"
    echo "SERVER_PROTOCOL=$SERVER_PROTOCOL"
    echo "GATEWAY_INTERFACE=$GATEWAY_INTERFACE"
    echo "SERVER_NAME=$SERVER_NAME"
    echo "SERVER_PORT=$SERVER_PORT"
    echo "SCRIPT_NAME=$SCRIPT_NAME"
    echo "HTTP_X_TEST=$HTTP_X_TEST"
    echo "HTTP_ACCEPT=$HTTP_ACCEPT"
    echo "HTTP_PROXY=$HTTP_PROXY"
    echo "GREETING=$GREETING"
    echo "REMOTE_ADDR=$REMOTE_ADDR"
    echo "STDIN=$(cat)"
    ;;
  /echo) printf 'Content-Type: application/octet-stream\\n\\n'; cat ;;
  /missing) printf 'Status: 404 Not Found\\r\\nContent-Type: text/html\\r\\nSet-Cookie: a=1\\r\\nSet-Cookie: b=2\\r\\n\\r\\n<p>no page</p>\\n' ;;
  /moved) printf 'Location: /env\\n\\n' ;;
  /fail) echo 'partial output'; echo 'something broke' >&2; exit 3 ;;
  /bad-status) printf 'Status: 999 Nope\\n\\n' ;;
  *) echo "plain $PATH_INFO" ;;
esac
`;

/** The boxes, by name; hello and wasix are undefined without clang. */
export interface Boxes {
  hello?: string;
  /** A WASIX program (test/fixtures/wasix-src/guest.c with -DWASIX) that prints its cwd and exits as told. */
  wasix?: string;
  cgi: string;
  python: string;
  ruby: string;
}

/** Build the boxes (in parallel) under `dir` with the compiled CLI. */
export async function buildBoxes(cli: Compiled, dir: string): Promise<Boxes> {
  const cgiContext = join(dir, 'cgi-context');
  await mkdir(cgiContext, { recursive: true });
  await writeFile(join(cgiContext, 'cgi.sh'), CGI_SCRIPT, { mode: 0o755 });
  await writeFile(join(cgiContext, 'Dockerfile'), 'FROM scratch\nENV GREETING=hi\nCOPY cgi.sh /app/cgi.sh\nENTRYPOINT ["/app/cgi.sh"]\n');
  const [hello, wasix, cgi, python, ruby] = await Promise.all([
    NO_CLANG ? undefined : build(cli, join(REPO, 'examples/hello-c'), join(dir, 'hello-box')),
    NO_CLANG ? undefined : buildWasix(cli, dir),
    build(cli, cgiContext, join(dir, 'cgi-box')),
    build(cli, join(REPO, 'examples/python'), join(dir, 'python-box')),
    build(cli, join(REPO, 'examples/ruby'), join(dir, 'ruby-box')),
  ]);
  return { hello, wasix, cgi: cgi!, python: python!, ruby: ruby! };
}

async function buildWasix(cli: Compiled, dir: string): Promise<string> {
  const context = join(dir, 'wasix-context');
  await mkdir(context, { recursive: true });
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-DWASIX', '-o', join(context, 'guest.wasm'), join(REPO, 'test/fixtures/wasix-src/guest.c')], { stdio: 'pipe' });
  await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY guest.wasm /bin/guest\nWORKDIR /work\nENTRYPOINT ["/bin/guest"]\nCMD ["cwd"]\n');
  return build(cli, context, join(dir, 'wasix-box'));
}

/** A box holding `bytes` of random (incompressible) data. */
export async function buildLargeBox(cli: Compiled, dir: string, bytes: number): Promise<string> {
  const context = join(dir, 'large-context');
  await mkdir(context, { recursive: true });
  const data = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += 1 << 20) randomBytes(Math.min(1 << 20, bytes - at)).copy(data, at);
  await writeFile(join(context, 'data.bin'), data);
  await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY data.bin /data/data.bin\nCMD ["/data/data.bin"]\n');
  return build(cli, context, join(dir, 'large-box'));
}

async function build(cli: Compiled, context: string, out: string): Promise<string> {
  const r = await cli.run(['build', '-q', '-o', out, context]);
  expect(r.stderr, `wasmbox build ${context}`).toBe('');
  expect(r.code).toBe(0);
  return out;
}
