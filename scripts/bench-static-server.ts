/**
 * The static host of scripts/bench-web.ts, in a process of its own as a real static host is: in the
 * benchmark's own process, its responses would wait behind the Playwright client's work (the CDP events
 * of each page load) on one event loop. The server is wasmbox serve's (src/cli/static-server.ts).
 *
 * Child:  node --import tsx scripts/bench-static-server.ts DIR [--isolate]   prints its URL, one line;
 *         it stops when its stdin ends (so also when the benchmark dies) or on SIGTERM.
 * Parent: startStaticHost(DIR, isolate) starts one and stops it by PID.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from '../src/cli/static-server.js';

/** A static server in its own process. */
export interface StaticHost {
  url: string;
  close(): Promise<void>;
}

/** Serve `dir` on 127.0.0.1 from a child process (with COOP/COEP when `isolate`). */
export async function startStaticHost(dir: string, isolate: boolean): Promise<StaticHost> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), dir, ...(isolate ? ['--isolate'] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const [line] = (await Promise.race([once(createInterface({ input: child.stdout }), 'line'), exited.then(() => [undefined])])) as [string | undefined];
  if (!line?.startsWith('http://')) throw new Error(`the static server for ${dir} did not start (exit ${child.exitCode})`);
  return {
    url: line,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startStaticServer(process.argv[2], { host: '127.0.0.1', port: 0, isolate: process.argv.includes('--isolate') });
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.stdin.on('end', stop).resume();
  process.on('SIGTERM', stop);
  process.stdout.write(`${server.url}\n`);
}
