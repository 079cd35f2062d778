import { text } from 'node:stream/consumers';
import { WasmboxError } from '../errors.js';
import { RegistryClient } from '../registry/client.js';
import { dockerConfigPath, hostOf, removeCredentials, saveCredentials } from '../registry/credentials.js';
import { DOCKER_HUB } from '../registry/reference.js';
import { parseInsecure } from './registry-flags.js';

/** The `wasmbox login` flags, as typed. */
export interface LoginFlags {
  server?: string;
  username?: string;
  password?: string;
  passwordStdin: boolean;
  insecureRegistry: string[];
}

/**
 * `wasmbox login [SERVER] -u USER (-p PASS | --password-stdin)`: checks the login against the registry
 * (as docker login does) and saves it in docker's config.json, so docker, skopeo and wasmbox share it.
 */
export async function runLogin(flags: LoginFlags): Promise<void> {
  const host = serverHost(flags.server);
  if (!flags.username) usage('--username', 'a user name is needed', `write wasmbox login ${flags.server ?? ''} -u USER --password-stdin`.replace('  ', ' '));
  if (flags.password !== undefined && flags.passwordStdin) usage('--password', '--password and --password-stdin cannot both be given', 'use one of them (--password-stdin keeps the secret out of your shell history)');
  const password = flags.passwordStdin ? (await text(process.stdin)).replace(/\r?\n$/, '') : flags.password;
  if (!password) usage(flags.passwordStdin ? '--password-stdin' : '--password', 'a password is needed', 'pass --password-stdin and pipe it in, e.g. echo "$TOKEN" | wasmbox login HOST -u USER --password-stdin');
  if (flags.password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  const client = new RegistryClient({ insecure: parseInsecure(flags.insecureRegistry) });
  await client.checkLogin(host, { username: flags.username!, password }).catch((err: unknown) => {
    // The client's message names the request it refused; for a login the user needs to hear the plain answer.
    if (!(err instanceof WasmboxError) || err.code !== 'REGISTRY_AUTH') throw err;
    throw new WasmboxError('REGISTRY_AUTH', `login to ${host} as "${flags.username}" failed: the registry refused the user name or password`, {
      hint: `check them and try again; nothing was saved in ${dockerConfigPath()}`,
      cause: err,
    });
  });
  await saveCredentials(host, flags.username!, password);
  process.stdout.write(`Login Succeeded (saved in ${dockerConfigPath()})\n`);
}

/** `wasmbox logout [SERVER]`: forgets the saved login for the registry. */
export async function runLogout(flags: { server?: string }): Promise<void> {
  const host = serverHost(flags.server);
  const removed = await removeCredentials(host);
  process.stdout.write(removed ? `Removing login credentials for ${host}\n` : `Not logged in to ${host}\n`);
}

/** The registry host a SERVER argument names: `host[:port]`, an `https://host/…` URL, or docker.io by default. */
function serverHost(server: string | undefined): string {
  if (server === undefined || server === '') return DOCKER_HUB;
  const bare = hostOf(server);
  // A login names a host even without a dot (`wasmbox login myregistry`), unlike an image reference.
  if (!/^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::\d+)?$/.test(bare)) {
    usage('SERVER', `"${server}" is not a registry host`, 'write HOST[:PORT], e.g. wasmbox login localhost:5000');
  }
  return bare;
}

function usage(flag: string, message: string, hint: string): never {
  throw new WasmboxError('USAGE', message, { instruction: flag, hint });
}
