/**
 * A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 at a random free port,
 * with filesystem storage in a temp dir, in three auth modes (none, htpasswd Basic, token with the suite's own
 * token server). Its stdout/stderr go to `<dataDir>/registry.log`. Stopped by PID; children are also killed
 * when the test process exits, and (with util-linux `setpriv`) by the kernel if it dies without exiting cleanly.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { scratchDir } from './fixtures.js';
import { makeSigningCert, startTokenServer, type TokenKeyHeader, type TokenServer } from './token-server.js';

const run = promisify(execFile);

/** How the registry authenticates clients. */
export type RegistryAuth = 'none' | 'htpasswd' | 'token';

/** A running test registry. */
export interface TestRegistry {
  /** '127.0.0.1:PORT' — what references use: `${host}/repo:tag`. */
  host: string;
  auth: RegistryAuth;
  /** A valid user (htpasswd and token modes; ignored for 'none'). */
  username: string;
  password: string;
  dataDir: string;
  /** The token server (token mode only): its realm and `tokenRequests` counter. */
  token?: TokenServer;
  /** Kills by PID (registry and token server), removes dataDir. */
  stop(): Promise<void>;
}

const TOOLS: [string, string][] = [
  ['docker-registry', 'apt-get install docker-registry'],
  ['htpasswd', 'apt-get install apache2-utils'],
  ['openssl', 'apt-get install openssl'],
  ['skopeo', 'apt-get install skopeo'],
];
const SERVICE = 'wasmbox-test-registry';
const ISSUER = 'wasmbox-test-issuer';

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, tool)));
}

/** Why registry tests cannot run here (docker-registry/htpasswd/openssl/skopeo missing), or undefined. */
export function registryMissing(): string | undefined {
  const missing = TOOLS.filter(([tool]) => !onPath(tool));
  if (missing.length === 0) return undefined;
  return `registry tests need ${missing.map(([t, how]) => `${t} (${how})`).join(', ')}`;
}

// Registries still running, with their data dirs: killed and removed synchronously when this process exits,
// so a test file that dies before its afterAll leaves neither a registry nor its files behind.
const live = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, dataDir] of live) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** A port that was free a moment ago on 127.0.0.1 (the caller retries if it loses the race). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The registry's config.yml for one mode. */
function configYaml(dataDir: string, port: number, auth: string): string {
  return `version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(dataDir, 'storage')}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: ${randomBytes(16).toString('hex')}
  headers:
    X-Content-Type-Options: [nosniff]
${auth}`;
}

/** Writes the auth files for a mode and returns the config's `auth:` section (and the token server, if any). */
async function setupAuth(mode: RegistryAuth, dataDir: string, user: { username: string; password: string }, header?: TokenKeyHeader) {
  if (mode === 'none') return { yaml: '' };
  if (mode === 'htpasswd') {
    const { stdout } = await run('htpasswd', ['-Bbn', user.username, user.password]);
    await writeFile(join(dataDir, 'htpasswd'), stdout);
    return { yaml: `auth:\n  htpasswd:\n    realm: wasmbox-test\n    path: ${join(dataDir, 'htpasswd')}\n` };
  }
  const { keyFile, certFile } = await makeSigningCert(dataDir);
  const token = await startTokenServer({ keyFile, certFile, ...user, service: SERVICE, issuer: ISSUER, header });
  const yaml = `auth:\n  token:\n    realm: ${token.realm}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${certFile}\n`;
  return { yaml, token };
}

