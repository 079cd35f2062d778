// RUN at build time, as BuildKit's dispatchRun (frontend/dockerfile/dockerfile2llb/convert.go) defines it:
// exec form as written, shell form and heredocs through the stage's SHELL, the stage's variables (ENV and
// ARG values) as the environment, WORKDIR as cwd, USER as uid/gid. The command runs in the same sandbox as
// `wasmbox run`, over the stage's files; what it changes becomes the stage's next layer, and is kept in the
// build cache under a key made of everything that decides it.
import { resolveUser } from '../../runtime/core/run.js';
import { LaunchError, NO_INPUT, type Launcher } from '../../runtime/core/process.js';
import type { DirNode as VDir } from '../../runtime/core/vfs.js';
import type { InstructionOf } from '../dockerfile/instructions.js';
import { WasmboxError } from '../errors.js';
import { Tree } from '../fs/tree.js';
import type { BuildCache, RunRecord, Stream } from './cache.js';
import { hashKey } from './cache-key.js';
import { located, stepError } from './config.js';
import { type MountHost, prepareMounts, type PreparedMount } from './run-mounts.js';
import { runCommand, runEnvironment, runHistory } from './run-command.js';
import { Sandbox, TreeMirror } from './sandbox.js';
import { applyLayerBytes, changesOf, layerBytes } from './sandbox-diff.js';
import type { StageState } from './stage.js';

/** What RUN needs from the build besides the stage. */
export interface RunHost extends MountHost {
  launcher: Launcher;
  /** SOURCE_DATE_EPOCH, when set: what RUN changes gets at most this mtime. */
  sourceDateEpoch?: number;
  /** Skip cache lookups (results are still stored), as `--no-cache`. */
  noCache: boolean;
  /** RUN's output as it is written. */
  onOutput?: (chunk: Uint8Array, stream: Stream) => void;
  /** Called when the step's result came from the cache instead of running. */
  onCached?: () => void;
  log?: (message: string) => void;
}

/** The process a RUN starts, exactly: what its cache key is made of. */
interface Spec {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
}

const TAIL_LINES = 20;

/** Run a RUN instruction on the stage (or replay it from the cache); returns its history text. */
export async function applyRun(state: StageState, ins: InstructionOf<'RUN'>, host: RunHost): Promise<string> {
  checkFlags(ins, host);
  const command = runCommand(state, ins);
  const sandbox = new Sandbox(state.tree);
  const user = located(host.ctx, ins, () => userOf(sandbox, state.config.config.User));
  const spec: Spec = { argv: command.argv, env: runEnvironment(state, user.home), cwd: state.config.config.WorkingDir || '/', uid: user.uid, gid: user.gid };
  const mounts = await prepareMounts(state, ins, host);
  const key = hashKey(state.fsKey, 'RUN', spec, command.script ?? null, mounts.map((m) => m.key));
  const history = runHistory(state, command.argv);
  const cached = host.noCache ? undefined : await host.cache.getRun(key);
  const record = cached ?? (await execute(sandbox, spec, command.script, mounts, ins, host));
  await located(host.ctx, ins, () => applyLayerBytes(state.tree, record.layer, `RUN at line ${ins.line}`));
  if (cached) host.onCached?.();
  else await store(host.cache, key, record, host);
  state.fsKey = key;
  return history;
}

function checkFlags(ins: InstructionOf<'RUN'>, host: RunHost): void {
  const network = ins.flags.network;
  if (typeof network === 'string' && network !== 'none') {
    const known = ['default', 'host'].includes(network);
    throw stepError(host.ctx, ins, known ? 'RUN_NETWORK' : 'RUN_FLAG', known ? `--network=${network}: a box has no network` : `--network=${network}: invalid network mode`, `--network=${network}`,
      'a RUN always runs without a network: use --network=none, or download what it needs into the build context and COPY it');
  }
  if (typeof ins.flags.security === 'string') {
    throw stepError(host.ctx, ins, 'RUN_FLAG', `--security=${ins.flags.security} is not supported: a box runs every command in the same sandbox`, `--security=${ins.flags.security}`, 'remove the --security flag');
  }
}

function userOf(sandbox: Sandbox, user: string | undefined): { uid: number; gid: number; home: string } {
  try {
    return resolveUser(sandbox.vfs, user);
  } catch (err) {
    throw new WasmboxError('USER_UNKNOWN', (err as Error).message.replace(/^USER [^:]*: /, ''), { instruction: 'USER', value: user, hint: 'use a numeric uid, or create the user (e.g. in /etc/passwd) before this RUN' });
  }
}

