import { DEFAULT_PATH, type HistoryEntry, type ImageConfig } from '../image/config.js';
import { Tree } from '../fs/tree.js';

/** The state of a stage while it is built: its filesystem, its config, and the variables in scope. */
export interface StageState {
  tree: Tree;
  config: ImageConfig;
  /**
   * The variables words expand against, in BuildKit's model: one ordered environment that starts
   * with the base's Env and that ENV and every ARG with a value write to, so the later one wins.
   */
  vars: Map<string, string>;
  /** Whether CMD was set in this stage (so a later ENTRYPOINT keeps it). */
  cmdSet: boolean;
  history: HistoryEntry[];
  /** The ARGs declared in this stage (and in the stage it is built FROM), in order: RUN's history lists them. */
  args: string[];
  /** The build cache key of the filesystem as it is now (see cache-key.ts). */
  fsKey: string;
}

/** How a stage starts: from an image (scratch gets WorkingDir "/"), or from an earlier stage's variables. */
export interface StageBase {
  scratch?: boolean;
  /** The variables of the stage this one is built `FROM`: BuildKit carries its ARGs over. */
  parentVars?: Map<string, string>;
  /** The ARGs declared in the stage this one is built `FROM`. */
  parentArgs?: string[];
  /** The cache key of the starting filesystem. */
  fsKey?: string;
}

/** The shell docker uses for shell-form commands when SHELL was never set. */
export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** A new stage state on top of a base image's filesystem and config (copied, never shared). */
export function newStage(tree: Tree, base: ImageConfig, from: StageBase = {}): StageState {
  const config: ImageConfig = structuredClone(base);
  config.config ??= {};
  // ONBUILD triggers never carry over: the new stage runs them (or drops them) itself.
  config.config.OnBuild = null;
  const env = config.config.Env ?? [];
  // BuildKit makes sure PATH is always set, appending the default when the base has none.
  if (!env.some((e) => e.startsWith('PATH='))) env.push(`PATH=${DEFAULT_PATH}`);
  config.config.Env = env;
  if (from.scratch) config.config.WorkingDir = '/';
  const state: StageState = {
    tree, config, vars: new Map(from.parentVars), cmdSet: false, history: [...(base.history ?? [])], args: [...(from.parentArgs ?? [])], fsKey: from.fsKey ?? '',
  };
  // The image's Env is applied over the inherited variables, so an ARG that shadowed an ENV in the
  // parent stage is shadowed again in the child.
  for (const [k, v] of envMap(state)) state.vars.set(k, v);
  return state;
}

/** The ENV of a stage as a map, in declaration order. */
export function envMap(state: StageState): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of state.config.config.Env ?? []) {
    const eq = entry.indexOf('=');
    if (eq < 0) env.set(entry, '');
    else env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/** Set (or replace, keeping its position) one ENV variable; it is also in scope from now on. */
export function setEnv(state: StageState, name: string, value: string): void {
  const env = state.config.config.Env ?? [];
  const entry = `${name}=${value}`;
  const at = env.findIndex((e) => e === name || e.startsWith(`${name}=`));
  if (at >= 0) env[at] = entry;
  else env.push(entry);
  state.config.config.Env = env;
  state.vars.set(name, value);
}

/** The variables an instruction's words expand against (a copy). */
export function scope(state: StageState): Map<string, string> {
  return new Map(state.vars);
}

/** The shell that runs shell-form commands in this stage. */
export function shellOf(state: StageState): string[] {
  return state.config.config.Shell ?? DEFAULT_SHELL;
}
