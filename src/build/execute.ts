import { posix } from 'node:path';
import { launch } from '../../runtime/core/exec.js';
import type { Launcher } from '../../runtime/core/process.js';
import { WasmboxError } from '../errors.js';
import { type Instruction, type InstructionOf, toInstruction } from '../dockerfile/instructions.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { expandWord } from '../dockerfile/expand.js';
import { type Plan, type Stage, plan, stageRef } from '../dockerfile/plan.js';
import { Tree, cloneNode, type DirNode } from '../fs/tree.js';
import type { ImageConfig } from '../image/config.js';
import { type Platform, formatPlatform } from '../image/platform.js';
import { loadContext } from './context.js';
import {
  type StepContext, applyArg, applyCommand, applyEnv, applyExpose, applyHealthcheck, applyLabel, applyMaintainer, applyShell,
  applyStopSignal, applyUser, applyVolume, byBytes, expandIn, located, stepError,
} from './config.js';
import { type CopySource, applyCopy } from './copy.js';
import { type ImageLoader } from './images.js';
import { type StageState, newStage } from './stage.js';
import { resolveOwner } from './users.js';
import { type BuildCache, type Stream, memoryCache } from './cache.js';
import { Digests, copyKey, imageKey, workdirKey } from './cache-key.js';
import { type RunHost, applyRun } from './run.js';

/** Everything a build needs, already read from the command line. */
export interface BuildOptions {
  contextDir: string;
  dockerfileText: string;
  /** How messages name the Dockerfile (`Dockerfile`, `-`). */
  dockerfileName: string;
  /** Absolute path of the Dockerfile on disk, for `<Dockerfile>.dockerignore`. */
  dockerfilePath?: string;
  buildArgs: Map<string, string>;
  target?: string;
  platform: Platform;
  images: ImageLoader;
  /** SOURCE_DATE_EPOCH: fixes `created` and the mtime of what the build creates. */
  sourceDateEpoch?: number;
  onStep?: (step: StepEvent) => void;
  log?: (message: string) => void;
  /** RUN's stdout and stderr, chunk by chunk, as the command writes them. */
  onOutput?: (chunk: Uint8Array, stream: Stream) => void;
  /** Runs RUN commands: the sandbox's `launch` unless a caller brings its own. */
  launcher?: Launcher;
  /** Where RUN results and cache mounts are kept; without one, only for this build (in memory). */
  cache?: BuildCache;
  /** Skip cache lookups (results are still stored), as `--no-cache`. */
  noCache?: boolean;
}

/** Progress as plain values: which stage and step is starting. */
export interface StepEvent {
  stage: number;
  stageCount: number;
  step: number;
  stepCount: number;
  text: string;
  /** Sent a second time for a step whose result came from the build cache (BuildKit's `CACHED`). */
  cached?: boolean;
}

/** The final stage's filesystem and config. */
export interface BuildResult {
  tree: Tree;
  config: ImageConfig;
}

/** Evaluate a Dockerfile the way BuildKit does: parse, plan, then run each needed stage in order. */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  const file = opts.dockerfileName;
  const parsed = parseDockerfile(opts.dockerfileText, file);
  const instructions = parsed.instructions.map((raw) => toInstruction(raw, file, parsed.escape));
  const escape = parsed.escape === '`' ? '`' : '\\';
  const builtins = builtinArgs(opts, instructions);
  const thePlan = plan(instructions, file, opts.buildArgs, opts.target, builtins, escape);
  warnUnusedArgs(instructions, opts);
  const now = opts.sourceDateEpoch === undefined ? new Date() : new Date(opts.sourceDateEpoch * 1000);
  const created = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ctx: StepContext = { file, escape, buildArgs: opts.buildArgs, metaArgs: thePlan.metaArgs, epoch: opts.sourceDateEpoch ?? 0 };
  const runner = new StageRunner(opts, thePlan, ctx, created);
  const results = new Map<number, StageState>();
  for (const index of thePlan.needed) results.set(index, await runner.run(thePlan.stages[index], results));
  const final = results.get(thePlan.target)!;
  return { tree: final.tree, config: finalConfig(final, created) };
}

