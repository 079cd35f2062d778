import type { Argv } from 'yargs';
import { WasmboxError, didYouMean } from '../errors.js';

const COMMANDS = ['build', 'inspect', 'run'];

/** Run the wasmbox command line; resolves to the process exit code. User errors print one clear message, never a stack. */
export async function main(argv: string[]): Promise<number> {
  // `wasmbox inspect BOX | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // `run` parses its own flags (they stop at the box's arguments) and must start fast: no yargs.
  if (argv[0] === 'run') return (await import('./run.js')).runCommand(argv.slice(1));
  try {
    await (await cli(argv)).parseAsync();
    return 0;
  } catch (err) {
    return report(err);
  }
}

async function cli(argv: string[]): Promise<Argv> {
  const { default: yargs } = await import('yargs');
  return yargs(argv)
    .scriptName('wasmbox')
    // `--no-cache` is a flag of its own (as in docker), not the negation of a `--cache`.
    .parserConfiguration({ 'boolean-negation': false })
    .usage('$0 <command> [options]\n\nTurn a Dockerfile into a portable WebAssembly box.')
    .command(
      'build <context>',
      'Build a box from a Dockerfile',
      (y) =>
        y
          .positional('context', { type: 'string', describe: 'Build context directory', demandOption: true })
          .option('file', { alias: 'f', type: 'string', describe: 'Dockerfile path (default: CONTEXT/Dockerfile; "-" reads stdin)' })
          .option('build-arg', { type: 'string', array: true, default: [], describe: 'Set a build-time variable (K=V, or K to take it from the environment)' })
          .option('target', { type: 'string', describe: 'Build this stage (and what it needs) instead of the last one' })
          .option('platform', { type: 'string', describe: 'Target platform os/arch[/variant] (default linux/amd64)' })
          .option('build-context', { type: 'string', array: true, default: [], describe: 'Substitute an image name: NAME=oci-layout://DIR[:TAG]' })
          .option('no-cache', { type: 'boolean', default: false, describe: 'Do not use the build cache' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print only the box directory' })
          .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'Directory to write the box to (replaced atomically)' }),
      async (args) => {
        const { runBuild } = await import('./build.js');
        await runBuild({
          context: args.context!,
          file: args.file,
          buildArgs: args['build-arg'].map(String),
          target: args.target,
          platform: args.platform,
          buildContexts: args['build-context'].map(String),
          quiet: args.quiet,
          output: args.output,
          noCache: args['no-cache'],
        });
      },
    )
    .command(
      'inspect <box>',
      'Print a box\'s config and file tree',
      (y) =>
        y
          .positional('box', { type: 'string', describe: 'Box directory (the -o of wasmbox build)', demandOption: true })
          .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object per path' }),
      async (args) => {
        const { inspectBox } = await import('../box/inspect.js');
        process.stdout.write(`${await inspectBox(args.box!, { json: args.json })}\n`);
      },
    )
    // Listed for --help and typo suggestions only: main() hands `run` to run.ts before yargs loads.
    .command('run <box> [args..]', 'Run a box\'s command (wasmbox run --help for its options)')
    .demandCommand(1, 'name a command: build, inspect or run')
    .strict()
    .recommendCommands()
    .help()
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw usageError(msg ?? 'invalid usage', argv);
    });
}

function usageError(msg: string, argv: string[]): WasmboxError {
  const typo = /^Did you mean (.+)\?$/.exec(msg);
  if (typo) {
    return new WasmboxError('USAGE', `unknown command ${argv[0]}`, { instruction: 'wasmbox', value: argv[0], hint: `did you mean "${typo[1]}"?` });
  }
  const unknown = /Unknown arguments?: (.+)/.exec(msg);
  if (unknown) {
    const flag = unknown[1].split(',')[0].trim();
    const known = ['file', 'build-arg', 'target', 'platform', 'build-context', 'no-cache', 'quiet', 'output', 'json', 'help', ...COMMANDS];
    const name = flag.replace(/^-+/, '');
    const match = didYouMean(name, known);
    return new WasmboxError('USAGE', `unknown ${COMMANDS.includes(argv[0]) || flag.startsWith('-') ? 'option' : 'command'} ${flag}`, {
      instruction: argv[0] ?? 'wasmbox',
      value: flag,
      hint: match ? `did you mean "${COMMANDS.includes(match) ? match : `--${match}`}"?` : 'run wasmbox --help for the options',
    });
  }
  return new WasmboxError('USAGE', msg, { instruction: argv[0] ?? 'wasmbox', hint: 'run wasmbox --help for usage' });
}

function report(err: unknown): number {
  if (err instanceof WasmboxError) {
    process.stderr.write(err.format() + '\n');
    return err.code === 'USAGE' ? 2 : 1;
  }
  const e = err as Error;
  process.stderr.write(`error: internal error: ${e?.message ?? String(err)}\n  hint: this is a bug in wasmbox; please report it with the command you ran\n`);
  if (process.env.WASMBOX_DEBUG) process.stderr.write(`${e?.stack}\n`);
  return 70;
}
