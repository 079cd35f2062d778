// Which hosts the WASIX engine refuses before loading the sdk, and what it tells them. The hosts are
// described by their globals (the real WebAssembly and SharedArrayBuffer of this process where they have them).
import { describe, expect, it } from 'vitest';
import { hostProblem, sdkFlavour, silentRunHint, WasixHostError } from '../../../runtime/core/engines/wasmer-host.js';

class FakeWorker {}
const wasm = { WebAssembly, SharedArrayBuffer };
const node = { ...wasm, process: { versions: { node: '20.20.2' } } };
const isolatedPage = { ...wasm, Worker: FakeWorker, crossOriginIsolated: true, navigator: { userAgent: 'Mozilla/5.0' } };
const noThreads = { ...WebAssembly, Memory: function Memory() { throw new TypeError('shared memory is off'); } } as unknown as typeof WebAssembly;

describe('hostProblem', () => {
  const hosts: [string, object, RegExp | undefined][] = [
    ['Node', node, undefined],
    ['Node inside a worker_threads Worker (no global Worker)', { ...node, Worker: undefined }, undefined],
    ['Deno', { ...wasm, Deno: {}, Worker: FakeWorker, process: { versions: { node: '20.11.1' } } }, undefined],
    ['a cross-origin-isolated page', isolatedPage, undefined],
    ['a page that is not cross-origin isolated', { ...isolatedPage, crossOriginIsolated: false, SharedArrayBuffer: undefined }, /cross-origin-isolated page .*Cross-Origin-Opener-Policy: same-origin.*not cross-origin isolated/],
    ['a browser without SharedArrayBuffer', { ...isolatedPage, crossOriginIsolated: undefined, SharedArrayBuffer: undefined }, /^SharedArrayBuffer, which this host hides/],
    ['a browser without Workers', { ...isolatedPage, Worker: undefined }, /^Web Workers/],
    ['workerd', { ...wasm, navigator: { userAgent: 'Cloudflare-Workers' } }, /compile WebAssembly at run time, which Cloudflare workerd forbids/],
    ['a host without WebAssembly', { SharedArrayBuffer }, /^WebAssembly, which/],
    ['a host without WebAssembly threads', { ...node, WebAssembly: noThreads }, /^WebAssembly threads/],
  ];
  it.each(hosts)('%s', (_, host, problem) => {
    const found = hostProblem(host);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });
});

describe('sdkFlavour', () => {
  it('loads the Node build in Node and the browser build in Deno and browsers', () => {
    expect(sdkFlavour(node)).toBe('node');
    expect(sdkFlavour({ ...wasm, Deno: {}, Worker: FakeWorker, process: { versions: { node: '20' } } })).toBe('browser');
    expect(sdkFlavour(isolatedPage)).toBe('browser');
    expect(sdkFlavour()).toBe('node');
  });

  it('throws WasixHostError starting "the WASIX engine needs"', () => {
    expect(() => sdkFlavour({ ...wasm, navigator: { userAgent: 'Cloudflare-Workers' } })).toThrow(WasixHostError);
    expect(() => sdkFlavour({ ...isolatedPage, crossOriginIsolated: false })).toThrow(/^the WASIX engine needs a cross-origin-isolated page/);
  });
});

describe('silentRunHint', () => {
  it.each([
    ['Node without worker permission', { ...node, process: { ...node.process, permission: { has: () => false } } }, /--allow-worker/],
    ['a browser', isolatedPage, /Cross-Origin-Embedder-Policy: require-corp/],
    ['Node', node, /"Wasmer SDK worker" messages/],
  ])('%s', (_, host, hint) => {
    expect(silentRunHint(host)).toMatch(hint);
  });
});
