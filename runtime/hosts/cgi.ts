// One HTTP request → one run of the box's command, the way a CGI server runs a script (RFC 3875): the
// request line and headers become environment variables laid over the config's Env, the body is stdin,
// and stdout is the response (cgi-response.ts reads its optional header block). The workerd and Deno
// hosts are this handler plus where the box bytes come from. Runtime code: web-standard APIs only.
//
// Variables set: GATEWAY_INTERFACE, SERVER_PROTOCOL, SERVER_SOFTWARE, SERVER_NAME, SERVER_PORT,
// REQUEST_METHOD, SCRIPT_NAME (always "": the whole path is the command's), PATH_INFO (percent-decoded),
// QUERY_STRING (as sent, without "?"), REQUEST_URI (path and query as sent; not in RFC 3875, but what
// scripts written for Apache read), CONTENT_TYPE and CONTENT_LENGTH (when there is a body), REMOTE_ADDR
// (when the host knows it), HTTPS=on over TLS, and HTTP_<NAME> for every other header. Left out, as
// servers do: `Proxy` (HTTP_PROXY would be read as a proxy setting: "httpoxy", CVE-2016-5385) and names
// with "_" (nginx's rule: `X_Forwarded_For` could pass itself off as X-Forwarded-For).
import type { LoadedBox } from '../core/box.js';
import { bufferInput, collectOutput } from '../core/process.js';
import { runBox } from '../core/run.js';
import { cgiResponse, failureResponse, tailOf } from './cgi-response.js';

export { cgiResponse, EXIT_CODE_HEADER } from './cgi-response.js';

/** What the host knows about the connection a request came on. */
export interface CgiConnection {
  /** The client's address, for REMOTE_ADDR. */
  remoteAddr?: string;
}

/** How a CGI handler runs its box. */
export interface CgiOptions {
  /** The box (or its promise, awaited on the first request). */
  box: LoadedBox | Promise<LoadedBox>;
  /** Where the guest's stderr and wasmbox's notes go, line by line (the host's log); default console.error. */
  log?: (line: string) => void;
  /** SERVER_SOFTWARE; default "wasmbox". */
  software?: string;
}

/** A fetch handler: Request in, Response out. */
export type CgiHandler = (request: Request, connection?: CgiConnection) => Promise<Response>;

const STDERR_TAIL = 4096;

/** A fetch handler that runs the box's command once per request, CGI-style. */
export function cgiHandler(options: CgiOptions): CgiHandler {
  const log = options.log ?? ((line: string) => console.error(line));
  return async (request, connection = {}) => {
    const body = request.body === null ? new Uint8Array(0) : new Uint8Array(await request.arrayBuffer());
    const stdout = collectOutput();
    const stderr = collectOutput();
    let code: number;
    try {
      const box = await options.box;
      const env = cgiEnvironment(request, body.byteLength, connection, options.software);
      code = await runBox(box, { env, stdin: bufferInput(body), stdout: stdout.sink, stderr: stderr.sink, log });
    } catch (err) {
      // The box could not start at all (no command, a damaged box, a guest that trapped): say why.
      log(`wasmbox: ${(err as Error).message}`);
      return failureResponse(request, (err as { exitCode?: number }).exitCode ?? 125, tailOf(stderr.bytes(), STDERR_TAIL), (err as Error).message);
    }
    const errors = stderr.bytes();
    if (errors.byteLength > 0) log(new TextDecoder().decode(errors).trimEnd());
    return cgiResponse(request, stdout.bytes(), code, tailOf(errors, STDERR_TAIL));
  };
}

/** The CGI variables for `request` (RFC 3875 §4.1), as `KEY=value` entries. */
export function cgiEnvironment(request: Request, bodyLength: number, connection: CgiConnection = {}, software = 'wasmbox'): string[] {
  const url = new URL(request.url);
  const https = url.protocol === 'https:';
  const env: Record<string, string> = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: software,
    SERVER_NAME: url.hostname,
    SERVER_PORT: url.port || (https ? '443' : '80'),
    REQUEST_METHOD: request.method,
    SCRIPT_NAME: '',
    PATH_INFO: decodePath(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REQUEST_URI: url.pathname + url.search,
  };
  if (https) env.HTTPS = 'on';
  if (connection.remoteAddr) env.REMOTE_ADDR = connection.remoteAddr;
  const type = request.headers.get('content-type');
  if (type !== null) env.CONTENT_TYPE = type;
  if (bodyLength > 0 || request.headers.has('content-length')) env.CONTENT_LENGTH = String(bodyLength);
  request.headers.forEach((value, name) => {
    if (name === 'content-type' || name === 'content-length' || name === 'proxy' || name.includes('_')) return;
    env[`HTTP_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = value;
  });
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** The path percent-decoded, as PATH_INFO is; kept as sent when it does not decode or holds a NUL
 *  (a C string would end there). */
function decodePath(path: string): string {
  try {
    const decoded = decodeURIComponent(path);
    return decoded.includes('\0') ? path : decoded;
  } catch {
    return path;
  }
}