/** Run the command in a sandbox over the stage's files; the layer of what it changed, or an error at the RUN. */
async function execute(sandbox: Sandbox, spec: Spec, script: { name: string; data: string } | undefined, mounts: PreparedMount[], ins: InstructionOf<'RUN'>, host: RunHost): Promise<RunRecord> {
  if (script) sandbox.attach('/dev/pipes', pipeDir(sandbox, script));
  await located(host.ctx, ins, async () => {
    for (const mount of mounts) await mount.attach(sandbox);
  }, 'RUN --mount');
  const output = new OutputLog(host.onOutput);
  let code: number;
  try {
    code = await host.launcher({ ...spec, vfs: sandbox.vfs, stdin: NO_INPUT, stdout: output.sink('stdout'), stderr: output.sink('stderr'), log: host.log });
  } catch (err) {
    if (!(err instanceof LaunchError)) throw sandboxFailure(err, ins, host);
    output.note(err.message);
    code = err.exitCode;
  }
  // Cache mounts keep what the command wrote whether it succeeded or not, as BuildKit's do.
  for (const mount of mounts) await mount.finish();
  if (code !== 0) throw exitError(code, output, ins, host);
  sandbox.detachAll();
  const owner = spec.uid === 0 ? undefined : { uid: spec.uid, gid: spec.gid };
  const changes = changesOf(sandbox.mirror, sandbox.vfs.root, { clamp: host.sourceDateEpoch, owner, skip: sandbox.mounted });
  return { layer: await layerBytes(changes), output: output.records };
}

/** A read-only /dev/pipes holding a heredoc script that starts with `#!`, as BuildKit mounts it. */
function pipeDir(sandbox: Sandbox, script: { name: string; data: string }): VDir {
  const tree = new Tree();
  tree.root.children.set(script.name, { kind: 'file', data: new TextEncoder().encode(script.data), mode: 0o755, uid: 0, gid: 0, mtime: 0 });
  return new TreeMirror(sandbox.vfs, tree, true).dir(tree.root, '/');
}

async function store(cache: BuildCache, key: string, record: RunRecord, host: RunHost): Promise<void> {
  try {
    await cache.putRun(key, record);
  } catch (err) {
    // A cache that cannot be written only costs the next build time.
    host.log?.(`warning: cannot write the build cache: ${(err as Error).message}`);
  }
}

/** Streams output to the build log as it comes, keeps it for the cache, and keeps the last lines for errors. */
class OutputLog {
  readonly records: RunRecord['output'] = [];
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  private kept = 0;

  constructor(private readonly forward?: (chunk: Uint8Array, stream: Stream) => void) {}

  sink(stream: Stream): (bytes: Uint8Array) => void {
    return (bytes) => {
      this.forward?.(bytes, stream);
      this.add(stream, this.decoders[stream].decode(bytes, { stream: true }));
    };
  }

  /** Add a message of the sandbox's own (why a command could not start) to stderr. */
  note(message: string): void {
    this.forward?.(new TextEncoder().encode(`${message}\n`), 'stderr');
    this.add('stderr', `${message}\n`);
  }

  /** The last lines of stderr (or of stdout when stderr is empty). */
  tail(): string {
    const of = (stream: Stream) => this.records.filter((r) => r.stream === stream).map((r) => r.text).join('');
    const text = (of('stderr') || of('stdout')).replace(/\n+$/, '');
    return text === '' ? '' : text.split('\n').slice(-TAIL_LINES).join('\n');
  }

  private add(stream: Stream, text: string): void {
    if (text === '') return;
    // Output is kept up to 1 MiB; the newest matters most for errors, so older records go first.
    this.records.push({ stream, text });
    this.kept += text.length;
    while (this.kept > 1 << 20 && this.records.length > 1) this.kept -= this.records.shift()!.text.length;
  }
}

function exitError(code: number, output: OutputLog, ins: InstructionOf<'RUN'>, host: RunHost): WasmboxError {
  const tail = output.tail();
  const lines = tail ? `\n${tail.split('\n').map((l) => `  | ${l}`).join('\n')}` : '';
  const hint = code === 127
    ? 'the program was not found in the box: install it in an earlier step or start from a base image that has it'
    : code === 126
      ? 'the program cannot run in a box (a native binary or not executable): use a WebAssembly build of it'
      : 'the command failed; its last output is above';
  return new WasmboxError('RUN_FAILED', `exit code ${code}${lines}`, { location: { file: host.ctx.file, line: ins.line }, instruction: shortText(ins.text), hint });
}

function sandboxFailure(err: unknown, ins: InstructionOf<'RUN'>, host: RunHost): WasmboxError {
  if (err instanceof WasmboxError) return err.at({ file: host.ctx.file, line: ins.line }, 'RUN');
  return new WasmboxError('RUN_SANDBOX', `the sandbox could not run the command: ${(err as Error)?.message ?? String(err)}`, {
    location: { file: host.ctx.file, line: ins.line }, instruction: 'RUN', cause: err,
    hint: 'this is a problem in wasmbox, not in the Dockerfile; please report it with the Dockerfile',
  });
}

/** The instruction as written, on one line and short enough for an error message. */
function shortText(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
