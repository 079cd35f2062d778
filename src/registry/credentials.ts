import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { runCredentialHelper } from './credential-helper.js';

/** What a registry login gives: a user and password, or an identity (refresh) token. */
export type Credentials = { username: string; password: string } | { identityToken: string; username?: string };

/** The parts of docker's config.json we read; every other key is kept as is when writing. */
interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

// Docker keeps Docker Hub's credentials under its v1 index URL, whatever the reference said.
const HUB_KEY = 'https://index.docker.io/v1/';
const HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** docker's config file: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  return join(env.HOME || homedir(), '.docker', 'config.json');
}

/** The credentials docker would use for `host`: its credential helper's, else the `auths` entry; undefined when none. */
export async function loadCredentials(host: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const config = await readConfig(env);
  const helper = helperFor(config, host);
  if (helper) {
    const found = await runCredentialHelper(helper, 'get', serverKey(host), env);
    if (found && typeof found === 'object') {
      const { Username: username, Secret: secret } = found as { Username?: string; Secret?: string };
      // Helpers mark identity tokens with the user name '<token>', as docker does.
      if (secret && username === '<token>') return { identityToken: secret };
      if (secret && username) return { username, password: secret };
    }
  }
  return fromAuths(config, host, env);
}

/** Stores a login the way docker does: through the credential helper when one is set up, else base64 in `auths`. */
export async function saveCredentials(host: string, username: string, password: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = await readConfig(env);
  const helper = helperFor(config, host);
  const key = serverKey(host);
  if (helper) {
    const stored = await runCredentialHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: username, Secret: password }), env);
    // A configured store whose program is missing must not fall back to plain text silently.
    if (stored === undefined) missingHelper(helper, env);
    return;
  }
  const auths = { ...(config.auths ?? {}) };
  for (const name of Object.keys(auths)) if (hostOf(name) === hostOf(key) && name !== key) delete auths[name];
  auths[key] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  await writeConfig({ ...config, auths }, env);
}

/** Forgets `host`'s login in the helper and the file; true when something was removed. */
export async function removeCredentials(host: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const config = await readConfig(env);
  const helper = helperFor(config, host);
  const erased = helper ? (await runCredentialHelper(helper, 'erase', serverKey(host), env)) !== undefined : false;
  const auths = { ...(config.auths ?? {}) };
  const names = Object.keys(auths).filter((name) => hostOf(name) === hostOf(serverKey(host)));
  if (names.length === 0) return erased;
  for (const name of names) delete auths[name];
  await writeConfig({ ...config, auths }, env);
  return true;
}

/** The key docker uses for a registry host in config.json and with helpers. */
function serverKey(host: string): string {
  return HUB_NAMES.has(host.toLowerCase()) ? HUB_KEY : host.toLowerCase();
}

/** A config key's (or a login SERVER's) host: 'host', 'https://host', 'https://host/v1/' (docker strips scheme and path); Docker Hub's names are docker.io. */
export function hostOf(key: string): string {
  const bare = key.replace(/^[a-z][\w+.-]*:\/\//i, '').split('/')[0].toLowerCase();
  return HUB_NAMES.has(bare) ? 'docker.io' : bare;
}

function helperFor(config: DockerConfig, host: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  const named = Object.entries(helpers).find(([key]) => hostOf(key) === hostOf(serverKey(host)));
  return named?.[1] || config.credsStore || undefined;
}

function fromAuths(config: DockerConfig, host: string, env: NodeJS.ProcessEnv): Credentials | undefined {
  const want = hostOf(serverKey(host));
  const exact = config.auths?.[serverKey(host)];
  const entry = exact ?? Object.entries(config.auths ?? {}).find(([key]) => hostOf(key) === want)?.[1];
  if (!entry) return undefined;
  let { username, password } = entry;
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) fail('REGISTRY_AUTH', `the login for ${host} in ${dockerConfigPath(env)} is malformed`, { value: host, hint: `log in again with \`wasmbox login ${host}\`` });
    [username, password] = [text.slice(0, colon), text.slice(colon + 1)];
  }
  if (entry.identitytoken) return { identityToken: entry.identitytoken, ...(username && { username }) };
  return username && password !== undefined ? { username, password } : undefined;
}

async function readConfig(env: NodeJS.ProcessEnv): Promise<DockerConfig> {
  const path = dockerConfigPath(env);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    return fail('REGISTRY_AUTH', `cannot read ${path}: ${error.message}`, { value: path, hint: 'fix its permissions, or point DOCKER_CONFIG at another directory' });
  });
  if (text === undefined || text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as DockerConfig;
  } catch {
    // Reported below with the same advice.
  }
  return fail('REGISTRY_AUTH', `${path} is not a JSON object`, { value: path, hint: 'fix or remove the file (docker login writes it)' });
}

/** Writes config.json atomically (temp file + rename), readable only by its owner since it holds secrets. */
async function writeConfig(config: DockerConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const path = dockerConfigPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    fail('REGISTRY_AUTH', `cannot write ${path}: ${(error as Error).message}`, { value: path, hint: 'check the directory exists and is writable, or set DOCKER_CONFIG' });
  }
}

function missingHelper(helper: string, env: NodeJS.ProcessEnv): never {
  return fail('REGISTRY_AUTH', `${dockerConfigPath(env)} asks for the credential helper "${helper}", but docker-credential-${helper} is not on PATH`, {
    value: helper,
    hint: `install docker-credential-${helper}, or remove "credsStore"/"credHelpers" from the file to store logins in it`,
  });
}
