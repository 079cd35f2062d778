import { WasmboxError, locateErrors } from '../errors.js';
import { expandWord, expandWords } from '../dockerfile/expand.js';
import type { Command, Instruction, InstructionOf } from '../dockerfile/instructions.js';
import type { Healthcheck } from '../image/config.js';
import { goList, goQuoteList, healthcheckText } from './history.js';
import { type StageState, scope, setEnv, shellOf } from './stage.js';

/**
 * What metadata handlers need from the build: where they are and the build-wide inputs. Each handler
 * returns the `created_by` text BuildKit records for the instruction in the image history.
 */
export interface StepContext {
  file: string;
  /** The `# escape=` character: words expand with it, as BuildKit's lexer does. */
  escape: '\\' | '`';
  buildArgs: Map<string, string>;
  /** Global ARG values, inherited by `ARG name` re-declared in a stage. */
  metaArgs: Map<string, string>;
  /** mtime for files and directories the build creates (SOURCE_DATE_EPOCH or 0). */
  epoch: number;
}

type Of<K extends Instruction['keyword']> = InstructionOf<K>;

/** Expand a word against the stage's variables, locating any error at the instruction. */
export function expandIn(state: StageState, word: string, ins: Instruction, ctx: StepContext, vars: ReadonlyMap<string, string> = state.vars): string {
  return located(ctx, ins, () => expandWord(word, vars, { escape: ctx.escape }));
}

/** Expand a word and split the result into words (BuildKit's ProcessWords, used by EXPOSE). */
export function expandListIn(state: StageState, word: string, ins: Instruction, ctx: StepContext): string[] {
  return located(ctx, ins, () => expandWords(word, state.vars, { escape: ctx.escape }));
}

/** Run `work`, locating a WasmboxError it throws at the instruction. */
export function located<T>(ctx: StepContext, ins: Instruction, work: () => T, instruction: string = ins.keyword): T {
  return locateErrors({ file: ctx.file, line: ins.line }, instruction, work);
}

/** A user error located at an instruction. */
export function stepError(ctx: StepContext, ins: Instruction, code: string, message: string, value: string, hint?: string): WasmboxError {
  return new WasmboxError(code, message, { location: { file: ctx.file, line: ins.line }, instruction: ins.keyword, value, hint });
}

/**
 * ARG: declare variables. A build arg wins over the default and is never expanded; a bare name takes
 * the global value; a name with no value anywhere changes nothing (BuildKit keeps an earlier value).
 */
export function applyArg(state: StageState, ins: Of<'ARG'>, ctx: StepContext): string {
  const shown = ins.pairs.map(({ name, value }) => {
    let v = ctx.buildArgs.get(name);
    if (v === undefined && value !== undefined) v = expandIn(state, value, ins, ctx);
    if (v === undefined) v = ctx.metaArgs.get(name);
    if (v === undefined) return name;
    state.vars.set(name, v);
    return `${name}=${v}`;
  });
  return `ARG ${shown.join(' ')}`;
}

/** ENV: every pair on the line expands against the variables as they were before the line. */
export function applyEnv(state: StageState, ins: Of<'ENV'>, ctx: StepContext): string {
  const before = scope(state);
  const values = ins.pairs.map(({ name, value }) => [expandIn(state, name, ins, ctx, before), expandIn(state, value ?? '', ins, ctx, before)]);
  for (const [name, value] of values) setEnv(state, name, value);
  return ['ENV', ...values.map(([k, v]) => `${k}=${v}`)].join(' ');
}

/** LABEL: keys and values both expand. */
export function applyLabel(state: StageState, ins: Of<'LABEL'>, ctx: StepContext): string {
  const labels = { ...(state.config.config.Labels ?? {}) };
  const shown: string[] = [];
  for (const { name, value } of ins.pairs) {
    const [k, v] = [expandIn(state, name, ins, ctx), expandIn(state, value ?? '', ins, ctx)];
    labels[k] = v;
    shown.push(`${k}=${v}`);
  }
  state.config.config.Labels = labels;
  return ['LABEL', ...shown].join(' ');
}

/** The argv a command becomes in the config: exec form as is, shell form through the stage's SHELL. */
export function commandArgv(state: StageState, command: Command): string[] {
  return command.form === 'exec' ? command.argv : [...shellOf(state), command.text];
}

/** CMD and ENTRYPOINT (never expanded); a new ENTRYPOINT drops a CMD not set in this stage. */
export function applyCommand(state: StageState, ins: Of<'CMD' | 'ENTRYPOINT'>): string {
  const argv = commandArgv(state, ins.command);
  if (ins.keyword === 'CMD') {
    state.config.config.Cmd = argv;
    // BuildKit sets this deprecated Docker field on every CMD, on Linux too.
    state.config.config.ArgsEscaped = true;
    state.cmdSet = true;
    return `CMD ${goQuoteList(argv)}`;
  }
  // `ENTRYPOINT []` clears the entrypoint (BuildKit stores null).
  state.config.config.Entrypoint = argv.length ? argv : null;
  if (!state.cmdSet) state.config.config.Cmd = null;
  return `ENTRYPOINT ${goQuoteList(argv)}`;
}

/** SHELL: the argv later shell-form commands run under. */
export function applyShell(state: StageState, ins: Of<'SHELL'>): string {
  state.config.config.Shell = ins.argv;
  return `SHELL ${goList(ins.argv)}`;
}

