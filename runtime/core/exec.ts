// Running a process in a box: argv[0] is resolved and its `#!` chain followed (exec/plan.ts), then the
// result runs on the engine it needs — a WASI module on the TypeScript WASI engine, a module importing
// wasix_* on @wasmer/sdk, an adapter marker on its interpreter, shells and native binaries the box cannot
// run on the built-in shell and its commands. The WASI engine, which nearly every box needs, is a static
// import: loaded by dynamic import, bundlers that also hold it statically (a web bundle's Worker, the edge
// hosts) must wrap it and everything below it in lazy initialisers, which cost the Worker's start ~3 ms.
// The WASIX engine, adapters and the shell are loaded on first use, so a box that never needs one never
// loads it. Runtime code: web-standard APIs only.
import { planLaunch, type LaunchPlan } from './exec/plan.js';
import type { ProcessSpec } from './process.js';
import { runWasi } from './wasi/engine.js';
import { compileModule, moduleKind } from './wasm-module.js';

export { resolveCommand, type FoundCommand, type MissingCommand, type Resolution, type ResolveContext } from './exec/resolve.js';
export { planLaunch, isShellName, type LaunchPlan } from './exec/plan.js';
export { sniffFormat, type FileFormat, type NativeFormat } from './exec/format.js';

/** Run a process in the box: argv[0] through PATH, then Wasm / #! / adapter / native / missing; resolves to its exit code. */
export async function launch(spec: ProcessSpec): Promise<number> {
  const plan = planLaunch(spec);
  switch (plan.run) {
    case 'wasm':
      return runModule(plan, { ...spec, argv: plan.argv, env: plan.env });
    case 'adapter':
      return (await import('./adapters/index.js')).runAdapter(plan.adapter, { ...spec, argv: plan.argv, env: plan.env });
    case 'shell': {
      if (plan.native) spec.log?.(`wasmbox: ${plan.native} is a native binary; using the built-in shell`);
      return (await import('./shell/index.js')).runShell({ ...spec, argv: plan.argv, env: plan.env });
    }
    case 'native':
      return runNative(plan, spec);
    case 'fail':
      return failWith(spec, plan.message, plan.exitCode);
  }
}

/** Compile (cached by the image's sha256 while the file is unchanged) and run on the engine its imports need. */
async function runModule(plan: Extract<LaunchPlan, { run: 'wasm' }>, spec: ProcessSpec): Promise<number> {
  const bytes = plan.file.bytes();
  let module: WebAssembly.Module;
  try {
    module = await compileModule(bytes, plan.file.origin?.sha256 || undefined);
  } catch (err) {
    return failWith(spec, `wasmbox: ${plan.path}: not a valid WebAssembly module (${(err as Error).message}); rebuild it for wasm32-wasi`, 126);
  }
  const engine = spec.engine ?? 'auto';
  if (engine === 'wasmer' || (engine === 'auto' && moduleKind(module) === 'wasix')) {
    return (await import('./engines/wasmer.js')).runWasmer(bytes, spec);
  }
  return runWasi(module, spec, { memoryLimit: spec.memoryLimit });
}

/** A native binary cannot run; a built-in command of the same name stands in when there is one. */
async function runNative(plan: Extract<LaunchPlan, { run: 'native' }>, spec: ProcessSpec): Promise<number> {
  const shell = await import('./shell/index.js');
  if (shell.hasBuiltin(plan.name)) {
    spec.log?.(`wasmbox: ${plan.path} is a native binary; using the built-in ${plan.name}`);
    return shell.runBuiltin(plan.name, { ...spec, argv: plan.argv, env: plan.env });
  }
  const message = `wasmbox: ${plan.path}: native ${plan.format} binary; a box runs WebAssembly only (rebuild it for wasm32-wasi, or use a Wasm equivalent)`;
  return failWith(spec, message, 126);
}

function failWith(spec: ProcessSpec, message: string, exitCode: number): number {
  spec.stderr(new TextEncoder().encode(message + '\n'));
  return exitCode;
}
