import { WasmboxError, locateErrors, suggest } from '../errors.js';
import { expandWord } from './expand.js';
import type { Instruction, InstructionOf } from './instructions.js';
import { mountRefs } from './mounts.js';

type FromInstruction = InstructionOf<'FROM'>;
type ArgInstruction = InstructionOf<'ARG'>;

/** One build stage: its FROM, its instructions, and what it depends on. */
export interface Stage {
  index: number;
  name?: string;
  from: FromInstruction;
  /** The FROM image after expanding global ARGs. */
  base: string;
  /** If the base is an earlier stage, its index. */
  baseStage?: number;
  instructions: Instruction[];
  /** Earlier stages this one needs (its base and every `COPY --from`), by index. */
  deps: number[];
}

/** The build plan: global ARGs, every stage, the target, and the stages needed for it, in order. */
export interface Plan {
  /** Stage index by (lower-case) name. */
  byName: Map<string, number>;
  globalArgs: ArgInstruction[];
  /** Global ARG values after applying build args (visible to FROM lines). */
  metaArgs: Map<string, string>;
  stages: Stage[];
  target: number;
  needed: number[];
}

/** Plan a build: split stages, resolve `FROM <stage>` and `--from` references, pick the target, keep what it needs. */
export function plan(
  instructions: Instruction[], file: string, buildArgs: Map<string, string>, target?: string, builtins = new Map<string, string>(), escape: Escape = '\\',
): Plan {
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      stages.push({ index: stages.length, name: ins.stage, from: ins, base: ins.image, instructions: [], deps: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') {
        throw locate(file, ins, 'NO_FROM', `${ins.keyword} before the first FROM; only ARG may come before FROM`, ins.keyword, 'start the stage with FROM image');
      }
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  if (stages.length === 0) {
    throw new WasmboxError('NO_FROM', 'the Dockerfile has no FROM instruction', { location: { file }, hint: 'add a line such as FROM scratch' });
  }
  const metaArgs = resolveMetaArgs(globalArgs, buildArgs, file, builtins, escape);
  const byName = indexNames(stages, file);
  for (const stage of stages) linkStage(stage, byName, metaArgs, file, escape, stages.length);
  const targetIndex = pickTarget(stages, byName, target);
  return { byName, globalArgs, metaArgs, stages, target: targetIndex, needed: neededStages(stages, targetIndex) };
}

function resolveMetaArgs(globalArgs: ArgInstruction[], buildArgs: Map<string, string>, file: string, builtins: Map<string, string>, escape: Escape): Map<string, string> {
  const meta = new Map(builtins);
  for (const ins of globalArgs) {
    for (const { name, value } of ins.pairs) {
      const given = buildArgs.get(name);
      if (given !== undefined) meta.set(name, given);
      else if (value !== undefined) meta.set(name, expandAt(value, meta, file, ins, escape));
    }
  }
  return meta;
}

function indexNames(stages: Stage[], file: string): Map<string, number> {
  const byName = new Map<string, number>();
  for (const stage of stages) {
    if (stage.name === undefined) continue;
    if (byName.has(stage.name)) {
      throw locate(file, stage.from, 'STAGE_DUPLICATE', `stage name "${stage.name}" is already used by stage ${byName.get(stage.name)}`, stage.name, 'give each stage a distinct name');
    }
    byName.set(stage.name, stage.index);
  }
  return byName;
}

function linkStage(stage: Stage, byName: Map<string, number>, metaArgs: Map<string, string>, file: string, escape: Escape, count: number): void {
  stage.base = expandAt(stage.from.image, metaArgs, file, stage.from, escape);
  if (stage.base === '') throw locate(file, stage.from, 'FROM_EMPTY', 'FROM names no image after expanding its variables', stage.from.image, 'set the ARG it uses with --build-arg');
  // BuildKit matches FROM against stage names exactly (names are stored lower-cased).
  const baseStage = byName.get(stage.base);
  if (baseStage !== undefined) {
    if (baseStage >= stage.index) {
      throw locate(file, stage.from, 'STAGE_CYCLE', `stage "${stage.base}" is not defined before this FROM`, stage.base, 'a stage can only build on stages above it');
    }
    stage.baseStage = baseStage;
    stage.deps.push(baseStage);
  }
  for (const ins of stage.instructions) {
    for (const ref of fromRefs(ins)) linkFrom(stage, ins, ref, byName, file, escape, count);
  }
}

/** The stages or images an instruction reads from: `COPY --from`, and `RUN --mount=from=`. */
function fromRefs(ins: Instruction): string[] {
  if (ins.keyword === 'COPY' && typeof ins.flags.from === 'string') return [ins.flags.from];
  return ins.keyword === 'RUN' ? mountRefs(ins) : [];
}

function linkFrom(stage: Stage, ins: Instruction, ref: string, byName: Map<string, number>, file: string, escape: Escape, count: number): void {
  const flag = ins.keyword === 'RUN' ? `--mount=from=${ref}` : `--from=${ref}`;
  if (expandAt(ref, new Map(), file, ins, escape) !== ref) {
    throw locate(file, ins, 'FROM_VARIABLE', 'variable expansion is not supported for --from', `--from=${ref}`,
      'define a stage with FROM using a global ARG (ARG IMG=...; FROM $IMG AS src) and COPY --from=src');
  }
  const dep = stageRef(ref, byName);
  if (dep === undefined) return; // an image reference, opened when the instruction runs
  if (dep >= count) {
    throw locate(file, ins, 'STAGE_UNKNOWN', `invalid stage index ${ref}`, flag, 'stages are numbered from 0 in the order of their FROM lines');
  }
  if (dep >= stage.index) {
    const what = dep === stage.index ? 'the stage itself' : 'a later stage';
    throw locate(file, ins, 'STAGE_CYCLE', `${ins.keyword} ${flag} refers to ${what}`, flag, `${ins.keyword} ${ins.keyword === 'RUN' ? '--mount=from' : '--from'} can only name stages defined above it`);
  }
  stage.deps.push(dep);
}

/** The stage a `--from` value names: a stage name, or a number counting stages from 0. */
export function stageRef(ref: string, byName: Map<string, number>): number | undefined {
  if (/^\d+$/.test(ref)) return Number(ref);
  return byName.get(ref.toLowerCase());
}

function pickTarget(stages: Stage[], byName: Map<string, number>, target?: string): number {
  if (target === undefined) return stages.length - 1;
  const found = byName.get(target.toLowerCase());
  if (found !== undefined) return found;
  const names = [...byName.keys()];
  throw new WasmboxError('TARGET_UNKNOWN', `target stage "${target}" could not be found`, {
    instruction: '--target',
    value: target,
    hint: suggest(target, names) ?? (names.length ? `stages are: ${names.join(', ')}` : 'no stage has a name; name one with FROM image AS name'),
  });
}

function neededStages(stages: Stage[], target: number): number[] {
  const needed = new Set<number>();
  const visit = (i: number) => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const d of stages[i].deps) visit(d);
  };
  visit(target);
  return [...needed].sort((a, b) => a - b);
}

type Escape = '\\' | '`';

function expandAt(word: string, vars: Map<string, string>, file: string, ins: Instruction, escape: Escape): string {
  return locateErrors({ file, line: ins.line }, ins.keyword, () => expandWord(word, vars, { escape }));
}

function locate(file: string, ins: Instruction, code: string, message: string, value: string, hint: string): WasmboxError {
  return new WasmboxError(code, message, { location: { file, line: ins.line }, instruction: ins.keyword, value, hint });
}
