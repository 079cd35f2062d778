import { WasmboxError } from '../errors.js';
import { expandWord } from '../dockerfile/expand.js';
import type { Command, Instruction, InstructionOf } from '../dockerfile/instructions.js';
import type { Healthcheck } from '../image/config.js';
import { type StageState, scope, setEnv, shellOf } from './stage.js';

/** What metadata handlers need from the build: where they are and the build-wide inputs. */
export interface StepContext {
  file: string;
  buildArgs: Map<string, string>;
  /** Global ARG values, inherited by `ARG name` re-declared in a stage. */
  metaArgs: Map<string, string>;
  /** mtime for files and directories the build creates (SOURCE_DATE_EPOCH or 0). */
  epoch: number;
}

type Of<K extends Instruction['keyword']> = InstructionOf<K>;

/** Expand a word against the stage's variables, locating any error at the instruction. */
export function expandIn(state: StageState, word: string, ins: Instruction, ctx: StepContext, vars = scope(state)): string {
  try {
    return expandWord(word, vars);
  } catch (err) {
    if (err instanceof WasmboxError) throw err.at({ file: ctx.file, line: ins.line }, ins.keyword);
    throw err;
  }
}

/** A user error located at an instruction. */
export function stepError(ctx: StepContext, ins: Instruction, code: string, message: string, value: string, hint?: string): WasmboxError {
  return new WasmboxError(code, message, { location: { file: ctx.file, line: ins.line }, instruction: ins.keyword, value, hint });
}

/** ARG: declare variables; a build arg wins over the default, a bare re-declaration inherits the global value. Values are never expanded when they come from --build-arg. */
export function applyArg(state: StageState, ins: Of<'ARG'>, ctx: StepContext): void {
  for (const { name, value } of ins.pairs) {
    const given = ctx.buildArgs.get(name);
    if (given !== undefined) state.args.set(name, given);
    else if (value !== undefined) state.args.set(name, expandIn(state, value, ins, ctx));
    else if (ctx.metaArgs.has(name)) state.args.set(name, ctx.metaArgs.get(name)!);
    else state.args.delete(name);
  }
}

/** ENV: every pair on the line expands against the variables as they were before the line. */
export function applyEnv(state: StageState, ins: Of<'ENV'>, ctx: StepContext): void {
  const before = scope(state);
  const values = ins.pairs.map(({ name, value }) => [expandIn(state, name, ins, ctx, before), expandIn(state, value ?? '', ins, ctx, before)]);
  for (const [name, value] of values) setEnv(state, name, value);
}

/** LABEL: keys and values both expand. */
export function applyLabel(state: StageState, ins: Of<'LABEL'>, ctx: StepContext): void {
  const labels = { ...(state.config.config.Labels ?? {}) };
  for (const { name, value } of ins.pairs) labels[expandIn(state, name, ins, ctx)] = expandIn(state, value ?? '', ins, ctx);
  state.config.config.Labels = labels;
}

/** The argv a command becomes in the config: exec form as is, shell form through the stage's SHELL. */
export function commandArgv(state: StageState, command: Command): string[] {
  return command.form === 'exec' ? command.argv : [...shellOf(state), command.text];
}

/** CMD and ENTRYPOINT; a new ENTRYPOINT drops a CMD inherited from the base. */
export function applyCommand(state: StageState, ins: Of<'CMD' | 'ENTRYPOINT'>): void {
  const argv = commandArgv(state, ins.command);
  if (ins.keyword === 'CMD') {
    state.config.config.Cmd = argv;
    state.cmdSet = true;
    return;
  }
  state.config.config.Entrypoint = argv;
  if (!state.cmdSet) state.config.config.Cmd = null;
}

/** USER: `user[:group]`, names or ids, kept as written after expansion. */
export function applyUser(state: StageState, ins: Of<'USER'>, ctx: StepContext): void {
  const user = expandIn(state, ins.value, ins, ctx);
  if (user === '' || user.startsWith(':') || user.split(':').length > 2) {
    throw stepError(ctx, ins, 'USER_INVALID', 'USER must be user or user:group', user, 'write USER name, USER 1000 or USER 1000:1000');
  }
  state.config.config.User = user;
}

