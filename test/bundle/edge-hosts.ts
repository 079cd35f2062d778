/**
 * The real edge hosts for the bundle tests: workerd from npm `workerd` and Deno from npm
 * `@deno/linux-x64-glibc`, started on 127.0.0.1 at a free port, waited for, and stopped by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO } from '../runtime/hosts/compiled.js';

/** The workerd binary itself (node_modules/.bin/workerd is a Node shim around it, whose PID is not the server's). */
export const WORKERD = (() => {
  try {
    const bin = (createRequire(join(REPO, 'package.json'))('workerd') as { default: string }).default;
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
})();

/** The Deno binary. */
export const DENO = ((bin) => (existsSync(bin) ? bin : undefined))(join(REPO, 'node_modules/@deno/linux-x64-glibc/deno'));

/** Why a host cannot be tested here, or undefined when it can. */
export const MISSING = {
  workerd: WORKERD ? undefined : 'workerd is not installed (npm install; the package `workerd` brings the binary)',
  deno: DENO ? undefined : 'Deno is not installed (npm install on linux-x64; the optional package @deno/linux-x64-glibc brings it)',
} as const;

/** A running host. */
export interface Host {
  url: string;
  pid: number;
  /** What the host printed so far (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Start `workerd serve DIST/workerd.capnp` on a free port and wait until it answers. */
export async function startWorkerd(dist: string): Promise<Host> {
  const port = await freePort();
  const child = spawn(WORKERD!, ['serve', join(dist, 'workerd.capnp'), '--socket-addr', `http=127.0.0.1:${port}`], { cwd: dist, stdio: ['ignore', 'pipe', 'pipe'] });
  return ready(child, `http://127.0.0.1:${port}`);
}

/** Start `deno serve DIST/server.js` on a free port and wait until it answers. */
export async function startDeno(dist: string): Promise<Host> {
  const port = await freePort();
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DENO_DIR: join(dist, '.deno'), NO_COLOR: '1' };
  const child = spawn(DENO!, ['serve', '--host', '127.0.0.1', '--port', String(port), join(dist, 'server.js')], { cwd: dist, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return ready(child, `http://127.0.0.1:${port}`);
}

/** Poll the host until any HTTP answer comes (30 s at most), or fail with what it printed. */
async function ready(child: ChildProcess, url: string): Promise<Host> {
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host: Host = {
    url,
    pid: child.pid!,
    logs: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the host exited with code ${child.exitCode} before serving:\n${output}`);
    try {
      await fetch(`${url}/__ready`, { method: 'HEAD', signal: AbortSignal.timeout(2000) });
      return host;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await host.stop();
  throw new Error(`the host did not answer at ${url} within 30 s:\n${output}`);
}
