/*
 * The box format, version 1 (`wasmbox.box.v1`).
 *
 * A box is a directory of exactly three files:
 *
 *   config.json   the OCI image config, JSON.stringify(config, null, 2) + "\n"
 *   rootfs.wbfs   the root filesystem image (below)
 *   box.json      the manifest, JSON.stringify(manifest, null, 2) + "\n":
 *                 {"format":"wasmbox.box.v1",
 *                  "config":{"digest":"sha256:<hex of config.json>","size":<bytes>},
 *                  "rootfs":{"digest":"sha256:<hex of rootfs.wbfs>","size":<bytes>,
 *                            "entries":<index entries, "/" included>,
 *                            "fileBytes":<bytes of the data region: distinct file contents>}}
 *
 * rootfs.wbfs is one buffer a runtime loads at once and hands out zero-copy views of:
 *
 *   bytes 0..7     ASCII magic "WBFS0001"
 *   bytes 8..11    N, the index length in bytes, u32 little-endian
 *   bytes 12..12+N the index, UTF-8 JSON without whitespace
 *   zero bytes up to the next multiple of 8, where the data region starts
 *   the data region: file contents, each distinct content (by sha256) once, in walk order of first use
 *
 * The index is {"entries":[[path, type, mode, uid, gid, mtime, size, offset, target, sha256], …]}:
 * one array per path, root "/" first, then depth-first with names sorted by code point (Tree.walk).
 *   path    absolute ("/", "/bin", "/bin/sh")
 *   type    "file" | "dir" | "symlink" | "hardlink" | "other" (devices and FIFOs: metadata only)
 *   mode    permission bits as a number, setuid/setgid/sticky included (at most 0o7777)
 *   uid, gid, mtime (seconds since the epoch)
 *   size    bytes of the file (files and hardlinks), else 0
 *   offset  where those bytes start in the data region (files and hardlinks), else 0
 *   target  a symlink's target as written; for a hardlink the absolute path of the first path in walk
 *           order holding the same file (that one has type "file"); else ""
 *   sha256  hex digest of the bytes (files and hardlinks), else ""
 * Hardlinks and identical files share one copy of the bytes (same offset).
 *
 * Identical inputs give identical bytes: nothing depends on time, insertion order or directory
 * listing order. Readers: runtime/core/fs-image.ts (runtime), src/box/pack.ts readBox (build side).
 */
export {
  WBFS_MAGIC,
  WBFS_HEADER_SIZE,
  WBFS_ALIGN,
  wbfsDataStart,
  type FsEntry,
  type FsEntryType,
} from '../../runtime/core/fs-image.js';

/** The `format` value of a box.json this code writes and reads. */
export const BOX_FORMAT = 'wasmbox.box.v1';

/** The names of a box's files inside its directory. */
export const BOX_FILES = { manifest: 'box.json', config: 'config.json', rootfs: 'rootfs.wbfs' } as const;

/** A content reference: `sha256:<hex>` and a size in bytes. */
export interface Descriptor {
  digest: string;
  size: number;
}

/** The box manifest (box.json): digests and sizes of the other two files. */
export interface BoxManifest {
  format: typeof BOX_FORMAT;
  config: Descriptor;
  rootfs: Descriptor & { entries: number; fileBytes: number };
}

/** One row of the rootfs.wbfs index, in the order the format fixes. */
export type IndexRow = [
  path: string,
  type: string,
  mode: number,
  uid: number,
  gid: number,
  mtime: number,
  size: number,
  offset: number,
  target: string,
  sha256: string,
];
