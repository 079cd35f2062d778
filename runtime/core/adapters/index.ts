// Built-in interpreters that are not Wasm commands: Pyodide (CPython on Emscripten) and ruby.wasm (a WASI
// reactor). A box file whose bytes start with ADAPTER_MAGIC stands for one of them; the exec resolver
// calls runAdapter. Each interpreter lives in its own file, loaded by dynamic import the first time a
// process needs it, so a box without Python never loads Pyodide. Runtime code: web-standard APIs only.
import type { ProcessSpec } from '../process.js';

/** A box file starting with these bytes stands for a built-in interpreter; the rest of the line names it. */
export const ADAPTER_MAGIC = '\0wasmbox-adapter:';

/** The built-in interpreters, by the name a marker file carries. */
export const ADAPTER_NAMES = ['python', 'ruby'] as const;

/** The name of a built-in interpreter. */
export type AdapterName = (typeof ADAPTER_NAMES)[number];

/** Files the adapters load, as package specifiers hosts resolve (node_modules, a bundle, a URL map). */
export const ADAPTER_FILES = { ruby: '@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm' } as const;

/** Where hosts that bundle or serve the interpreters say their files are (Node finds them in node_modules). */
export interface AdapterLocations {
  /** Pyodide's indexURL: the directory (a path in Node, a URL in browsers) holding pyodide.asm.wasm and python_stdlib.zip. */
  pyodideIndexURL?: string;
  /** ruby.wasm with its stdlib packed in (`@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm`): a compiled module or a way to get one. */
  rubyModule?: WebAssembly.Module | (() => Promise<WebAssembly.Module>);
}

let locations: AdapterLocations = {};

/** Tell the adapters where the interpreters' files are; hosts call this once before running boxes. */
export function configureAdapters(where: AdapterLocations): void {
  locations = { ...locations, ...where };
}

/** The locations hosts configured (adapter files read this). */
export function adapterLocations(): AdapterLocations {
  return locations;
}

/** The bytes of a marker file standing for the interpreter `name`. */
export function adapterMarker(name: AdapterName): Uint8Array {
  return new TextEncoder().encode(`${ADAPTER_MAGIC}${name}\n`);
}

/** The interpreter a file's bytes stand for, or undefined when they are not a marker. */
export function adapterOf(bytes: Uint8Array): string | undefined {
  const magic = ADAPTER_MAGIC.length;
  if (bytes.byteLength <= magic) return undefined;
  for (let i = 0; i < magic; i++) if (bytes[i] !== ADAPTER_MAGIC.charCodeAt(i)) return undefined;
  const end = bytes.indexOf(10, magic);
  return new TextDecoder().decode(bytes.subarray(magic, end < 0 ? bytes.byteLength : end)).trim();
}

/** Run the built-in interpreter `name` (e.g. "python", "ruby") with `spec.argv` (argv[0] is the interpreter). */
export async function runAdapter(name: string, spec: ProcessSpec): Promise<number> {
  switch (name) {
    case 'python':
      return (await import('./pyodide.js')).runPython(spec);
    case 'ruby':
      return (await import('./ruby.js')).runRuby(spec);
    default: {
      const program = spec.argv[0] ?? name;
      spec.stderr(new TextEncoder().encode(`${program}: this box names a built-in interpreter "${name}" that this wasmbox does not have (it has ${ADAPTER_NAMES.join(', ')})\n`));
      return 126;
    }
  }
}
