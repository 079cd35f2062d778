/**
 * The CGI mapping on its own (runtime/hosts/cgi.ts, cgi-response.ts): which variables a request gives,
 * and which response a run's stdout, stderr and exit code give. The same handler serves workerd and
 * Deno; edge.test.ts checks it there.
 */
import { describe, expect, it } from 'vitest';
import { cgiEnvironment, cgiResponse } from '../../runtime/hosts/cgi.js';
import { tailOf } from '../../runtime/hosts/cgi-response.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('cgiEnvironment', () => {
  const env = (url: string, init: RequestInit = {}, bodyLength = 0, remoteAddr?: string): Record<string, string> =>
    Object.fromEntries(cgiEnvironment(new Request(url, init), bodyLength, { remoteAddr }).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

  it.for([
    { url: 'http://h.example/a/b?c=d', want: { REQUEST_METHOD: 'GET', PATH_INFO: '/a/b', QUERY_STRING: 'c=d', REQUEST_URI: '/a/b?c=d', SERVER_NAME: 'h.example', SERVER_PORT: '80', SCRIPT_NAME: '' } },
    { url: 'https://h.example:8443/', want: { SERVER_PORT: '8443', HTTPS: 'on', PATH_INFO: '/', QUERY_STRING: '' } },
    { url: 'http://h/%E2%9C%93%20x', want: { PATH_INFO: '/✓ x', REQUEST_URI: '/%E2%9C%93%20x' } },
    { url: 'http://h/bad%zz', want: { PATH_INFO: '/bad%zz' } },
    { url: 'http://h/nul%00byte', want: { PATH_INFO: '/nul%00byte' } },
    { url: 'http://h/', init: { method: 'POST', headers: { 'content-type': 'text/csv' } }, length: 12, want: { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'text/csv', CONTENT_LENGTH: '12' } },
    { url: 'http://h/', init: { headers: { 'X-Forwarded-For': '1.2.3.4', 'x-multi-word-name': 'v' } }, want: { HTTP_X_FORWARDED_FOR: '1.2.3.4', HTTP_X_MULTI_WORD_NAME: 'v' } },
    { url: 'http://h/', remote: '10.0.0.9', want: { REMOTE_ADDR: '10.0.0.9', GATEWAY_INTERFACE: 'CGI/1.1', SERVER_PROTOCOL: 'HTTP/1.1' } },
  ] as { url: string; init?: RequestInit; length?: number; remote?: string; want: Record<string, string> }[])('$url', ({ url, init, length, remote, want }) => {
    expect(env(url, init, length, remote)).toMatchObject(want);
  });

  it('leaves out what a client could abuse, and what has its own variable', () => {
    const got = env('http://h/', { headers: { Proxy: 'http://evil', 'X_Forwarded_For': 'spoof', 'Content-Type': 'a/b', Accept: '*/*' } });
    expect(got).not.toHaveProperty('HTTP_PROXY');
    expect(got).not.toHaveProperty('HTTP_X_FORWARDED_FOR');
    expect(got).not.toHaveProperty('HTTP_CONTENT_TYPE');
    expect(got).not.toHaveProperty('CONTENT_LENGTH');
    expect(got).not.toHaveProperty('REMOTE_ADDR');
    expect(got.HTTP_ACCEPT).toBe('*/*');
  });
});

describe('cgiResponse', () => {
  interface Case {
    name: string;
    stdout: string;
    exit?: number;
    stderr?: string;
    method?: string;
    status: number;
    statusText?: string;
    headers?: Record<string, string | null>;
    body: string;
  }
  const CASES: Case[] = [
    { name: 'no header block: the whole output, text/plain', stdout: 'hello\n\nworld\n', status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'hello\n\nworld\n' },
    { name: 'header lines without a CGI field are body', stdout: 'Note: hi\n\nrest', status: 200, body: 'Note: hi\n\nrest' },
    { name: 'a non-header line means no block', stdout: 'Content-Type: x/y\nnot a header\n\nrest', status: 200, body: 'Content-Type: x/y\nnot a header\n\nrest' },
    { name: 'LF block', stdout: 'Content-Type: text/html\n\n<b>x</b>', status: 200, headers: { 'content-type': 'text/html' }, body: '<b>x</b>' },
    { name: 'CRLF block with Status', stdout: 'Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\ngone', status: 404, statusText: 'Not Found', headers: { 'content-type': 'text/html' }, body: 'gone' },
    { name: 'Status without a reason', stdout: 'Status: 201\n\n', status: 201, body: '' },
    { name: 'Location redirects', stdout: 'Location: https://e.example/\n\n', status: 302, headers: { location: 'https://e.example/' }, body: '' },
    { name: 'Status wins over Location', stdout: 'Location: /x\nStatus: 301 Moved\n\n', status: 301, headers: { location: '/x' }, body: '' },
    { name: 'a block decides even after a failing exit', stdout: 'Status: 503 Busy\n\ntry later', exit: 2, status: 503, body: 'try later' },
    { name: 'failing exit without a block: 500 with the stderr tail', stdout: 'half', exit: 7, stderr: 'boom\n', status: 500, body: "the box's command failed with exit code 7\nboom\n" },
    { name: 'a Status out of range is a 502', stdout: 'Status: 99 Low\n\n', status: 502, body: 'the box\'s command wrote "Status: 99 Low"; write a status from 200 to 599, e.g. "Status: 404 Not Found"\n' },
    { name: 'a header the platform refuses is a 502', stdout: 'Content-Type: text/plain\nX-Bad: a\u0000b\n\n', status: 502, body: 'the box\'s command wrote a header this host refuses: "X-Bad: a\u0000b"\n' },
    { name: '204 has no body', stdout: 'Status: 204 No Content\n\nignored', status: 204, body: '' },
    { name: 'HEAD has no body', stdout: 'Content-Type: text/plain\n\nbody', method: 'HEAD', status: 200, body: '' },
  ];
  it.for(CASES)('$name', async (c) => {
    const res = cgiResponse(new Request('http://h/', { method: c.method ?? 'GET' }), enc(c.stdout), c.exit ?? 0, enc(c.stderr ?? ''));
    expect(res.status).toBe(c.status);
    if (c.statusText !== undefined) expect(res.statusText).toBe(c.statusText);
    expect(res.headers.get('x-wasmbox-exit-code')).toBe(String(c.exit ?? 0));
    for (const [k, v] of Object.entries(c.headers ?? {})) expect(res.headers.get(k)).toBe(v);
    expect(await res.text()).toBe(c.body);
  });

  it('keeps repeated headers (Set-Cookie)', () => {
    const res = cgiResponse(new Request('http://h/'), enc('Content-Type: text/plain\nSet-Cookie: a=1\nSet-Cookie: b=2\n\n'), 0, enc(''));
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('keeps binary bodies as they are', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const out = new Uint8Array([...enc('Content-Type: application/octet-stream\r\n\r\n'), ...bytes]);
    expect(new Uint8Array(await cgiResponse(new Request('http://h/'), out, 0, enc('')).arrayBuffer())).toEqual(bytes);
  });

  it('tailOf keeps the last bytes from a line start', () => {
    expect(new TextDecoder().decode(tailOf(enc('aaaa\nbbbb\ncc\n'), 8))).toBe('cc\n');
    expect(new TextDecoder().decode(tailOf(enc('short'), 8))).toBe('short');
    expect(new TextDecoder().decode(tailOf(enc('x'.repeat(20)), 8))).toBe('x'.repeat(8));
  });
});