/**
 * The automatic ARGs BuildKit defines in the global scope: the platforms and TARGETSTAGE (the target's
 * name, or "default"). A --build-arg of the same name replaces the value.
 */
function builtinArgs(opts: BuildOptions, instructions: Instruction[]): Map<string, string> {
  const p: Platform = opts.platform;
  const args = new Map<string, string>();
  for (const prefix of ['BUILD', 'TARGET']) {
    args.set(`${prefix}PLATFORM`, formatPlatform(p));
    args.set(`${prefix}OS`, p.os);
    args.set(`${prefix}ARCH`, p.architecture);
    args.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  const last = instructions.filter((i) => i.keyword === 'FROM').pop();
  args.set('TARGETSTAGE', opts.target || (last?.keyword === 'FROM' && last.stage) || 'default');
  for (const name of args.keys()) if (opts.buildArgs.has(name)) args.set(name, opts.buildArgs.get(name)!);
  return args;
}

function warnUnusedArgs(instructions: Instruction[], opts: BuildOptions): void {
  const declared = new Set(instructions.flatMap((i) => (i.keyword === 'ARG' ? i.pairs.map((p) => p.name) : [])));
  const unused = [...opts.buildArgs.keys()].filter((k) => !declared.has(k));
  if (unused.length) opts.log?.(`warning: build-arg ${unused.join(', ')} not consumed by any ARG`);
}

class StageRunner {
  private context?: Promise<Tree>;
  private readonly digests = new Digests();
  private readonly cache: BuildCache;

  constructor(
    private readonly opts: BuildOptions,
    private readonly plan: Plan,
    private readonly ctx: StepContext,
    private readonly created: string,
  ) {
    this.cache = opts.cache ?? memoryCache();
  }

  async run(stage: Stage, done: Map<number, StageState>): Promise<StageState> {
    const { state, triggers } = await this.base(stage, done);
    const steps = [...this.onbuildTriggers(triggers, stage), ...stage.instructions];
    for (const [i, ins] of steps.entries()) {
      const event: StepEvent = { stage: stage.index, stageCount: this.plan.stages.length, step: i + 1, stepCount: steps.length, text: ins.text };
      this.opts.onStep?.(event);
      const createdBy = await this.step(state, ins, stage, done, () => this.opts.onStep?.({ ...event, cached: true }));
      if (createdBy !== undefined) state.history.push(this.historyEntry(ins, createdBy));
    }
    return state;
  }

  /** The stage's starting state, and the ONBUILD triggers its base recorded (which run first). */
  private async base(stage: Stage, done: Map<number, StageState>): Promise<{ state: StageState; triggers: string[] }> {
    if (stage.baseStage !== undefined) {
      const parent = done.get(stage.baseStage)!;
      const config = { ...parent.config, history: parent.history };
      const state = newStage(new Tree(cloneNode(parent.tree.root) as DirNode), config, { parentVars: parent.vars, parentArgs: parent.args, fsKey: parent.fsKey });
      return { state, triggers: parent.config.config.OnBuild ?? [] };
    }
    const flag = stage.from.flags.platform;
    const platform = typeof flag === 'string' ? located(this.ctx, stage.from, () => expandWord(flag, this.plan.metaArgs, { escape: this.ctx.escape })) : undefined;
    if (platform === '') {
      throw stepError(this.ctx, stage.from, 'PLATFORM', `empty platform value from expression ${flag}`, String(flag), 'declare the ARG it uses before the first FROM, or pass it with --build-arg');
    }
    const image = await this.opts.images.load(stage.base, { file: this.ctx.file, line: stage.from.line }, platform);
    const fsKey = imageKey(image.config, image.tree, this.opts.sourceDateEpoch, this.digests);
    const state = newStage(new Tree(cloneNode(image.tree.root) as DirNode), image.config, { scratch: stage.base === 'scratch', fsKey });
    return { state, triggers: image.config.config?.OnBuild ?? [] };
  }

  /** ONBUILD triggers, parsed as Dockerfile lines of their own (as BuildKit does) and located at the FROM. */
  private onbuildTriggers(triggers: string[], stage: Stage): Instruction[] {
    const file = `${this.ctx.file} (ONBUILD of ${stage.base})`;
    return triggers.flatMap((text) => {
      const parsed = parseDockerfile(text, file);
      if (parsed.instructions.length !== 1) {
        throw new WasmboxError('ONBUILD_INVALID', 'an ONBUILD trigger must be a single instruction', { location: { file, line: stage.from.line }, value: text });
      }
      return parsed.instructions.map((raw) => toInstruction({ ...raw, line: stage.from.line, endLine: stage.from.line }, file, parsed.escape));
    });
  }

  /** Run one instruction; returns what BuildKit writes as its history `created_by`, if it writes any. */
  private async step(state: StageState, ins: Instruction, stage: Stage, done: Map<number, StageState>, onCached: () => void): Promise<string | undefined> {
    const ctx = this.ctx;
    switch (ins.keyword) {
      case 'ARG': state.args.push(...ins.pairs.map((p) => p.name)); return applyArg(state, ins, ctx);
      case 'ENV': return applyEnv(state, ins, ctx);
      case 'LABEL': return applyLabel(state, ins, ctx);
      case 'CMD': case 'ENTRYPOINT': return applyCommand(state, ins);
      case 'SHELL': return applyShell(state, ins);
      case 'USER': return applyUser(state, ins, ctx);
      case 'EXPOSE': return applyExpose(state, ins, ctx);
      case 'VOLUME': return applyVolume(state, ins, ctx);
      case 'STOPSIGNAL': return applyStopSignal(state, ins, ctx);
      case 'HEALTHCHECK': return applyHealthcheck(state, ins, ctx);
      case 'MAINTAINER': return applyMaintainer(state, ins);
      // BuildKit records an ONBUILD in the config only, with no history entry.
      case 'ONBUILD': state.config.config.OnBuild = [...(state.config.config.OnBuild ?? []), ins.trigger]; return undefined;
      case 'WORKDIR': return this.workdir(state, ins);
      case 'COPY': case 'ADD': return this.copy(state, ins, stage, done);
      case 'RUN': return applyRun(state, ins, this.runHost(ins, stage, done, onCached));
      case 'FROM':
        throw stepError(ctx, ins, 'PARSE', 'FROM inside a stage', ins.text);
    }
  }

  private workdir(state: StageState, ins: InstructionOf<'WORKDIR'>): string {
    const path = posix.resolve(state.config.config.WorkingDir || '/', expandIn(state, ins.value, ins, this.ctx));
    state.config.config.WorkingDir = path;
    // WORKDIR / changes no files, so BuildKit makes no directory (and no layer) for it.
    if (path === '/') return 'WORKDIR /';
    let owner = { uid: 0, gid: 0 };
    try {
      if (state.config.config.User) owner = resolveOwner(state.tree, state.config.config.User);
    } catch {
      // An unknown USER name keeps the directory root-owned; the user only matters when something runs.
    }
    located(this.ctx, ins, () => state.tree.mkdirp(path, { mode: 0o755, ...owner, mtime: this.ctx.epoch }));
    state.fsKey = workdirKey(state.fsKey, path, state.config.config.User);
    return `WORKDIR ${path}`;
  }

  private async copy(state: StageState, ins: InstructionOf<'COPY' | 'ADD'>, stage: Stage, done: Map<number, StageState>): Promise<string> {
    const source = await this.source(typeof ins.flags.from === 'string' ? ins.flags.from : undefined, ins, stage, done);
    const vars = new Map(state.vars);
    const workdir = state.config.config.WorkingDir || '/';
    const createdBy = await applyCopy(state, ins, source, this.ctx);
    const expand = (word: string) => expandIn(state, word, ins, this.ctx, vars);
    state.fsKey = copyKey(state.fsKey, ins, createdBy, { source: source.tree, expand, vars, workdir }, this.digests);
    return createdBy;
  }

  /** What RUN needs from this build: mount sources, the cache, the launcher, where output goes. */
  private runHost(ins: Instruction, stage: Stage, done: Map<number, StageState>, onCached: () => void): RunHost {
    const opts = this.opts;
    return {
      ctx: this.ctx, cache: this.cache, digests: this.digests, launcher: opts.launcher ?? launch, noCache: opts.noCache ?? false,
      sourceDateEpoch: opts.sourceDateEpoch, onOutput: opts.onOutput, onCached, log: opts.log,
      mountSource: (from) => this.source(from, ins, stage, done),
    };
  }

  /** The tree `from` names for COPY --from or RUN --mount: the build context when undefined, else an earlier stage or an image. */
  private async source(from: string | undefined, ins: Instruction, stage: Stage, done: Map<number, StageState>): Promise<CopySource> {
    if (from === undefined) {
      this.context ??= loadContext(this.opts.contextDir, { dockerfilePath: this.opts.dockerfilePath });
      return { tree: await this.context, name: 'the build context', isContext: true };
    }
    // The plan has checked --from holds no variables: BuildKit does not expand it.
    const index = stageRef(from, this.plan.byName);
    if (index !== undefined) {
      const built = done.get(index);
      if (!built) throw stepError(this.ctx, ins, 'STAGE_CYCLE', `stage ${from} is not built before stage ${stage.index}`, `--from=${from}`);
      return { tree: built.tree, name: `stage ${from}`, isContext: false };
    }
    const image = await this.opts.images.load(from, { file: this.ctx.file, line: ins.line });
    return { tree: image.tree, name: `image ${from}`, isContext: false };
  }

  /** A history entry as BuildKit writes it: file operations make a layer; COPY/ADD/RUN get a ` # buildkit` mark. */
  private historyEntry(ins: Instruction, createdBy: string) {
    const marked = ins.keyword === 'COPY' || ins.keyword === 'ADD' || ins.keyword === 'RUN';
    const layer = marked || (ins.keyword === 'WORKDIR' && createdBy !== 'WORKDIR /');
    return {
      created: this.created, created_by: marked ? `${createdBy} # buildkit` : createdBy, comment: 'buildkit.dockerfile.v0',
      ...(layer ? {} : { empty_layer: true }),
    };
  }
}

/**
 * The box's config: fixed key order, and map keys sorted as Go's encoding/json writes them, so identical
 * builds serialise identically (and like docker's).
 */
function finalConfig(state: StageState, created: string): ImageConfig {
  const c = state.config;
  const cc = c.config;
  const config = {
    User: cc.User, ExposedPorts: sorted(cc.ExposedPorts), Env: cc.Env, Entrypoint: cc.Entrypoint ?? undefined, Cmd: cc.Cmd ?? undefined,
    Volumes: sorted(cc.Volumes), WorkingDir: cc.WorkingDir, Labels: sorted(cc.Labels), StopSignal: cc.StopSignal, ArgsEscaped: cc.ArgsEscaped,
    Healthcheck: cc.Healthcheck,
    Shell: cc.Shell, OnBuild: cc.OnBuild?.length ? cc.OnBuild : undefined,
  };
  return JSON.parse(JSON.stringify({
    created,
    author: c.author,
    architecture: c.architecture,
    os: c.os,
    variant: c.variant,
    config,
    rootfs: { type: 'layers', diff_ids: [] as string[] },
    history: state.history.length ? state.history : undefined,
  }));
}

function sorted<T>(map: Record<string, T> | undefined): Record<string, T> | undefined {
  if (!map) return undefined;
  const keys = Object.keys(map).sort(byBytes);
  return Object.fromEntries(keys.map((k) => [k, map[k]]));
}
