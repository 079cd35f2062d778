// Bytes and text the way the built-in shell's commands exchange them: "byte strings" (one char per
// byte), Node's buffer encodings, and lexical path normalisation. Runtime code: web-standard APIs only.

/** Text encodings the shell's commands ask for. */
export type Encoding = 'utf8' | 'utf-8' | 'ascii' | 'binary' | 'base64' | 'hex' | 'latin1';

const utf8 = new TextDecoder();

/** `a/./b//../c` → `/a/c`, as text: `..` here is lexical, the way the shell's `cd` and redirections expect. */
export function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

/** Each byte as one char (the shell's "byte string" convention). */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.byteLength; i += 0x8000) out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return out;
}

/** Bytes as text in `encoding` (UTF-8 by default, invalid sequences replaced). */
export function decode(bytes: Uint8Array, encoding: Encoding | null): string {
  switch (encoding) {
    case 'binary':
    case 'latin1':
    case 'ascii':
      return latin1(bytes);
    case 'base64':
      return btoa(latin1(bytes));
    case 'hex':
      return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    default:
      return utf8.decode(bytes);
  }
}

/** Text (or bytes, copied) as bytes in `encoding` (UTF-8 by default). */
export function encode(content: string | Uint8Array, options?: { encoding?: Encoding } | Encoding): Uint8Array {
  if (typeof content !== 'string') return content.slice();
  const encoding = typeof options === 'string' ? options : options?.encoding;
  switch (encoding) {
    case 'binary':
    case 'latin1':
    case 'ascii':
      return bytesOf(content);
    case 'base64':
      return bytesOf(atob(content));
    case 'hex':
      return Uint8Array.from(content.match(/../g) ?? [], (h) => parseInt(h, 16));
    default:
      return new TextEncoder().encode(content);
  }
}

/** A byte string (one char per byte) as bytes. */
export function bytesOf(byteString: string): Uint8Array {
  const bytes = new Uint8Array(byteString.length);
  for (let i = 0; i < byteString.length; i++) bytes[i] = byteString.charCodeAt(i);
  return bytes;
}
