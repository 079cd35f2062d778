import type { Argv } from 'yargs';
import { WasmboxError, didYouMean } from '../errors.js';

const COMMANDS = ['build', 'inspect', 'run', 'pull', 'push', 'login', 'logout', 'cache', 'bundle', 'serve'];
const OPTIONS = ['file', 'build-arg', 'target', 'platform', 'build-context', 'no-cache', 'pull', 'insecure-registry', 'quiet', 'output', 'json', 'all', 'force', 'filter', 'username', 'password', 'password-stdin', 'wasix', 'port', 'host', 'open', 'coop', 'help'];

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

const insecureOption = { type: 'string', array: true, default: [] as string[], describe: 'Allow plain HTTP to this registry host[:port] (loopback hosts always are)' } as const;

async function cli(argv: string[]): Promise<Argv> {
  const { default: yargs } = await import('yargs');
  return yargs(argv)
    .scriptName('wasmbox')
    // `--no-cache` is a flag of its own (as in docker), not the negation of a `--cache`. Repeatable options
    // take one value each (`-o DIR CONTEXT`, `--insecure-registry H REF`): greedy arrays would eat the positionals.
    .parserConfiguration({ 'boolean-negation': false, 'greedy-arrays': false })
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
          .option('pull', { type: 'boolean', default: false, describe: 'Resolve registry tags again instead of reusing ones pulled before' })
          .option('insecure-registry', insecureOption)
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print only the box directory' })
          .option('output', { alias: 'o', type: 'string', array: true, demandOption: true, describe: 'Where to write: a box directory (replaced atomically), or type=oci,dest=FILE|DIR[,tar=false][,name=TAG]; repeatable' }),
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
          output: args.output.map(String),
          noCache: args['no-cache'],
          pull: args.pull,
          insecureRegistry: args['insecure-registry'].map(String),
        });
      },
    )
    .command(
      'pull <ref>',
      'Pull an image into the cache (and, with -o, write it as a box)',
      (y) =>
        y
          .positional('ref', { type: 'string', describe: 'Image reference, e.g. alpine:3.19 or localhost:5000/app@sha256:…', demandOption: true })
          .option('platform', { type: 'string', describe: 'Index entry to use (default: wasi/wasm when offered, else linux/amd64)' })
          .option('output', { alias: 'o', type: 'string', describe: 'Also write the image as a box to this directory' })
          .option('insecure-registry', insecureOption)
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print only the pinned reference' }),
      async (args) => {
        const { runPull } = await import('./pull.js');
        await runPull({ ref: args.ref!, platform: args.platform, output: args.output, quiet: args.quiet, insecureRegistry: args['insecure-registry'].map(String) });
      },
    )
    .command(
      'push <box> <ref>',
      'Push a box to a registry as an OCI image (platform wasi/wasm)',
      (y) =>
        y
          .positional('box', { type: 'string', describe: 'Box directory (the -o of wasmbox build)', demandOption: true })
          .positional('ref', { type: 'string', describe: 'Where to push, e.g. localhost:5000/app:1.0', demandOption: true })
          .option('insecure-registry', insecureOption)
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print only the pushed reference' }),
      async (args) => {
        const { runPush } = await import('./push.js');
        await runPush({ box: args.box!, ref: args.ref!, quiet: args.quiet, insecureRegistry: args['insecure-registry'].map(String) });
      },
    )
    .command(
      'login [server]',
      'Save credentials for a registry (in docker\'s config.json)',
      (y) =>
        y
          .positional('server', { type: 'string', describe: 'Registry host[:port] (default docker.io)' })
          .option('username', { alias: 'u', type: 'string', describe: 'User name' })
          .option('password', { alias: 'p', type: 'string', describe: 'Password or token (prefer --password-stdin)' })
          .option('password-stdin', { type: 'boolean', default: false, describe: 'Read the password from stdin' })
          .option('insecure-registry', insecureOption),
      async (args) => {
        const { runLogin } = await import('./login.js');
        await runLogin({ server: args.server, username: args.username, password: args.password, passwordStdin: args['password-stdin'], insecureRegistry: args['insecure-registry'].map(String) });
      },
    )
    .command(
      'logout [server]',
      'Remove saved credentials for a registry',
      (y) => y.positional('server', { type: 'string', describe: 'Registry host[:port] (default docker.io)' }),
      async (args) => {
        const { runLogout } = await import('./login.js');
        await runLogout({ server: args.server });
      },
    )
    .command(
      'bundle <box>',
      'Bundle a box for a host: web, worker, deno or node',
      (y) =>
        y
          .positional('box', { type: 'string', demandOption: true, describe: 'Box directory (the -o of wasmbox build)' })
          .option('target', { alias: 't', type: 'string', default: 'web', describe: 'web, worker, deno or node' })
          .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'Bundle directory (replaced atomically; must be new, empty, or a bundle)' })
          .option('wasix', { type: 'boolean', default: false, describe: 'web: include the WASIX engine even if no module imports wasix_*' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print only the bundle directory' }),
      async (args) => {
        const { runBundle } = await import('./bundle.js');
        await runBundle({ box: args.box!, target: args.target, output: args.output, wasix: args.wasix, quiet: args.quiet });
      },
    )
    .command(
      'serve <box>',
      'Serve a box (or a web bundle) in the browser on loopback',
      (y) =>
        y
          .positional('box', { type: 'string', demandOption: true, describe: 'Box directory, or a web bundle directory' })
          .option('port', { alias: 'p', type: 'number', default: 8080, describe: 'Port (0: any free port)' })
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
          .option('open', { type: 'boolean', default: false, describe: 'Open the page in the desktop browser' })
          .option('coop', { type: 'boolean', default: false, describe: 'Send COOP/COEP headers (cross-origin isolation: the WASIX engine)' })
          .option('wasix', { type: 'boolean', default: false, describe: 'Include the WASIX engine when bundling' }),
      async (args) => {
        const { runServe } = await import('./serve.js');
        await runServe({ box: args.box!, port: args.port, host: args.host, open: args.open, coop: args.coop, wasix: args.wasix });
      },
    )
    .command('cache', 'Show or clean the image and build cache', (y) =>
      y
        .command(
          'ls',
          'List cached images and the space used',
          (c) => c.option('json', { type: 'boolean', default: false, describe: 'Print JSON' }),
          async (args) => {
            const { runCacheLs } = await import('./cache.js');
            await runCacheLs({ json: args.json });
          },
        )
        .command(
          'prune',
          'Remove cached blobs no image uses (--all: everything, the build cache too)',
          (c) =>
            c
              .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Remove everything cached' })
              .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not ask (wasmbox never asks; accepted for docker users)' })
              .option('filter', { type: 'string', array: true, default: [], describe: 'Prune only entries older than until=DURATION|TIMESTAMP|DATE (e.g. until=24h)' }),
          async (args) => {
            const { runCachePrune } = await import('./cache.js');
            const { untilFromFilters } = await import('./cache-format.js');
            await runCachePrune({ all: args.all, force: args.force, filterUntil: untilFromFilters(args.filter.map(String)) });
          },
        )
        .demandCommand(1, 'name a cache command: ls or prune'),
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
    .demandCommand(1, `name a command: ${COMMANDS.join(', ')}`)
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
    const known = [...OPTIONS, ...COMMANDS];
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
