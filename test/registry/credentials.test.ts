import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WasmboxError } from '../../src/errors.js';
import { dockerConfigPath, loadCredentials, removeCredentials, saveCredentials } from '../../src/registry/credentials.js';

// A real credential helper program speaking docker's protocol: one file per server in $dir/store, calls logged.
const HELPER = `#!/bin/sh
dir=$(dirname "$0")
echo "$1" >> "$dir/calls"
case "$1" in
  get)
    read server
    file="$dir/store/$(printf %s "$server" | tr '/:' '__')"
    if [ -f "$file" ]; then cat "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    json=$(cat)
    server=$(printf %s "$json" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
    printf %s "$json" > "$dir/store/$(printf %s "$server" | tr '/:' '__')" ;;
  erase)
    read server
    rm "$dir/store/$(printf %s "$server" | tr '/:' '__')" 2>/dev/null || { echo "credentials not found in native keychain"; exit 1; } ;;
esac
`;
const BROKEN = `#!/bin/sh\necho "keychain locked" >&2\nexit 3\n`;

let root: string;
let bin: string;
let env: NodeJS.ProcessEnv;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const configFile = () => join(root, 'docker', 'config.json');
const writeConfig = (config: unknown) => writeFile(configFile(), typeof config === 'string' ? config : JSON.stringify(config));
const readConfig = async () => JSON.parse(await readFile(configFile(), 'utf8'));
const helperStore = (server: string, user: string, secret: string) =>
  writeFile(join(bin, 'store', server.replace(/[/:]/g, '_')), JSON.stringify({ ServerURL: server, Username: user, Secret: secret }));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wasmbox-creds-'));
  bin = join(root, 'bin');
  await mkdir(join(bin, 'store'), { recursive: true });
  await writeFile(join(bin, 'docker-credential-test'), HELPER);
  await writeFile(join(bin, 'docker-credential-broken'), BROKEN);
  await chmod(join(bin, 'docker-credential-test'), 0o755);
  await chmod(join(bin, 'docker-credential-broken'), 0o755);
  env = { DOCKER_CONFIG: join(root, 'docker'), PATH: `${bin}:${process.env.PATH}` };
});
afterAll(() => rm(root, { recursive: true, force: true }));
beforeEach(async () => {
  await rm(join(root, 'docker'), { recursive: true, force: true });
  await mkdir(join(root, 'docker'));
  await rm(join(bin, 'store'), { recursive: true, force: true });
  await mkdir(join(bin, 'store'));
  await rm(join(bin, 'calls'), { force: true });
});

describe('dockerConfigPath', () => {
  it.each([
    [{ DOCKER_CONFIG: '/etc/dc', HOME: '/home/u' }, '/etc/dc/config.json'],
    [{ HOME: '/home/u' }, '/home/u/.docker/config.json'],
  ])('%j → %s', (e, want) => expect(dockerConfigPath(e)).toBe(want));
});

// One row per config shape: the config (undefined = no file), helper-stored entries, the host asked, the answer.
const reads: [string, unknown, [string, string, string][], string, unknown][] = [
  ['no config file', undefined, [], 'ghcr.io', undefined],
  ['an empty file', '', [], 'ghcr.io', undefined],
  ['auths by host', { auths: { 'ghcr.io': { auth: b64('ann:pw') } } }, [], 'ghcr.io', { username: 'ann', password: 'pw' }],
  ['auths by URL', { auths: { 'https://ghcr.io': { auth: b64('ann:pw') } } }, [], 'ghcr.io', { username: 'ann', password: 'pw' }],
  ['auths by URL with path', { auths: { 'https://reg.example:5000/v2/': { auth: b64('bo:x') } } }, [], 'reg.example:5000', { username: 'bo', password: 'x' }],
  ['a password with colons', { auths: { 'ghcr.io': { auth: b64('ann:a:b:c') } } }, [], 'ghcr.io', { username: 'ann', password: 'a:b:c' }],
  ['username and password fields', { auths: { 'ghcr.io': { username: 'cy', password: 'pw' } } }, [], 'ghcr.io', { username: 'cy', password: 'pw' }],
  ['an identity token', { auths: { 'ghcr.io': { auth: b64('dee:'), identitytoken: 'refresh-me' } } }, [], 'ghcr.io', { identityToken: 'refresh-me', username: 'dee' }],
  ['Docker Hub under its v1 URL', { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } }, [], 'docker.io', { username: 'hub', password: 'pw' }],
  ['another host only', { auths: { 'quay.io': { auth: b64('ann:pw') } } }, [], 'ghcr.io', undefined],
  ['an empty entry (login through a store)', { auths: { 'ghcr.io': {} } }, [], 'ghcr.io', undefined],
  ['credHelpers for the host', { credHelpers: { 'ghcr.io': 'test' } }, [['ghcr.io', 'helped', 's3cret']], 'ghcr.io', { username: 'helped', password: 's3cret' }],
  ['credsStore', { credsStore: 'test' }, [['ghcr.io', 'stored', 'pw2']], 'ghcr.io', { username: 'stored', password: 'pw2' }],
  ['credsStore for Docker Hub', { credsStore: 'test' }, [['https://index.docker.io/v1/', 'hubby', 'pw']], 'docker.io', { username: 'hubby', password: 'pw' }],
  ['a helper identity token', { credsStore: 'test' }, [['ghcr.io', '<token>', 'idt']], 'ghcr.io', { identityToken: 'idt' }],
  ['credHelpers win over credsStore', { credsStore: 'nothere', credHelpers: { 'ghcr.io': 'test' } }, [['ghcr.io', 'h', 'p']], 'ghcr.io', { username: 'h', password: 'p' }],
  ['a helper without the entry falls back to auths', { credsStore: 'test', auths: { 'ghcr.io': { auth: b64('f:b') } } }, [], 'ghcr.io', { username: 'f', password: 'b' }],
  ['a missing helper program falls back to auths', { credsStore: 'nothere', auths: { 'ghcr.io': { auth: b64('f:b') } } }, [], 'ghcr.io', { username: 'f', password: 'b' }],
];

