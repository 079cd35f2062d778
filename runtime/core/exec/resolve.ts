// Finding the file argv[0] names, the way execvp(3) and a shell do: a name without '/' through each PATH
// directory in order (skipping directories and files without an x bit, but remembering the latter for
// "permission denied"), a path with '/' against the working directory. Symlinks resolve inside the box
// (the Vfs never leaves it). Runtime code: web-standard APIs only.
import { searchPath } from '../run.js';
import { DirNode, FileNode, type Vfs } from '../vfs.js';
import { SNIFF_BYTES, sniffFormat, type FileFormat } from './format.js';

/** An executable found in the box: the path as found (before symlinks), its file and what its bytes are. */
export interface FoundCommand {
  found: true;
  path: string;
  file: FileNode;
  format: FileFormat;
}

/** Why nothing runnable was found; `message` is what a user sees, `exitCode` the shell's convention. */
export interface MissingCommand {
  found: false;
  reason: 'missing' | 'denied' | 'directory';
  path: string;
  exitCode: 126 | 127;
  message: string;
}

/** The outcome of resolving argv[0]. */
export type Resolution = FoundCommand | MissingCommand;

/** Where a command is resolved: the process's environment (for PATH) and working directory. */
export interface ResolveContext {
  vfs: Vfs;
  env: string[];
  cwd: string;
}

/** Resolve a command name or path in the box, as the kernel and a shell together would. */
export function resolveCommand(name: string, where: ResolveContext): Resolution {
  if (name === '') return missing('missing', name, 127, `wasmbox: an empty command name cannot be run`);
  if (name.includes('/')) return resolvePath(name, where);
  const dirs = searchPath(where.env);
  let denied: { path: string; file: FileNode } | undefined;
  for (const dir of dirs) {
    const candidate = `${dir.replace(/\/+$/, '')}/${name}`;
    const node = nodeAt(candidate, where);
    if (!(node instanceof FileNode)) continue;
    if (isExecutable(node)) return found(candidate, node);
    denied ??= { path: candidate, file: node };
  }
  if (denied) return notExecutable(denied.path, denied.file);
  const searched = dirs.join(':') || '(empty)';
  return missing('missing', name, 127, `wasmbox: ${name}: command not found (searched PATH: ${searched})`);
}

function resolvePath(path: string, where: ResolveContext): Resolution {
  const node = nodeAt(path, where);
  if (node instanceof DirNode) return missing('directory', path, 126, `wasmbox: ${path}: is a directory, not a program`);
  if (!(node instanceof FileNode)) {
    const shown = path.startsWith('/') ? path : `${path} (from ${where.cwd})`;
    return missing('missing', path, 127, `wasmbox: ${shown}: no such file in the box`);
  }
  return isExecutable(node) ? found(path, node) : notExecutable(path, node);
}

/** The node at `path` (relative to `cwd`), following symlinks; undefined when any step is missing or loops. */
function nodeAt(path: string, where: ResolveContext): unknown {
  const absolute = path.startsWith('/') ? path : `${where.cwd.replace(/\/+$/, '')}/${path}`;
  try {
    return where.vfs.lookup(absolute, { syscall: 'execve' }).node;
  } catch {
    return undefined;
  }
}

/** execve needs an x bit for someone, even for root. */
function isExecutable(file: FileNode): boolean {
  return (file.mode & 0o111) !== 0;
}

function found(path: string, file: FileNode): FoundCommand {
  return { found: true, path, file, format: sniffFormat(file.read(0, SNIFF_BYTES)) };
}

function notExecutable(path: string, file: FileNode): MissingCommand {
  const mode = file.mode.toString(8).padStart(4, '0');
  return missing('denied', path, 126, `wasmbox: ${path}: permission denied: the file is not executable (mode ${mode}); chmod +x it in the Dockerfile or run it through its interpreter`);
}

function missing(reason: MissingCommand['reason'], path: string, exitCode: 126 | 127, message: string): MissingCommand {
  return { found: false, reason, path, exitCode, message };
}
