// The `wasmbox run` choices a web bundle's page takes from its URL: ?arg=A&arg=B (replace Cmd),
// entrypoint=, env=K=V (repeatable), workdir=, engine=, stdin=none (no keyboard input), autorun=0.
import type { WebRunOptions } from './browser-run.js';

/** `wasmbox run` choices from the page's query string. */
export function urlChoices(search = location.search): WebRunOptions {
  const q = new URLSearchParams(search);
  const engine = q.get('engine');
  return {
    args: q.getAll('arg'),
    entrypoint: q.get('entrypoint') ?? undefined,
    env: q.getAll('env'),
    workdir: q.get('workdir') ?? undefined,
    engine: engine === 'wasi' || engine === 'wasmer' || engine === 'auto' ? engine : undefined,
    interactive: q.get('stdin') !== 'none',
  };
}

/** Whether the page runs the box's command as soon as the box has loaded (not with ?autorun=0). */
export function autorun(search = location.search): boolean {
  return new URLSearchParams(search).get('autorun') !== '0';
}
