// The few device files shell scripts take for granted (`> /dev/null`, `head -c 16 /dev/urandom`). A box
// image rarely carries /dev (docker creates it at run time), so the shell's filesystem answers for these
// paths itself. Reads return a bounded buffer, since the shell reads whole files. Runtime code:
// web-standard APIs only.

/** Bytes one read of /dev/zero or /dev/urandom yields (the shell's commands read a file whole). */
const DEVICE_READ_BYTES = 64 * 1024;

const DEVICES = new Set(['/dev/null', '/dev/zero', '/dev/random', '/dev/urandom', '/dev/full']);

/** Whether `path` (as the shell resolved it: absolute and normalised) is one of the emulated devices. */
export function isDevice(path: string): boolean {
  return DEVICES.has(path);
}

/** What reading a device yields: nothing for /dev/null, zeros or random bytes for the others. */
export function deviceRead(path: string): Uint8Array {
  if (path === '/dev/null') return new Uint8Array(0);
  const bytes = new Uint8Array(DEVICE_READ_BYTES);
  if (path === '/dev/random' || path === '/dev/urandom') {
    for (let i = 0; i < bytes.byteLength; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  }
  return bytes;
}

/** The stat of a character device: not a file, not a directory, readable and writable by all. */
export function deviceStat(): { isFile: boolean; isDirectory: boolean; isSymbolicLink: boolean; mode: number; size: number; mtime: Date; ino: number } {
  return { isFile: false, isDirectory: false, isSymbolicLink: false, mode: 0o666, size: 0, mtime: new Date(0), ino: 0 };
}
