// The WASIX engine: runs a Wasm module with @wasmer/sdk 0.16 (the only file that imports it), for guests
// that import wasix_* (threads, sockets, subprocesses) or when a caller forces engine 'wasmer'. The sdk
// is loaded on first use only (measured in Node 20: ~100 ms and ~60 MB before a guest runs, ~250 ms to a
// first small guest's exit), one client serves all runs that overlap, and it is closed once idle because
// its workers would keep a Node process alive. A run that shows no sign of the guest (no output at all)
// is checked with a known program, since a sdk that cannot start its workers reports exit 0 and nothing
// else. How the box filesystem reaches the guest is in wasmer-fs.ts. Runtime code: web-standard APIs only.
// Types from the base (browser) build: the Node build's classes extend or re-export the same ones.
import type { Package, Sandbox, Wasmer } from '@wasmer/sdk/browser';
import { cwdNode, LaunchError, type ProcessSpec } from '../process.js';
import { Vfs } from '../vfs.js';
import { PROBE_EXIT, PROBE_OUTPUT, probeModule } from './probe-module.js';
import { copyBack, copyBox, inWorkspace, type BoxCopy } from './wasmer-fs.js';
import { sdkFlavour, silentRunHint, WasixHostError, type SdkFlavour } from './wasmer-host.js';
import { superviseGuest, TRAP_STATUS } from './wasmer-stdio.js';

export { TRAP_STATUS, WasixHostError };

/** The sdk failed in a way that is not the guest's doing: it did not really run it, or it broke. */
export class WasixEngineError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WasixEngineError';
  }
}

/** How long an unused sdk client stays open for the next run. */
const IDLE_MS = 250;
const PROBE_COMMAND = 'wasmbox-probe';

/** Run a WASIX (or plain WASI) module with @wasmer/sdk over the box filesystem; resolves to the exit code. */
export async function runWasmer(bytes: Uint8Array, spec: ProcessSpec): Promise<number> {
  const flavour = sdkFlavour();
  const cwd = spec.vfs.pathOf(cwdNode(spec));
  const client = await acquire(flavour);
  try {
    return await runInSandbox(client, bytes, spec, cwd);
  } catch (error) {
    if (error instanceof LaunchError || error instanceof WasixEngineError || !isSdkError(error)) throw error;
    client.broken = true;
    throw new WasixEngineError(`the WASIX engine (@wasmer/sdk) failed to run ${spec.argv[0]}: ${firstLine(error)}`, { cause: error });
  } finally {
    release(client);
  }
}

/** Run the engine's self-check now (a host may do this at startup to fail early); throws if guests cannot run. */
export async function checkWasmerEngine(): Promise<void> {
  const client = await acquire(sdkFlavour());
  try {
    const nothing = Vfs.empty();
    const box = await boxPackage(client, copyBox(nothing), nothing);
    const sandbox = await client.wasmer.sandboxes.create({ packages: [box] });
    try {
      await assertProbeRuns(sandbox, box, 'its self-check');
    } finally {
      await sandbox.close();
    }
  } finally {
    release(client);
  }
}

/** Close the sdk client now rather than after IDLE_MS (runs still in flight keep it until they end). */
export async function closeWasmerEngine(): Promise<void> {
  const client = active;
  if (!client) return;
  client.broken = true;
  if (client.users === 0) await retire(client);
}

interface Client {
  wasmer: Wasmer;
  users: number;
  idle?: ReturnType<typeof setTimeout>;
  /** Retire as soon as no run uses it (the sdk failed, or a host asked to close). */
  broken?: boolean;
  closed?: boolean;
  /** The last box tree made into a package, reused while the same Vfs has not changed. */
  box?: { vfs: Vfs; key: string; pkg: Promise<Package> };
}

let opening: Promise<Client> | undefined;
let active: Client | undefined;

async function acquire(flavour: SdkFlavour): Promise<Client> {
  const pending = (opening ??= open(flavour));
  let client: Client;
  try {
    client = await pending;
  } catch (error) {
    if (opening === pending) opening = undefined;
    throw new WasixEngineError(`the WASIX engine (@wasmer/sdk) could not start: ${firstLine(error)}`, { cause: error });
  }
  // It may have been retired while this run waited for it to open.
  if (client.closed) return acquire(flavour);
  client.users++;
  clearTimeout(client.idle);
  return client;
}

async function open(flavour: SdkFlavour): Promise<Client> {
  // Node takes the sdk's Node build through the package's "node" export condition; Deno needs the browser one.
  const sdk = flavour === 'node' ? await import('@wasmer/sdk') : await import('@wasmer/sdk/browser');
  const wasmer = new sdk.Wasmer({ cache: false });
  await wasmer.ready();
  return (active = { wasmer, users: 0 });
}

function release(client: Client): void {
  if (--client.users > 0) return;
  if (client.broken) return void retire(client);
  client.idle = setTimeout(() => void retire(client), IDLE_MS);
  (client.idle as { unref?: () => void }).unref?.();
}

