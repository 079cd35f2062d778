import { spawn } from 'node:child_process';
import { WasmboxError, fail } from '../errors.js';

const TIMEOUT_MS = 60_000;
const NOT_FOUND = /credentials not found/i;

/**
 * Runs `docker-credential-NAME ACTION` (the docker credential-helper protocol) with `input` on stdin.
 * `get` gives the parsed JSON answer; `store`/`erase` give true. Undefined when the program is not on
 * PATH or has no credentials for the server; other failures throw `REGISTRY_AUTH` with its message.
 */
export async function runCredentialHelper(name: string, action: 'get' | 'store' | 'erase', input: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  // The name comes from a config file: it must not be able to point at another program.
  if (!/^[\w.-]+$/.test(name)) fail('REGISTRY_AUTH', `"${name}" is not a valid credential helper name`, { value: name, hint: 'fix "credsStore"/"credHelpers" in the docker config file' });
  const program = `docker-credential-${name}`;
  const result = await run(program, action, input, env);
  if (result === undefined) return undefined;
  const { code, stdout, stderr } = result;
  if (code !== 0) {
    if (action !== 'store' && NOT_FOUND.test(stdout + stderr)) return undefined;
    const said = (stdout.trim() || stderr.trim() || `exit code ${code}`).split('\n')[0];
    fail('REGISTRY_AUTH', `${program} ${action} failed: ${said}`, { value: program, hint: `check the helper works: echo SERVER | ${program} get` });
  }
  if (action !== 'get') return true;
  try {
    return JSON.parse(stdout) as unknown;
  } catch {
    return fail('REGISTRY_AUTH', `${program} get printed something that is not JSON`, { value: program, hint: 'the helper is broken; reinstall it or remove it from the docker config file' });
  }
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; undefined when it does not exist. */
function run(program: string, action: string, input: string, env: NodeJS.ProcessEnv): Promise<Outcome | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: TIMEOUT_MS });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') resolve(undefined);
      else reject(new WasmboxError('REGISTRY_AUTH', `cannot run ${program}: ${error.message}`, { value: program, hint: 'make the helper executable, or remove it from the docker config file' }));
    });
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: signal ? `killed by ${signal}` : stderr });
    });
    // A helper that exits without reading stdin makes the write fail with EPIPE; its exit code tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
