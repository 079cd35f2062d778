// The values of `wasmbox run` flags, checked and converted the way docker reads them: environment
// entries and env files, memory sizes, the timeout, volumes and the engine. Each error names the flag,
// the value as written, and what to write instead.
import { posix } from 'node:path';
import { WasmboxError } from '../errors.js';

/** The guest's extra environment, docker's way: env files first, then `-e`; a bare `K` is taken from `hostEnv` (and left out when unset there). */
export function guestEnv(env: string[], envFiles: { name: string; bytes: Uint8Array }[], hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const file of envFiles) out.push(...parseEnvFile(file.name, file.bytes, hostEnv));
  for (const item of env) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    if (name === '') throw new WasmboxError('USAGE', 'an environment entry needs a name', { instruction: '-e', value: item, hint: 'write -e NAME=value, or -e NAME to pass NAME from this shell' });
    if (eq >= 0) out.push(item);
    else if (hostEnv[name] !== undefined) out.push(`${name}=${hostEnv[name]}`);
  }
  return out;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** docker's env-file format: `K=V` lines (V as written), `#` comments, blank lines, `K` alone from `hostEnv`. */
export function parseEnvFile(name: string, bytes: Uint8Array, hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  let start = 0;
  for (let n = 1; start <= bytes.byteLength; n++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.byteLength : nl;
    const where = { location: { file: name, line: n }, instruction: '--env-file' };
    let raw: string;
    try {
      raw = UTF8.decode(bytes.subarray(start, end)); // a BOM is dropped (it can only lead the first line)
    } catch {
      throw new WasmboxError('USAGE', 'the env file holds bytes that are not UTF-8', { ...where, hint: 'save the file as UTF-8' });
    }
    start = end + 1;
    const line = raw.replace(/\r$/, '').replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const variable = eq < 0 ? line : line.slice(0, eq);
    if (/\s/.test(variable)) throw new WasmboxError('USAGE', `variable '${variable}' contains whitespace`, { ...where, value: variable, hint: 'write NAME=value, one per line' });
    if (variable === '') throw new WasmboxError('USAGE', `no variable name on the line '${line}'`, { ...where, hint: 'write NAME=value, one per line' });
    if (eq >= 0) out.push(line);
    else if (hostEnv[variable] !== undefined) out.push(`${variable}=${hostEnv[variable]}`);
  }
  return out;
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A docker memory size (`512m`, `1g`, `64k`, `1.5g`, `1048576`, `512MiB`) in bytes; at least one Wasm page (64 KiB). */
export function parseMemory(value: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgt]?)(?:i?b)?$/i.exec(value.trim());
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 2 ** 16) {
    throw new WasmboxError('USAGE', m ? 'the memory limit is below one WebAssembly page (64 KiB)' : 'not a memory size', {
      instruction: '--memory',
      value,
      hint: 'write a size such as 64m, 512m or 1g (k, m, g, t are powers of 1024; a plain number is bytes)',
    });
  }
  return bytes;
}

// setTimeout fires at once for delays past 2^31-1 ms, so longer timeouts are refused rather than wrong.
const MAX_TIMEOUT_S = Math.floor((2 ** 31 - 1) / 1000);

/** `--timeout S`: a positive number of seconds (decimals allowed), in milliseconds. */
export function parseTimeout(value: string): number {
  const s = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!(s > 0) || s > MAX_TIMEOUT_S) {
    throw new WasmboxError('USAGE', s > MAX_TIMEOUT_S ? `the timeout is longer than ${MAX_TIMEOUT_S} seconds` : 'the timeout must be a positive number of seconds', {
      instruction: '--timeout',
      value,
      hint: 'write the seconds to allow the guest, e.g. --timeout 30 or --timeout 0.5',
    });
  }
  return Math.round(s * 1000);
}

/** A parsed `-v HOST:GUEST[:ro|rw]`; HOST is as written (relative to the current directory). */
export interface VolumeFlag {
  host: string;
  guest: string;
  readonly: boolean;
}

/** Read `-v HOST:GUEST[:ro|rw]`; GUEST must be absolute and not the root. */
export function parseVolume(value: string): VolumeFlag {
  const parts = value.split(':');
  const bad = (message: string, hint = 'write -v HOSTDIR:/guest/dir, with :ro at the end for read-only'): never => {
    throw new WasmboxError('USAGE', message, { instruction: '-v', value, hint });
  };
  if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '') bad('a volume is HOST:GUEST or HOST:GUEST:ro');
  const mode = parts[2] ?? 'rw';
  if (mode !== 'ro' && mode !== 'rw') bad(`unknown volume mode "${mode}"`, 'the mode is ro (read-only) or rw (the default)');
  if (!parts[1].startsWith('/')) bad(`the guest path ${parts[1]} is not absolute`, `write it from the box's root, e.g. -v ${parts[0]}:/data`);
  const guest = posix.normalize(parts[1]).replace(/\/+$/, '');
  if (guest === '') bad('a directory cannot be mounted over the box\'s root', 'mount it at a directory such as /data');
  return { host: parts[0], guest, readonly: mode === 'ro' };
}

/** `--engine`: auto, wasi or wasmer. */
export function parseEngine(value: string): 'auto' | 'wasi' | 'wasmer' {
  if (value === 'auto' || value === 'wasi' || value === 'wasmer') return value;
  throw new WasmboxError('USAGE', `unknown engine "${value}"`, { instruction: '--engine', value, hint: 'choose auto (by the module\'s imports), wasi or wasmer' });
}

/** `-w DIR`: absolute, inside the box. */
export function parseWorkdir(value: string): string {
  if (value.startsWith('/')) return value;
  throw new WasmboxError('USAGE', 'the working directory must be an absolute path in the box', { instruction: '-w', value, hint: `write it from the box's root, e.g. -w /${value.replace(/^\.?\/*/, '')}` });
}
