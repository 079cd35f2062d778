// `wasmbox build -o/--output`: each value as typed, and what it parses to (or the error it gives); then
// writeOutputs writing a box copy, an OCI archive and an OCI layout from one built box.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeDiffId } from '../../src/box/canonical-tar.js';
import { writeBox } from '../../src/box/pack.js';
import { boxDestination, parseOutputs, writeOutputs, type Output } from '../../src/cli/output.js';
import { WasmboxError } from '../../src/errors.js';
import { IMPLICIT_DIR } from '../../src/fs/tree.js';
import { scratchDir } from '../helpers/fixtures.js';
import { sampleConfig, sampleTree } from '../box/sample-tree.js';

let work: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ dir: work, remove } = await scratchDir('wasmbox-output-'));
  await mkdir(join(work, 'existing-dir'));
});
afterAll(async () => remove());

// [typed value(s), parsed outputs or the error: [message pattern, hint pattern]]. Paths under `@` are in the scratch dir.
type Case = [string[], Output[] | [RegExp, RegExp?]];
const CASES: Case[] = [
  [['out'], [{ type: 'box', dest: 'out' }]],
  [['./out/box'], [{ type: 'box', dest: './out/box' }]],
  [['type=box,dest=out'], [{ type: 'box', dest: 'out' }]],
  [['type=oci,dest=image.tar'], [{ type: 'oci', dest: 'image.tar', tar: true, name: 'latest' }]],
  [['type=oci,dest=layout/'], [{ type: 'oci', dest: 'layout/', tar: false, name: 'latest' }]],
  [['type=oci,dest=layout,tar=false,name=1.0'], [{ type: 'oci', dest: 'layout', tar: false, name: '1.0' }]],
  [['type=oci,dest=@/existing-dir'], [{ type: 'oci', dest: '@/existing-dir', tar: false, name: 'latest' }]],
  [['TYPE=oci,Dest=x.tar,tar=true'], [{ type: 'oci', dest: 'x.tar', tar: true, name: 'latest' }]],
  [['out', 'type=oci,dest=img.tar'], [{ type: 'box', dest: 'out' }, { type: 'oci', dest: 'img.tar', tar: true, name: 'latest' }]],
  [[''], [/an output is empty/]],
  [['-'], [/stdout is not supported/]],
  [['dest=out'], [/needs type=/, /type=box,dest=DIR/]],
  [['type=local,dest=out'], [/unknown output type "local"/, /types are box .* and oci/]],
  [['type=ocl,dest=out'], [/unknown output type "ocl"/, /did you mean "oci"\?/]],
  [['type=oci,destination=x'], [/type=oci has no key "destination"/, /its keys are type, dest, tar, name/]],
  [['type=oci,dst=x'], [/type=oci has no key "dst"/, /did you mean "dest"\?/]],
  [['type=box,dest=x,name=v1'], [/type=box has no key "name"/, /did you mean "dest"\?|its keys/]],
  [['type=oci'], [/type=oci needs dest=/, /dest=FILE/]],
  [['type=oci,dest='], [/type=oci needs dest=/]],
  [['type=oci,dest=x,tar=yes'], [/tar must be true or false, not "yes"/]],
  [['type=oci,dest=x/,tar=true'], [/tar=true but x\/ is a directory/]],
  [['type=oci,dest=x,name=-bad'], [/name "-bad" is not a tag/]],
  [['type=oci,dest=x,name=a:b'], [/name "a:b" is not a tag/]],
  [['type=oci,dest=x,dest=y'], [/"dest" is given twice/]],
  [['type=oci,,dest=x'], [/"" is not KEY=VALUE/]],
  [['out', 'type=box,dest=./out'], [/two outputs write to \.\/out/]],
];

describe('parseOutputs', () => {
  it.each(CASES)('%j', (typed, want) => {
    const at = (s: string) => s.replace('@', work);
    const values = typed.map(at);
    if (!(want[0] instanceof RegExp)) {
      expect(parseOutputs(values)).toEqual((want as Output[]).map((o) => ({ ...o, dest: at(o.dest) })));
      return;
    }
    const [message, hint] = want as [RegExp, RegExp?];
    let err: unknown;
    try {
      parseOutputs(values);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WasmboxError);
    const e = err as WasmboxError;
    expect([e.code, e.instruction]).toEqual(['USAGE', '--output']);
    expect(values).toContain(e.value);
    expect(e.message).toMatch(message);
    if (hint) expect(e.hint).toMatch(hint);
  });

  it('names the box directory to build into', () => {
    expect(boxDestination(parseOutputs(['type=oci,dest=a.tar', 'type=box,dest=b', 'c']))).toBe('b');
    expect(boxDestination(parseOutputs(['type=oci,dest=a.tar']))).toBeUndefined();
  });
});

describe('writeOutputs', () => {
  it('writes a box copy, an OCI archive and an OCI layout from one box', async () => {
    const tree = sampleTree();
    Object.assign(tree.root, IMPLICIT_DIR);
    const config = sampleConfig();
    config.rootfs.diff_ids = [await treeDiffId(tree)];
    const box = join(work, 'box');
    await writeBox(box, tree, config);
    const outputs = parseOutputs([box, `type=box,dest=${work}/copy`, `type=oci,dest=${work}/img.tar,name=v2`, `type=oci,dest=${work}/layout/`]);
    const written = await writeOutputs(box, outputs);
    expect(written.map((w) => w.output)).toEqual(outputs);
    const [digest] = written.filter((w) => w.output.type === 'oci').map((w) => w.digest);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(written.filter((w) => w.output.type === 'oci').every((w) => w.digest === digest)).toBe(true);
    for (const name of ['box.json', 'config.json', 'rootfs.wbfs']) {
      expect(await readFile(join(work, 'copy', name))).toEqual(await readFile(join(box, name)));
    }
    const index = JSON.parse(await readFile(join(work, 'layout', 'index.json'), 'utf8'));
    expect(index.manifests[0]).toMatchObject({ digest, platform: { os: 'wasi', architecture: 'wasm' }, annotations: { 'org.opencontainers.image.ref.name': 'latest' } });
    expect((await readdir(work)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect((await readFile(join(work, 'img.tar'))).includes(Buffer.from('"org.opencontainers.image.ref.name":"v2"'))).toBe(true);
  });
});
