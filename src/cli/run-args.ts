// The `wasmbox run` command line, parsed by hand: options stop at the first word after the box (so
// `wasmbox run BOX ls -l` gives `-l` to the guest, as docker does), and this command must start fast,
// so it does not load yargs. Value checks live here too, each error naming its flag and value.
import { WasmboxError, didYouMean } from '../errors.js';

/** The `wasmbox run` flags as typed (values unchecked except where noted). */
export interface RunFlags {
  box: string;
  /** Everything after the box (or after `--`): the guest's arguments. */
  args: string[];
  env: string[];
  envFiles: string[];
  workdir?: string;
  entrypoint?: string;
  volumes: string[];
  interactive: boolean;
  timeout?: string;
  memory?: string;
  engine?: string;
  /** For a BOX that is a registry reference: `--pull`, `--platform`, `--insecure-registry`. */
  pull?: string;
  platform?: string;
  insecureRegistry: string[];
  help: boolean;
}

interface OptionSpec {
  key: 'env' | 'envFiles' | 'workdir' | 'entrypoint' | 'volumes' | 'interactive' | 'timeout' | 'memory' | 'engine' | 'pull' | 'platform' | 'insecureRegistry' | 'help';
  short?: string;
  takesValue: boolean;
}

const OPTIONS: Record<string, OptionSpec> = {
  env: { key: 'env', short: 'e', takesValue: true },
  'env-file': { key: 'envFiles', takesValue: true },
  workdir: { key: 'workdir', short: 'w', takesValue: true },
  entrypoint: { key: 'entrypoint', takesValue: true },
  volume: { key: 'volumes', short: 'v', takesValue: true },
  interactive: { key: 'interactive', short: 'i', takesValue: false },
  timeout: { key: 'timeout', takesValue: true },
  memory: { key: 'memory', short: 'm', takesValue: true },
  engine: { key: 'engine', takesValue: true },
  pull: { key: 'pull', takesValue: true },
  platform: { key: 'platform', takesValue: true },
  'insecure-registry': { key: 'insecureRegistry', takesValue: true },
  help: { key: 'help', short: 'h', takesValue: false },
};
const BY_SHORT = new Map(Object.entries(OPTIONS).filter(([, o]) => o.short).map(([name, o]) => [o.short!, name]));

/** The usage text of `wasmbox run --help`. */
export const RUN_USAGE = `Usage: wasmbox run [options] BOX [--] [ARGS...]

Run a box's command (its Entrypoint and Cmd; ARGS replace the Cmd), as docker run does. BOX is a box
directory (the -o of wasmbox build) or an image reference (pulled into the cache and made a box once).

Options:
  -e, --env K=V          Set a variable in the guest (K alone: take it from this shell)
      --env-file FILE    Read variables from FILE (K=V lines, # comments, K alone: from this shell)
  -w, --workdir DIR      Working directory inside the box (absolute)
      --entrypoint CMD   Replace the box's Entrypoint ('' clears it)
  -v, --volume H:G[:ro]  Mount the host directory H at G in the guest (read-only with :ro)
  -i, --interactive      Forward this shell's stdin to the guest (otherwise it reads nothing)
      --timeout S        Stop the guest after S seconds (exit code 124)
  -m, --memory SIZE      Cap the guest's memory (512m, 1g, 64k or bytes; exit code 137 when hit)
      --engine E         auto (by the module's imports), wasi or wasmer
      --pull P           For a registry BOX: missing (default; reuse a pulled tag), always, never
      --platform P       For a registry BOX: the index entry to use (default: wasi/wasm, else linux/amd64)
      --insecure-registry HOST  Allow plain HTTP to HOST (loopback hosts always are)
  -h, --help             Show this help

Exit code: the guest's; 125 when wasmbox cannot run the box, 126/127 when the command cannot run
or is not found, 130 on Ctrl-C.
`;