describe('loadCredentials', () => {
  it.each(reads)('%s', async (_, config, stored, host, want) => {
    if (config !== undefined) await writeConfig(config);
    for (const [server, user, secret] of stored) await helperStore(server, user, secret);
    expect(await loadCredentials(host, env)).toEqual(want);
  });

  // One row per broken setup, with a fragment of the message that must explain it.
  it.each([
    ['invalid JSON', '{"auths": ', [], 'is not a JSON object'],
    ['a JSON array', '[]', [], 'is not a JSON object'],
    ['an auth without a colon', { auths: { 'ghcr.io': { auth: b64('nocolon') } } }, [], 'is malformed'],
    ['a helper name with a slash', { credsStore: '../../bin/sh' }, [], 'not a valid credential helper name'],
    ['a failing helper', { credsStore: 'broken' }, [], 'keychain locked'],
  ] as [string, unknown, never[], string][])('refuses %s', async (_, config, __, message) => {
    await writeConfig(config);
    const error = (await loadCredentials('ghcr.io', env).catch((e: unknown) => e)) as WasmboxError;
    expect(error).toMatchObject({ code: 'REGISTRY_AUTH' });
    expect(error.message).toContain(message);
    expect(error.hint).toBeTruthy();
  });
});

describe('saveCredentials and removeCredentials', () => {
  it('writes auths atomically with mode 0600, keeping every other key', async () => {
    await writeConfig({ auths: { 'quay.io': { auth: b64('q:q') }, 'https://ghcr.io': { auth: b64('old:old') } }, proxies: { default: { httpProxy: 'http://p:3128' } }, detachKeys: 'ctrl-x' });
    await saveCredentials('ghcr.io', 'ann', 'new:pw', env);
    const config = await readConfig();
    expect(config).toEqual({
      auths: { 'quay.io': { auth: b64('q:q') }, 'ghcr.io': { auth: b64('ann:new:pw') } },
      proxies: { default: { httpProxy: 'http://p:3128' } },
      detachKeys: 'ctrl-x',
    });
    expect((await stat(configFile())).mode & 0o777).toBe(0o600);
    expect(await readdir(join(root, 'docker'))).toEqual(['config.json']);
    expect(await loadCredentials('ghcr.io', env)).toEqual({ username: 'ann', password: 'new:pw' });
  });

  it('creates the directory and file, storing Docker Hub under its v1 URL', async () => {
    await rm(join(root, 'docker'), { recursive: true });
    await saveCredentials('docker.io', 'hub', 'pw', env);
    expect(await readConfig()).toEqual({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } });
    expect((await stat(configFile())).mode & 0o777).toBe(0o600);
  });

  it('stores through the credential helper and leaves the file alone', async () => {
    await writeConfig({ credsStore: 'test', other: 1 });
    await saveCredentials('reg.example:5000', 'ann', 'pw', env);
    expect(await readConfig()).toEqual({ credsStore: 'test', other: 1 });
    expect(await loadCredentials('reg.example:5000', env)).toEqual({ username: 'ann', password: 'pw' });
    expect(await removeCredentials('reg.example:5000', env)).toBe(true);
    expect(await loadCredentials('reg.example:5000', env)).toBeUndefined();
    expect((await readFile(join(bin, 'calls'), 'utf8')).split('\n')).toEqual(['store', 'get', 'erase', 'get', '']);
  });

  it('refuses to fall back to plain text when the configured store is missing', async () => {
    await writeConfig({ credsStore: 'nothere' });
    const error = (await saveCredentials('ghcr.io', 'ann', 'pw', env).catch((e: unknown) => e)) as WasmboxError;
    expect(error).toMatchObject({ code: 'REGISTRY_AUTH' });
    expect(error.message).toContain('docker-credential-nothere');
    expect(await readConfig()).toEqual({ credsStore: 'nothere' });
  });

  it('removes every key naming the host and says whether it removed anything', async () => {
    await writeConfig({ auths: { 'ghcr.io': { auth: b64('a:b') }, 'https://ghcr.io/v1/': { auth: b64('c:d') }, 'quay.io': { auth: b64('q:q') } }, x: [1] });
    expect(await removeCredentials('ghcr.io', env)).toBe(true);
    expect(await readConfig()).toEqual({ auths: { 'quay.io': { auth: b64('q:q') } }, x: [1] });
    expect((await stat(configFile())).mode & 0o777).toBe(0o600);
    expect(await removeCredentials('ghcr.io', env)).toBe(false);
  });
});