async function retire(client: Client): Promise<void> {
  if (client.users > 0 || client.closed) return;
  client.closed = true;
  if (active === client) {
    active = undefined;
    opening = undefined;
  }
  client.box = undefined;
  // A client whose workers failed rejects close(); there is nothing left to release then.
  await client.wasmer.close().catch(() => undefined);
}

async function runInSandbox(client: Client, bytes: Uint8Array, spec: ProcessSpec, cwd: string): Promise<number> {
  const copy = copyBox(spec.vfs);
  const [box, guest] = await Promise.all([boxPackage(client, copy, spec.vfs), guestPackage(client, bytes, spec, cwd, copy)]);
  const sandbox = await client.wasmer.sandboxes.create({ packages: [box, guest], files: Object.fromEntries(copy.workspace) });
  try {
    for (const dir of copy.workspaceDirs) await sandbox.fs.mkdir(dir, { recursive: true });
    const { status, started } = await runGuest(sandbox, guest, spec, cwd);
    if (!started) await assertProbeRuns(sandbox, box, spec.argv[0]);
    await copyBack(sandbox.fs, spec.vfs, copy, (message) => spec.stderr(encode(`wasmbox: ${message}\n`)));
    return status;
  } finally {
    await sandbox.close();
  }
}

/** The box tree outside /workspace as a package (with the probe as its command), reused while unchanged. */
function boxPackage(client: Client, copy: BoxCopy, vfs: Vfs): Promise<Package> {
  if (client.box?.vfs !== vfs || client.box.key !== copy.key) {
    const pkg = client.wasmer.packages.create({
      modules: { probe: probeModule() },
      commands: { [PROBE_COMMAND]: { module: 'probe' } },
      files: copy.outside,
    });
    const entry = { vfs, key: copy.key, pkg };
    client.box = entry;
    pkg.catch(() => client.box === entry && (client.box = undefined));
  }
  return client.box.pkg;
}

/** The guest module as a package whose one command is named after argv[0] (the sdk passes that name as argv[0]). */
async function guestPackage(client: Client, bytes: Uint8Array, spec: ProcessSpec, cwd: string, copy: BoxCopy): Promise<Package> {
  // The sdk cannot enter a directory that holds no file, and empty directories cannot be given to it.
  const needsMarker = cwd !== '/' && !inWorkspace(cwd) && !Object.keys(copy.outside).some((p) => p.startsWith(cwd + '/'));
  try {
    return await client.wasmer.packages.create({
      modules: { guest: bytes },
      commands: { [commandName(spec.argv[0])]: { module: 'guest' } },
      files: needsMarker ? { [`${cwd}/.wasmbox-cwd`]: new Uint8Array(0) } : {},
    });
  } catch (error) {
    if (!isSdkError(error, 'PACKAGE_LOAD_FAILED')) throw error;
    throw new LaunchError(`${spec.argv[0]}: the WASIX engine cannot run this WebAssembly module: ${firstLine(error)}`, 126);
  }
}

/** Run the guest with streamed stdio; `started` is false when nothing shows that it ran at all. */
async function runGuest(sandbox: Sandbox, guest: Package, spec: ProcessSpec, cwd: string): Promise<{ status: number; started: boolean }> {
  const env = new Map(spec.env.filter((kv) => kv.indexOf('=') > 0).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const proc = await sandbox.command(guest, spec.argv.slice(1), { cwd, env: Object.fromEntries(env) })
    .spawn({ stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', outputBytes: 0 });
  return superviseGuest(proc, spec);
}

/** Throw WasixEngineError unless the probe in `box` really runs in this sandbox. */
async function assertProbeRuns(sandbox: Sandbox, box: Package, what: string): Promise<void> {
  let outcome: string;
  try {
    const output = await sandbox.command(box).run({ check: false, timeoutMs: 60_000 });
    if (output.exitCode === PROBE_EXIT && output.stdout.text() === PROBE_OUTPUT) return;
    outcome = `it ended (${output.reason}) with status ${output.exitCode} and ${output.stdout.bytes.byteLength} bytes of output`;
  } catch (error) {
    outcome = `it failed: ${firstLine(error)}`;
  }
  throw new WasixEngineError(`the WASIX engine (@wasmer/sdk) did not really run ${what}: it gave no sign of running, and ` +
    `neither did its self-check program, which must print "${PROBE_OUTPUT.trim()}" and exit ${PROBE_EXIT} (${outcome}). ${silentRunHint()}`);
}

/** The sdk names a guest's argv[0] after its command, whose name allows only these characters. */
function commandName(argv0 = ''): string {
  const base = argv0.slice(argv0.lastIndexOf('/') + 1).replace(/[^A-Za-z0-9._+-]/g, '_');
  return base === '' || base === '.' || base === '..' ? 'main' : base;
}

function isSdkError(error: unknown, code?: string): error is Error & { code: string } {
  return error instanceof Error && error.name === 'WasmerError' && (code === undefined || (error as { code?: unknown }).code === code);
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