/** Split a `wasmbox run` command line (the words after `run`) into flags, the box and the guest's args. */
export function parseRunArgs(argv: string[]): RunFlags {
  const flags: RunFlags = { box: '', args: [], env: [], envFiles: [], volumes: [], insecureRegistry: [], interactive: false, help: false };
  let box: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      box ??= argv[++i];
      flags.args = argv.slice(i + 1);
      break;
    }
    if (word.startsWith('--')) {
      i = longOption(argv, i, flags);
    } else if (word.startsWith('-') && word !== '-') {
      i = shortOptions(argv, i, flags);
    } else if (box === undefined) {
      box = word;
    } else {
      flags.args = argv.slice(i);
      break;
    }
  }
  if (box === undefined && !flags.help) {
    throw new WasmboxError('USAGE', 'name the box to run', { instruction: 'wasmbox run', hint: 'wasmbox run BOXDIR [ARGS...] (BOXDIR is the -o of wasmbox build)' });
  }
  flags.box = box ?? '';
  return flags;
}

function longOption(argv: string[], i: number, flags: RunFlags): number {
  const word = argv[i];
  const eq = word.indexOf('=');
  const name = word.slice(2, eq < 0 ? undefined : eq);
  const spec = OPTIONS[name];
  if (!spec) throw unknownOption(word, name);
  if (!spec.takesValue) {
    setFlag(flags, spec, eq < 0 ? 'true' : word.slice(eq + 1), `--${name}`);
    return i;
  }
  if (eq >= 0) {
    setFlag(flags, spec, word.slice(eq + 1), `--${name}`);
    return i;
  }
  setFlag(flags, spec, valueAt(argv, i + 1, `--${name}`), `--${name}`);
  return i + 1;
}

// `-i`, `-e K=V`, `-eK=V`, `-e=K=V` (as docker's flag library reads it) and clusters such as `-iw /x`.
function shortOptions(argv: string[], i: number, flags: RunFlags): number {
  const word = argv[i];
  for (let j = 1; j < word.length; j++) {
    const name = BY_SHORT.get(word[j]);
    if (!name) throw unknownOption(word, word[j]);
    const spec = OPTIONS[name];
    if (!spec.takesValue) {
      setFlag(flags, spec, 'true', `-${word[j]}`);
      continue;
    }
    const rest = word.slice(j + 1);
    if (rest !== '') {
      setFlag(flags, spec, rest.startsWith('=') ? rest.slice(1) : rest, `-${word[j]}`);
      return i;
    }
    setFlag(flags, spec, valueAt(argv, i + 1, `-${word[j]}`), `-${word[j]}`);
    return i + 1;
  }
  return i;
}

function valueAt(argv: string[], i: number, flag: string): string {
  if (i >= argv.length) throw new WasmboxError('USAGE', `${flag} needs a value`, { instruction: flag, hint: `write ${flag} VALUE; run wasmbox run --help for the options` });
  return argv[i];
}

function setFlag(flags: RunFlags, spec: OptionSpec, value: string, flag: string): void {
  if (spec.key === 'interactive' || spec.key === 'help') {
    if (value !== 'true' && value !== 'false') {
      throw new WasmboxError('USAGE', `${flag} takes no value`, { instruction: flag, value, hint: `write ${flag} alone (or ${flag}=false)` });
    }
    flags[spec.key] = value === 'true';
  } else if (spec.key === 'env' || spec.key === 'envFiles' || spec.key === 'volumes' || spec.key === 'insecureRegistry') {
    flags[spec.key].push(value);
  } else {
    flags[spec.key] = value;
  }
}

function unknownOption(word: string, name: string): WasmboxError {
  const match = name.length > 1 ? didYouMean(name, Object.keys(OPTIONS)) : undefined;
  return new WasmboxError('USAGE', `unknown option ${word}`, {
    instruction: 'wasmbox run',
    value: word,
    hint: match ? `did you mean "--${match}"?` : 'options go before the box\'s arguments; run wasmbox run --help for the list',
  });
}
