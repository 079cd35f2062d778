import type { FsEntry, FsImage } from '../../runtime/core/fs-image.js';
import type { ImageConfig } from '../image/config.js';
import type { BoxManifest } from './format.js';
import { readBox } from './pack.js';

/** One path as `wasmbox inspect --json` prints it; keys in this order, sha256/target only where they apply. */
export interface InspectEntry {
  path: string;
  type: FsEntry['type'];
  /** Four octal digits, e.g. "0644", "4755", "1777". */
  mode: string;
  uid: number;
  gid: number;
  size: number;
  sha256?: string;
  target?: string;
  mtime: number;
}

/**
 * The `wasmbox inspect` output (no trailing newline): a JSON array of every path below the root, or
 * a config summary followed by an `ls -l`-like listing.
 */
export async function inspectBox(outDir: string, opts: { json: boolean }): Promise<string> {
  const { config, fs, manifest } = await readBox(outDir);
  if (opts.json) return JSON.stringify(fs.entries.filter((e) => e.path !== '/').map(toInspectEntry), null, 2);
  return [...summary(config, manifest), '', ...listing(fs)].join('\n');
}

function toInspectEntry(e: FsEntry): InspectEntry {
  const hasBytes = e.type === 'file' || e.type === 'hardlink';
  const hasTarget = e.type === 'symlink' || e.type === 'hardlink';
  return {
    path: e.path,
    type: e.type,
    mode: e.mode.toString(8).padStart(4, '0'),
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    ...(hasBytes ? { sha256: e.sha256 } : {}),
    ...(hasTarget ? { target: e.target } : {}),
    mtime: e.mtime,
  };
}

function summary(image: ImageConfig, manifest: BoxManifest): string[] {
  const c = image.config ?? {};
  const keys = (o: Record<string, unknown> | undefined) => (o ? Object.keys(o).sort() : undefined);
  const rows: [string, string | string[] | undefined][] = [
    ['platform', [image.os, image.architecture, image.variant].filter(Boolean).join('/')],
    ['created', image.created],
    ['Entrypoint', json(c.Entrypoint)],
    ['Cmd', json(c.Cmd)],
    ['Env', c.Env],
    ['WorkingDir', c.WorkingDir],
    ['User', c.User],
    ['ExposedPorts', keys(c.ExposedPorts)?.join(', ')],
    ['Volumes', keys(c.Volumes)?.join(', ')],
    ['Labels', keys(c.Labels)?.map((k) => `${k}=${c.Labels![k]}`)],
    ['StopSignal', c.StopSignal],
    ['Shell', json(c.Shell)],
    ['Healthcheck', json(c.Healthcheck?.Test)],
    ['OnBuild', c.OnBuild ?? undefined],
    ['diff_ids', image.rootfs?.diff_ids],
    ['rootfs', `${manifest.rootfs.entries} entries, ${manifest.rootfs.fileBytes} bytes of file data, ${manifest.rootfs.digest}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.flatMap(([label, value]) => {
    const lines = typeof value === 'string' ? [value] : value ?? [];
    if (value === undefined || lines.length === 0) return [];
    return lines.map((line, i) => (i === 0 ? `${label}:`.padEnd(width) : ' '.repeat(width)) + line);
  });
}

function json(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : JSON.stringify(value);
}

function listing(fs: FsImage): string[] {
  const rows = fs.entries.filter((e) => e.path !== '/');
  const owners = rows.map((e) => `${e.uid}:${e.gid}`);
  const ownerWidth = Math.max(0, ...owners.map((o) => o.length));
  const sizeWidth = Math.max(0, ...rows.map((e) => String(e.size).length));
  return rows.map((e, i) => {
    const link = e.type === 'symlink' ? ` -> ${e.target}` : e.type === 'hardlink' ? ` link to ${e.target}` : '';
    return `${modeString(e)} ${owners[i].padEnd(ownerWidth)} ${String(e.size).padStart(sizeWidth)} ${e.path}${link}`;
  });
}

const TYPE_CHAR: Record<FsEntry['type'], string> = { file: '-', hardlink: '-', dir: 'd', symlink: 'l', other: '?' };

/** An `ls -l` mode string: type, then rwx for user, group and other with s/S and t/T for the special bits. */
export function modeString(e: Pick<FsEntry, 'type' | 'mode'>): string {
  const m = e.mode;
  const triple = (shift: number, special: boolean, mark: string) => {
    const x = (m >> shift) & 1;
    const exec = special ? (x ? mark : mark.toUpperCase()) : x ? 'x' : '-';
    return ((m >> (shift + 2)) & 1 ? 'r' : '-') + ((m >> (shift + 1)) & 1 ? 'w' : '-') + exec;
  };
  return TYPE_CHAR[e.type] + triple(6, (m & 0o4000) !== 0, 's') + triple(3, (m & 0o2000) !== 0, 's') + triple(0, (m & 0o1000) !== 0, 't');
}
