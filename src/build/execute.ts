import { posix } from 'node:path';
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
}

/** Progress as plain values: which stage and step is starting. */
export interface StepEvent {
  stage: number;
  stageCount: number;
  step: number;
  stepCount: number;
  text: string;
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

  constructor(
    private readonly opts: BuildOptions,
    private readonly plan: Plan,
    private readonly ctx: StepContext,
    private readonly created: string,
  ) {}

  async run(stage: Stage, done: Map<number, StageState>): Promise<StageState> {
    const { state, triggers } = await this.base(stage, done);
    const steps = [...this.onbuildTriggers(triggers, stage), ...stage.instructions];
    for (const [i, ins] of steps.entries()) {
      this.opts.onStep?.({ stage: stage.index, stageCount: this.plan.stages.length, step: i + 1, stepCount: steps.length, text: ins.text });
      const createdBy = await this.step(state, ins, stage, done);
      if (createdBy !== undefined) state.history.push(this.historyEntry(ins, createdBy));
    }
    return state;
  }

  /** The stage's starting state, and the ONBUILD triggers its base recorded (which run first). */
  private async base(stage: Stage, done: Map<number, StageState>): Promise<{ state: StageState; triggers: string[] }> {
    if (stage.baseStage !== undefined) {
      const parent = done.get(stage.baseStage)!;
      const config = { ...parent.config, history: parent.history };
      const state = newStage(new Tree(cloneNode(parent.tree.root) as DirNode), config, { parentVars: parent.vars });
      return { state, triggers: parent.config.config.OnBuild ?? [] };
    }
    const flag = stage.from.flags.platform;
    const platform = typeof flag === 'string' ? located(this.ctx, stage.from, () => expandWord(flag, this.plan.metaArgs, { escape: this.ctx.escape })) : undefined;
    if (platform === '') {
      throw stepError(this.ctx, stage.from, 'PLATFORM', `empty platform value from expression ${flag}`, String(flag), 'declare the ARG it uses before the first FROM, or pass it with --build-arg');
    }
    const image = await this.opts.images.load(stage.base, { file: this.ctx.file, line: stage.from.line }, platform);
    const state = newStage(new Tree(cloneNode(image.tree.root) as DirNode), image.config, { scratch: stage.base === 'scratch' });
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
  private async step(state: StageState, ins: Instruction, stage: Stage, done: Map<number, StageState>): Promise<string | undefined> {
    const ctx = this.ctx;
    switch (ins.keyword) {
      case 'ARG': return applyArg(state, ins, ctx);
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
      case 'COPY': case 'ADD': return applyCopy(state, ins, await this.copySource(state, ins, stage, done), ctx);
      case 'RUN':
        throw stepError(ctx, ins, 'RUN_UNSUPPORTED', 'RUN cannot execute yet: running commands at build time arrives with the sandbox runtime', ins.text,
          'produce the files outside the build and COPY them in, or build a --target stage that has no RUN');
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
    return `WORKDIR ${path}`;
  }

  private async copySource(state: StageState, ins: InstructionOf<'COPY' | 'ADD'>, stage: Stage, done: Map<number, StageState>): Promise<CopySource> {
    if (typeof ins.flags.from !== 'string') {
      this.context ??= loadContext(this.opts.contextDir, { dockerfilePath: this.opts.dockerfilePath });
      return { tree: await this.context, name: 'the build context', isContext: true };
    }
    // The plan has checked --from holds no variables: BuildKit does not expand it.
    const ref = ins.flags.from;
    const index = stageRef(ref, this.plan.byName);
    if (index !== undefined) {
      const from = done.get(index);
      if (!from) throw stepError(this.ctx, ins, 'STAGE_CYCLE', `stage ${ref} is not built before stage ${stage.index}`, `--from=${ref}`);
      return { tree: from.tree, name: `stage ${ref}`, isContext: false };
    }
    const image = await this.opts.images.load(ref, { file: this.ctx.file, line: ins.line });
    return { tree: image.tree, name: `image ${ref}`, isContext: false };
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
