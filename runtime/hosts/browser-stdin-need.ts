// Whether a run's guest can ever read its stdin, decided before it starts. On a first visit to a page
// that is not cross-origin isolated, keyboard input needs the bundle's service worker, and only a Worker
// started after that controls the page can reach it (Chromium does not let clients.claim() take over a
// running dedicated Worker). The page's early Worker runs the box at once; only when this says the guest
// may read stdin does the page register the service worker and start the run again in a new Worker,
// which is safe because nothing of the guest has run yet.
import type { LoadedBox } from '../core/box.js';
import { planLaunch } from '../core/exec.js';
import { environment, resolveUser, commandLine } from '../core/run.js';
import type { Vfs } from '../core/vfs.js';
import { compileModule, moduleInfo, moduleKind } from '../core/wasm-module.js';
import type { RunChoices } from './browser-channel.js';

/** False only when the run surely never reads stdin: a plain WASI module without `fd_read`, or a command
 *  that cannot start (its error comes from the run itself). Shells and interpreters may always read. */
export async function guestMayReadStdin(box: LoadedBox, choices: RunChoices, vfs: Vfs): Promise<boolean> {
  let plan: ReturnType<typeof planLaunch>;
  try {
    const config = box.config.config ?? {};
    const user = resolveUser(vfs, config.User);
    const argv = commandLine(box, choices);
    plan = planLaunch({ argv, env: environment(box, choices.env, user.home), cwd: choices.workdir || config.WorkingDir || '/', vfs });
  } catch {
    return false;
  }
  if (plan.run === 'fail') return false;
  if (plan.run !== 'wasm' || choices.engine === 'wasmer') return true;
  let module: WebAssembly.Module;
  try {
    // The same key as the run's own compile (exec.ts), so the module is compiled once.
    module = await compileModule(plan.file.bytes(), plan.file.origin?.sha256 || undefined);
  } catch {
    return false;
  }
  if (moduleKind(module) !== 'wasi') return true;
  return moduleInfo(module).imports.some((i) => i.kind === 'function' && i.name === 'fd_read');
}
