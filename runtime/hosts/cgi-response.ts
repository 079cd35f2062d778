// The guest's stdout as an HTTP response. Runtime code: web-standard APIs only.
//
// The rules (decided here; the CGI spec leaves a failing script to the server):
// - stdout starts with a CGI header block when, before its first blank line (LF or CRLF), every line is
//   `Name: value` and one of them is Status, Content-Type or Location (RFC 3875 §6.2 wants at least one).
//   Then `Status: 404 Not Found` sets the status (else 302 with a Location, else 200), every other line
//   is a response header (repeats are kept, e.g. Set-Cookie), and the rest is the body. A block the
//   guest wrote means it chose its response, so its exit code does not change the status.
// - A bad Status value, or a header the platform refuses, is the guest's error: 502 Bad Gateway naming
//   the line, as a gateway answers a broken upstream.
// - Without a block: exit 0 → 200 with stdout as a text/plain body; any other exit → 500 with the exit
//   code and the last 4 KB of stderr as the body (the partial stdout is dropped).
// - Every response carries X-Wasmbox-Exit-Code with the guest's exit code.

/** The response header that carries the guest's exit code. */
export const EXIT_CODE_HEADER = 'X-Wasmbox-Exit-Code';

/** How far into stdout a header block may end. */
const MAX_HEADER_BLOCK = 65536;
const TEXT = 'text/plain; charset=utf-8';
const CGI_FIELDS = new Set(['status', 'content-type', 'location']);
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/** The response for a run that wrote `stdout` and exited with `exitCode` (`stderrTail` for failures). */
export function cgiResponse(request: Request, stdout: Uint8Array, exitCode: number, stderrTail: Uint8Array): Response {
  const block = headerBlock(stdout);
  if (!block) {
    if (exitCode !== 0) return failureResponse(request, exitCode, stderrTail);
    return respond(request, 200, '', new Headers({ 'content-type': TEXT }), stdout, exitCode);
  }
  const headers = new Headers();
  let status: number | undefined;
  let reason = '';
  for (const [name, value] of block.fields) {
    if (name.toLowerCase() === 'status') {
      const m = /^([1-9]\d\d)(?:[ \t]+(.*))?$/.exec(value);
      const code = m ? Number(m[1]) : NaN;
      if (!(code >= 200 && code <= 599)) return badGateway(request, exitCode, `the box's command wrote "Status: ${value}"; write a status from 200 to 599, e.g. "Status: 404 Not Found"`);
      [status, reason] = [code, m![2] ?? ''];
      continue;
    }
    try {
      headers.append(name, value);
    } catch {
      return badGateway(request, exitCode, `the box's command wrote a header this host refuses: "${name}: ${value}"`);
    }
  }
  status ??= headers.has('location') ? 302 : 200;
  return respond(request, status, reason, headers, stdout.subarray(block.bodyStart), exitCode);
}

/** The 500 for a run that failed without a header block: the exit code, then stderr's tail. */
export function failureResponse(request: Request, exitCode: number, stderrTail: Uint8Array, message?: string): Response {
  const head = new TextEncoder().encode(`the box's command failed with exit code ${exitCode}${message ? `: ${message}` : ''}\n`);
  const body = new Uint8Array(head.byteLength + stderrTail.byteLength);
  body.set(head);
  body.set(stderrTail, head.byteLength);
  return respond(request, 500, '', new Headers({ 'content-type': TEXT }), body, exitCode);
}

/** The last `max` bytes of `bytes`, starting after a line break when there is one in reach. */
export function tailOf(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.byteLength <= max) return bytes;
  const tail = bytes.subarray(bytes.byteLength - max);
  const nl = tail.indexOf(10);
  return nl >= 0 && nl < tail.byteLength - 1 ? tail.subarray(nl + 1) : tail;
}

function badGateway(request: Request, exitCode: number, why: string): Response {
  return respond(request, 502, '', new Headers({ 'content-type': TEXT }), new TextEncoder().encode(why + '\n'), exitCode);
}

function respond(request: Request, status: number, reason: string, headers: Headers, body: Uint8Array, exitCode: number): Response {
  headers.set(EXIT_CODE_HEADER, String(exitCode));
  // These statuses and HEAD answers have no body (the Response constructor refuses one for the former).
  const empty = request.method === 'HEAD' || status === 204 || status === 205 || status === 304;
  return new Response(empty ? null : (body as Uint8Array<ArrayBuffer>), { status, statusText: reason, headers });
}

/** The header block at the start of stdout, or undefined when stdout does not start with one. */
function headerBlock(stdout: Uint8Array): { fields: [string, string][]; bodyStart: number } | undefined {
  const end = blankLine(stdout.subarray(0, MAX_HEADER_BLOCK));
  if (!end) return undefined;
  const text = latin1(stdout.subarray(0, end.at));
  const fields: [string, string][] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = HEADER_LINE.exec(line);
    if (!m) return undefined;
    fields.push([m[1], m[2]]);
  }
  if (!fields.some(([name]) => CGI_FIELDS.has(name.toLowerCase()))) return undefined;
  return { fields, bodyStart: end.at + end.length };
}

/** Where the first empty line starts (`at`, just before its line break) and how long the break pair is. */
function blankLine(bytes: Uint8Array): { at: number; length: number } | undefined {
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) {
    const next = i + 1;
    if (bytes[next] === 10) return { at: bytes[i - 1] === 13 ? i - 1 : i, length: bytes[i - 1] === 13 ? 3 : 2 };
    if (bytes[next] === 13 && bytes[next + 1] === 10) return { at: bytes[i - 1] === 13 ? i - 1 : i, length: bytes[i - 1] === 13 ? 4 : 3 };
  }
  return undefined;
}

/** Bytes as Latin-1 text (header bytes map one to one; not every host's TextDecoder knows latin1). */
function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.byteLength; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return text;
}
