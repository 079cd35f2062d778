// A stand-in for runtime/core/exec.js, copied over the compiled one in a test-only build so the Node
// host's plumbing (stdio, exit codes, timeouts, signals, mounts) is tested without any Wasm engine.
// argv[0] names a scripted behaviour; each is the smallest thing that exercises one path of the host.
import { LaunchError } from './process.js';
import { FileNode } from './vfs.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const out = (spec, text) => spec.stdout(enc.encode(text));

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}


const COMMANDS = {
  args: (spec) => out(spec, JSON.stringify(spec.argv) + '\n'),
  env: (spec) => out(spec, spec.env.join('\n') + '\n'),
  pwd: (spec) => out(spec, spec.cwd + '\n'),
  // Odd-sized reads, each echoed at once: tests both the ring's wrap-around and streaming.
  cat: (spec) => {
    for (let c = spec.stdin.read(7); c.byteLength > 0; c = spec.stdin.read(7)) spec.stdout(c);
  },
  exit: (spec) => Number(spec.argv[1]),
  both: (spec) => {
    out(spec, 'to stdout\n');
    spec.stderr(enc.encode('to stderr\n'));
  },
  tick: (spec) => {
    out(spec, 'first\n');
    sleep(Number(spec.argv[1] ?? 1000));
    out(spec, 'second\n');
  },
  spin: () => {
    for (;;);
  },
  hog: () => {
    const keep = [];
    for (;;) keep.push(new Array(1e5).fill({ x: Math.random() }));
  },
  big: (spec) => {
    const line = 'x'.repeat(1023) + '\n';
    for (let i = 0; i < Number(spec.argv[1]); i++) out(spec, line);
  },
  missing: (spec) => {
    throw new LaunchError(`${spec.argv[0]}: not found`, 127);
  },
  trap: () => {
    throw new WebAssembly.RuntimeError('unreachable');
  },
  read: (spec) => {
    const node = spec.vfs.get(spec.argv[1]);
    if (!(node instanceof FileNode)) throw new LaunchError(`${spec.argv[1]}: not a file`, 126);
    out(spec, dec.decode(node.bytes()));
  },
  ls: (spec) => out(spec, [...spec.vfs.get(spec.argv[1]).entries().keys()].join(' ') + '\n'),
  write: (spec) => void spec.vfs.writeFile(spec.argv[1], enc.encode(spec.argv[2])),
  mkdir: (spec) => void spec.vfs.mkdir(spec.argv[1], { recursive: true }),
  rm: (spec) => void spec.vfs.unlink(spec.argv[1], { rmdir: spec.argv[2] === 'dir' }),
  mv: (spec) => void spec.vfs.rename(spec.argv[1], spec.argv[2]),
  ln: (spec) => void spec.vfs.symlink(spec.argv[1], spec.argv[2]),
  // Runs its steps (separated by ';') in one process, e.g. `do write /m/a x ; mv /m/a /m/b`.
  do: async (spec) => {
    const words = spec.argv.slice(1);
    for (let i = 0; i < words.length; ) {
      const end = words.indexOf(';', i) < 0 ? words.length : words.indexOf(';', i);
      const code = await launch({ ...spec, argv: words.slice(i, end) });
      if (code !== 0) return code;
      i = end + 1;
    }
    return 0;
  },
};

/** Runs the scripted behaviour argv[0] names (a path's last component counts). */
export async function launch(spec) {
  const name = spec.argv[0].slice(spec.argv[0].lastIndexOf('/') + 1);
  const command = COMMANDS[name];
  if (!command) throw new LaunchError(`${spec.argv[0]}: not found`, 127);
  return (await command(spec)) ?? 0;
}
