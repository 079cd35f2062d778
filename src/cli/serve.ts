// `wasmbox serve OUTDIR`: a quick look at a box in the browser. OUTDIR is a box (bundled for the web into
// a temporary directory first) or a web bundle already made with `wasmbox bundle --target web`. Served on
// loopback by default; `--coop` adds the cross-origin isolation headers the WASIX engine needs. Runs
// until Ctrl-C (or SIGTERM), then removes what it made.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOX_FILES } from '../box/format.js';
import { WasmboxError } from '../errors.js';
import { TARGETS } from '../bundle/targets.js';
import { startStaticServer, type StaticServer } from './static-server.js';

/** What `wasmbox serve` was asked. */
export interface ServeOptions {
  /** A box directory, or a web bundle directory. */
  box: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  open?: boolean;
  /** Send COOP/COEP so the page is cross-origin isolated. */
  coop?: boolean;
  /** Bundle the WASIX engine even if no module of the box imports wasix_*. */
  wasix?: boolean;
  /** Where progress lines go (stderr by default). */
  log?: (line: string) => void;
  /** Stops the server (the CLI stops on SIGINT/SIGTERM instead). */
  signal?: AbortSignal;
}

/** The default address: loopback only, so a box is not served to the network by accident. */
export const SERVE_DEFAULTS = { host: '127.0.0.1', port: 8080 };

/** Serve the box until stopped; resolves once the server is closed and temporary files are gone. */
export async function runServe(options: ServeOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  checkPort(options.port ?? SERVE_DEFAULTS.port);
  const { dir, temporary } = await bundleDir(options, log);
  try {
    const server = await listen(dir, options);
    log(`serving ${options.box} at ${server.url}${options.coop ? ' (cross-origin isolated: the WASIX engine can run)' : ''}; Ctrl-C stops`);
    if (options.open) openBrowser(server.url, log);
    await stopped(options.signal);
    await server.close();
  } finally {
    if (temporary) await rm(dir, { recursive: true, force: true });
  }
}

/** The directory to serve: a web bundle as given, or a fresh bundle of a box. */
async function bundleDir(options: ServeOptions, log: (line: string) => void): Promise<{ dir: string; temporary: boolean }> {
  if (existsSync(join(options.box, 'wasmbox.json'))) return { dir: options.box, temporary: false };
  if (!existsSync(join(options.box, BOX_FILES.manifest))) {
    throw new WasmboxError('BOX_NOT_FOUND', `${options.box} is neither a box nor a web bundle`, {
      instruction: 'wasmbox serve', value: options.box,
      hint: 'name the directory `wasmbox build -o` wrote, or one `wasmbox bundle --target web -o` wrote',
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'wasmbox-serve-'));
  try {
    await (await TARGETS.web())(options.box, dir, { wasix: options.wasix });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  log(`bundled ${options.box} for the web`);
  return { dir, temporary: true };
}

async function listen(dir: string, options: ServeOptions): Promise<StaticServer> {
  const host = options.host ?? SERVE_DEFAULTS.host;
  const port = options.port ?? SERVE_DEFAULTS.port;
  try {
    return await startStaticServer(dir, { host, port, isolate: options.coop });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? 'choose another port with --port (0 picks a free one)' : 'check --host names an address of this machine';
    throw new WasmboxError('SERVE_LISTEN', `cannot listen on ${host}:${port} (${code ?? (err as Error).message})`, { instruction: 'wasmbox serve', value: `${host}:${port}`, hint });
  }
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new WasmboxError('USAGE', `--port ${port} is not a port number`, { instruction: '--port', value: String(port), hint: 'give 1-65535, or 0 for any free port' });
  }
}

/** Resolves on SIGINT/SIGTERM, or when `signal` aborts. */
function stopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop).off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** Best effort: the desktop's way to open a URL; a failure only costs a note. */
function openBrowser(url: string, log: (line: string) => void): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => log(`could not open a browser (${command}); open ${url} yourself`));
    child.unref();
  } catch {
    log(`could not open a browser; open ${url} yourself`);
  }
}