/** EXPOSE: `port[/proto]` and ranges `from-to[/proto]`, each recorded as `N/proto`. */
export function applyExpose(state: StageState, ins: Of<'EXPOSE'>, ctx: StepContext): void {
  const ports = { ...(state.config.config.ExposedPorts ?? {}) };
  for (const word of ins.values) {
    const spec = expandIn(state, word, ins, ctx);
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!m || from < 1 || to > 65535 || to < from) {
      throw stepError(ctx, ins, 'EXPOSE_INVALID', `invalid port specification "${spec}"`, spec, 'write EXPOSE 80, 53/udp or 8000-8010/tcp');
    }
    const proto = (m[3] ?? 'tcp').toLowerCase();
    for (let p = from; p <= to; p++) ports[`${p}/${proto}`] = {};
  }
  state.config.config.ExposedPorts = ports;
}

/** VOLUME: paths recorded as mount points. */
export function applyVolume(state: StageState, ins: Of<'VOLUME'>, ctx: StepContext): void {
  const volumes = { ...(state.config.config.Volumes ?? {}) };
  for (const word of ins.values) {
    const path = expandIn(state, word, ins, ctx);
    if (path.trim() === '') throw stepError(ctx, ins, 'VOLUME_INVALID', 'VOLUME specified can not be an empty string', word);
    volumes[path] = {};
  }
  state.config.config.Volumes = volumes;
}

const SIGNALS = 'HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS'.split(' ');

/** STOPSIGNAL: a signal name (`SIGTERM`, `TERM`) or number. */
export function applyStopSignal(state: StageState, ins: Of<'STOPSIGNAL'>, ctx: StepContext): void {
  const signal = expandIn(state, ins.value, ins, ctx);
  const name = signal.toUpperCase().replace(/^SIG/, '');
  const ok = /^\d+$/.test(signal) ? Number(signal) >= 1 && Number(signal) <= 64 : SIGNALS.includes(name) || /^RTMIN\+\d+$/.test(name);
  if (!ok) throw stepError(ctx, ins, 'STOPSIGNAL_INVALID', `invalid signal "${signal}"`, signal, 'write STOPSIGNAL SIGTERM or a number such as 15');
  state.config.config.StopSignal = signal;
}

/** HEALTHCHECK: NONE, or CMD with durations (Go syntax, stored in nanoseconds) and retries. */
export function applyHealthcheck(state: StageState, ins: Of<'HEALTHCHECK'>, ctx: StepContext): void {
  if (ins.command === 'NONE') {
    state.config.config.Healthcheck = { Test: ['NONE'] };
    return;
  }
  const test = ins.command.form === 'exec' ? ['CMD', ...ins.command.argv] : ['CMD-SHELL', ins.command.text];
  const check: Healthcheck = { Test: test };
  const durations = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' } as const;
  for (const [flag, key] of Object.entries(durations)) {
    const raw = ins.flags[flag];
    if (typeof raw === 'string') check[key] = parseDuration(raw, `--${flag}`, ctx, ins);
  }
  if (typeof ins.flags.retries === 'string') {
    const n = Number(ins.flags.retries);
    if (!Number.isInteger(n) || n < 0) throw stepError(ctx, ins, 'HEALTHCHECK_INVALID', '--retries must be a whole number', ins.flags.retries);
    check.Retries = n;
  }
  state.config.config.Healthcheck = check;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration (`1m30s`, `500ms`) in nanoseconds. */
export function parseDuration(text: string, flag: string, ctx: StepContext, ins: Instruction): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (text === '0') return 0;
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw stepError(ctx, ins, 'HEALTHCHECK_INVALID', `${flag} is not a duration`, text, 'write a duration such as 30s, 1m30s or 500ms');
  }
  const ns = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0);
  if (ns > 0 && ns < 1e6) throw stepError(ctx, ins, 'HEALTHCHECK_INVALID', `${flag} cannot be less than 1ms`, text);
  return Math.round(ns);
}
