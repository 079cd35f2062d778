import { DEFAULT_PATH, type HistoryEntry, type ImageConfig } from '../image/config.js';
import { Tree } from '../fs/tree.js';

/** The state of a stage while it is built: its filesystem, its config, and the variables in scope. */
export interface StageState {
  tree: Tree;
  config: ImageConfig;
  /** ARGs declared in this stage so far, with their values. */
  args: Map<string, string>;
  /** Whether CMD was set in this stage (so a later ENTRYPOINT keeps it). */
  cmdSet: boolean;
  history: HistoryEntry[];
}

/** The shell docker uses for shell-form commands when SHELL was never set. */
export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** A new stage state on top of a base image's filesystem and config (copied, never shared). */
export function newStage(tree: Tree, base: ImageConfig): StageState {
  const config: ImageConfig = structuredClone(base);
  config.config ??= {};
  const env = config.config.Env ?? [];
  // BuildKit gives every image without a PATH the default one.
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(`PATH=${DEFAULT_PATH}`);
  config.config.Env = env;
  if (!config.config.WorkingDir) config.config.WorkingDir = '/';
  return { tree, config, args: new Map(), cmdSet: false, history: [...(base.history ?? [])] };
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

/** Set (or replace, keeping its position) one ENV variable. */
export function setEnv(state: StageState, name: string, value: string): void {
  const env = state.config.config.Env ?? [];
  const entry = `${name}=${value}`;
  const at = env.findIndex((e) => e === name || e.startsWith(`${name}=`));
  if (at >= 0) env[at] = entry;
  else env.push(entry);
  state.config.config.Env = env;
}

/** The variables an instruction's words expand against: ARGs, overridden by ENV (ENV wins, as in BuildKit). */
export function scope(state: StageState): Map<string, string> {
  const vars = new Map(state.args);
  for (const [k, v] of envMap(state)) vars.set(k, v);
  return vars;
}

/** The shell that runs shell-form commands in this stage. */
export function shellOf(state: StageState): string[] {
  return state.config.config.Shell ?? DEFAULT_SHELL;
}
