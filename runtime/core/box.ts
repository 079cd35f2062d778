// Loading a box from bytes the host already has (fetched, bundled or read from disk). Runtime code:
// web-standard APIs only; digest checks are the build side's job (readBox), hosts trust their bundle.
import { BoxFormatError, parseFsImage, type FsImage } from './fs-image.js';

/** The parts of an OCI image config the runtime reads; everything else is kept as is. */
export interface BoxConfig {
  architecture?: string;
  os?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A loaded box: its image config and its filesystem. */
export interface LoadedBox {
  config: BoxConfig;
  fs: FsImage;
}

/** Load a box from the bytes (or text) of its config.json and the bytes of its rootfs.wbfs. */
export function loadBox(files: { config: Uint8Array | string; rootfs: Uint8Array }): LoadedBox {
  const text = typeof files.config === 'string' ? files.config : new TextDecoder().decode(files.config);
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new BoxFormatError(`config.json is not JSON (${(err as Error).message})`);
  }
  if (!isObject(config) || (config.config !== undefined && !isObject(config.config))) {
    throw new BoxFormatError('config.json is not an OCI image config object');
  }
  return { config: config as BoxConfig, fs: parseFsImage(files.rootfs) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