/** MAINTAINER: the image author, taken literally (BuildKit neither expands nor unquotes it). */
export function applyMaintainer(state: StageState, ins: Of<'MAINTAINER'>): string {
  state.config.author = ins.value;
  return `MAINTAINER ${ins.value}`;
}

/** USER: `user[:group]`, names or ids, kept as written after expansion. */
export function applyUser(state: StageState, ins: Of<'USER'>, ctx: StepContext): string {
  const user = expandIn(state, ins.value, ins, ctx);
  if (user === '' || user.startsWith(':') || user.split(':').length > 2) {
    throw stepError(ctx, ins, 'USER_INVALID', 'USER must be user or user:group', user, 'write USER name, USER 1000 or USER 1000:1000');
  }
  state.config.config.User = user;
  return `USER ${user}`;
}

const PORT = /^(\d+)(?:-(\d+))?(?:\/([A-Za-z]+))?$/;

/**
 * EXPOSE: `port[/proto]` and ranges `from-to[/proto]`, each recorded as `N/proto`. Like BuildKit, words
 * are expanded and split, written in sorted order, and an `[ip:][hostport:]` prefix is accepted and dropped.
 */
export function applyExpose(state: StageState, ins: Of<'EXPOSE'>, ctx: StepContext): string {
  const ports = { ...(state.config.config.ExposedPorts ?? {}) };
  const recorded: string[] = [];
  for (const word of [...ins.values].sort(byBytes)) {
    for (const spec of expandListIn(state, word, ins, ctx)) {
      const m = PORT.exec(spec.split(':').pop()!);
      const [from, to] = [Number(m?.[1]), m?.[2] === undefined ? Number(m?.[1]) : Number(m[2])];
      const proto = (m?.[3] ?? 'tcp').toLowerCase();
      if (!m || to > 65535 || to < from || !['tcp', 'udp', 'sctp'].includes(proto)) {
        throw stepError(ctx, ins, 'EXPOSE_INVALID', `invalid port specification "${spec}"`, spec, 'write EXPOSE 80, 53/udp or 8000-8010/tcp');
      }
      for (let p = from; p <= to; p++) recorded.push(`${p}/${proto}`);
    }
  }
  for (const port of recorded) ports[port] = {};
  state.config.config.ExposedPorts = ports;
  return `EXPOSE ${goList(recorded)}`;
}

/** Byte-order comparison of strings, as Go sorts map keys when it writes JSON. */
export function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** VOLUME: paths recorded as mount points. */
export function applyVolume(state: StageState, ins: Of<'VOLUME'>, ctx: StepContext): string {
  const volumes = { ...(state.config.config.Volumes ?? {}) };
  const paths = ins.values.map((word) => expandIn(state, word, ins, ctx));
  for (const path of paths) {
    if (path === '') throw stepError(ctx, ins, 'VOLUME_INVALID', 'VOLUME specified can not be an empty string', path);
    volumes[path] = {};
  }
  state.config.config.Volumes = volumes;
  return `VOLUME ${goList(paths)}`;
}

const SIGNALS = 'HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS'.split(' ');

/** STOPSIGNAL: a signal name (`SIGTERM`, `TERM`) or number. */
export function applyStopSignal(state: StageState, ins: Of<'STOPSIGNAL'>, ctx: StepContext): string {
  const signal = expandIn(state, ins.value, ins, ctx);
  const name = signal.toUpperCase().replace(/^SIG/, '');
  const ok = /^\d+$/.test(signal) ? Number(signal) >= 1 && Number(signal) <= 64 : SIGNALS.includes(name) || /^RTMIN\+\d+$/.test(name);
  if (!ok) throw stepError(ctx, ins, 'STOPSIGNAL_INVALID', `invalid signal "${signal}"`, signal, 'write STOPSIGNAL SIGTERM or a number such as 15');
  state.config.config.StopSignal = signal;
  return `STOPSIGNAL ${signal}`;
}

/** HEALTHCHECK: NONE, or CMD with durations (Go syntax, stored in nanoseconds) and retries; never expanded. */
export function applyHealthcheck(state: StageState, ins: Of<'HEALTHCHECK'>, ctx: StepContext): string {
  state.config.config.Healthcheck = ins.command === 'NONE' ? { Test: ['NONE'] } : healthcheck(ins, ins.command, ctx);
  return healthcheckText(state.config.config.Healthcheck);
}

function healthcheck(ins: Of<'HEALTHCHECK'>, command: Command, ctx: StepContext): Healthcheck {
  const test = command.form === 'exec' ? ['CMD', ...command.argv] : ['CMD-SHELL', command.text];
  const check: Healthcheck = { Test: test };
  const durations = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' } as const;
  for (const [flag, key] of Object.entries(durations)) {
    const raw = ins.flags[flag];
    const ns = typeof raw === 'string' && raw !== '' ? parseDuration(raw, `--${flag}`, ctx, ins) : 0;
    if (ns) check[key] = ns;
  }
  if (typeof ins.flags.retries === 'string' && ins.flags.retries !== '') {
    const n = Number(ins.flags.retries);
    if (!/^[+-]?\d+$/.test(ins.flags.retries) || n < 0) throw stepError(ctx, ins, 'HEALTHCHECK_INVALID', '--retries must be a whole number, not negative', ins.flags.retries);
    if (n) check.Retries = n;
  }
  return check;
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