/** Starts the registry process; `setpriv --pdeathsig` makes the kernel kill it if this process dies. */
function spawnRegistry(dataDir: string, config: string): ChildProcess {
  const log = openSync(join(dataDir, 'registry.log'), 'a');
  const argv = ['docker-registry', 'serve', config];
  const [cmd, ...args] = onPath('setpriv') ? ['setpriv', '--pdeathsig', 'KILL', '--', ...argv] : argv;
  try {
    const child = spawn(cmd, args, { stdio: ['ignore', log, log], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    live.set(child, dataDir);
    child.once('exit', () => live.delete(child));
    return child;
  } finally {
    closeSync(log);
  }
}

/**
 * Polls GET /v2/ until the registry answers (200, or 401 with auth); fails early if the process exits. The log
 * must also say it bound the port, so a stranger that grabbed the port first is never taken for our registry.
 */
async function waitReady(child: ChildProcess, host: string, dataDir: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const logFile = join(dataDir, 'registry.log');
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      if (!readFileSync(logFile, 'utf8').includes(`listening on ${host}`)) throw new Error('not bound yet');
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not bound or not answering yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  const why = child.exitCode !== null || child.signalCode !== null ? `exited (${child.exitCode ?? child.signalCode})` : `not ready after ${timeoutMs} ms`;
  throw new Error(`docker-registry on ${host} ${why}; log tail:\n${tail}`);
}

/** Stops a child by PID: SIGTERM, then SIGKILL if it lingers. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(child.pid!, name);
    } catch {
      // already gone (ESRCH)
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && signal('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Starts a registry (auth 'none' by default); `tokenHeader` picks how tokens name their key (token mode). */
export async function startRegistry(opts: { auth?: RegistryAuth; tokenHeader?: TokenKeyHeader } = {}): Promise<TestRegistry> {
  const auth = opts.auth ?? 'none';
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dataDir = await mkdtemp(join(base, 'wasmbox-registry-'));
  const user = { username: 'tester', password: randomBytes(9).toString('base64url') };
  let token: TokenServer | undefined;
  try {
    const setup = await setupAuth(auth, dataDir, user, opts.tokenHeader);
    token = setup.token;
    for (let attempt = 1; ; attempt++) {
      const host = `127.0.0.1:${await freePort()}`;
      const config = join(dataDir, 'config.yml');
      await writeFile(config, configYaml(dataDir, Number(host.split(':')[1]), setup.yaml));
      const child = spawnRegistry(dataDir, config);
      try {
        await waitReady(child, host, dataDir);
      } catch (err) {
        await stopChild(child);
        // Another process may have taken the port between freePort() and the registry's bind.
        if (attempt < 3 && /address already in use/.test(String(err))) continue;
        throw err;
      }
      const stop = async () => {
        await stopChild(child);
        await token?.stop();
        await rm(dataDir, { recursive: true, force: true });
      };
      return { host, auth, ...user, dataDir, token, stop };
    }
  } catch (err) {
    await token?.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * skopeo copy SOURCE (e.g. 'oci:DIR:latest') to docker://HOST/REPO:TAG with the registry's creds. Without
 * options the image arrives byte for byte (same manifest digest, layers as stored, even uncompressed ones).
 */
export async function pushWithSkopeo(
  reg: TestRegistry,
  source: string,
  repoTag: string,
  opts: { format?: 'oci' | 'v2s2'; compress?: 'gzip' | 'zstd'; all?: boolean } = {},
): Promise<void> {
  const all = opts.all ? ['--all'] : [];
  const creds = reg.auth === 'none' ? [] : ['--dest-creds', `${reg.username}:${reg.password}`];
  // skopeo 1.9 swaps in blobs its blob-info cache knows in the same registry under another compression
  // (a zstd push came out gzip, a later v2s2 push failed on a zstd layer), so every push keeps digests, and
  // conversions happen first into a local dir: copy, where nothing can be substituted.
  const push = (from: string) =>
    skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', ...creds, ...all, from, `docker://${reg.host}/${repoTag}`]);
  if (!opts.format && !opts.compress) return void (await push(source));
  const staging = await scratchDir('wasmbox-skopeo-');
  try {
    const convert = [...all, ...(opts.format ? ['--format', opts.format] : [])];
    if (opts.compress) convert.push('--dest-compress', '--dest-compress-format', opts.compress);
    await skopeo(['copy', '--quiet', ...convert, source, `dir:${staging.dir}`]);
    await push(`dir:${staging.dir}`);
  } finally {
    await staging.remove();
  }
}

/** Runs skopeo with a clear error (its stderr) on failure; returns stdout. */
export async function skopeo(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('skopeo', args, { maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const shown = args.map((a, i) => (args[i - 1]?.endsWith('-creds') ? '***' : a)).join(' ');
    throw new Error(`skopeo ${shown} failed: ${(e.stderr || e.message).trim()}`);
  }
}
