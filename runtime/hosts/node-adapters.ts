// Where the built-in interpreters' files are in Node: in node_modules, read with node:fs (Node 20's fetch
// cannot read file: URLs). The Node host calls configureNodeAdapters() once before running boxes.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ADAPTER_FILES, configureAdapters } from '../core/adapters/index.js';

/** Point the adapters at the interpreter files installed with wasmbox. */
export function configureNodeAdapters(): void {
  configureAdapters({
    rubyModule: async () => WebAssembly.compile(await readFile(fileURLToPath(import.meta.resolve(ADAPTER_FILES.ruby)))),
  });
}
