import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { WasmboxError, suggest } from '../errors.js';
import { treeFromFsImage } from '../box/box-tree.js';
import { withBoxImage } from '../box/oci-image.js';
import { writeOciArchive, writeOciLayout } from '../box/oci-write.js';
import { readBox, writeBox } from '../box/pack.js';

/** One `wasmbox build -o/--output` destination: a box directory, or the box as an OCI layout or archive. */
export type Output = { type: 'box'; dest: string } | { type: 'oci'; dest: string; tar: boolean; name: string };

/** What was written for one output, for the build's summary line. */
export interface WrittenOutput {
  output: Output;
  /** The image manifest digest, for OCI outputs. */
  digest?: string;
}

const KEYS: Record<Output['type'], string[]> = { box: ['type', 'dest'], oci: ['type', 'dest', 'tar', 'name'] };
const TYPES = Object.keys(KEYS);
const TAG = /^[\w][\w.-]{0,127}$/;
const FLAG = '--output';

/**
 * Parses `-o` values the way BuildKit reads them: a plain path is a box directory; otherwise comma-separated
 * KEY=VALUE pairs, `type=box,dest=DIR` or `type=oci,dest=PATH[,tar=false][,name=TAG]`. An OCI output is an
 * archive unless tar=false, the path ends in '/', or it is an existing directory; then it is a layout.
 */
export function parseOutputs(values: string[]): Output[] {
  const outputs = values.map(parseOutput);
  const seen = new Set<string>();
  for (const [i, output] of outputs.entries()) {
    const key = resolve(output.dest);
    if (seen.has(key)) usage(values[i], `two outputs write to ${output.dest}`, 'give each output its own destination');
    seen.add(key);
  }
  return outputs;
}

/** The first box directory among the outputs, where the build writes the box itself (else a temporary one). */
export function boxDestination(outputs: Output[]): string | undefined {
  return outputs.find((o) => o.type === 'box')?.dest;
}

/**
 * Writes every output from the box at `boxDir`: other box directories get a copy (checked and rewritten, so
 * byte-identical), OCI outputs share one compressed image. A box output naming `boxDir` itself is skipped.
 */
export async function writeOutputs(boxDir: string, outputs: Output[]): Promise<WrittenOutput[]> {
  const written: WrittenOutput[] = [];
  for (const output of outputs) {
    if (output.type === 'box' && resolve(output.dest) !== resolve(boxDir)) await copyBox(boxDir, output.dest);
    if (output.type === 'box') written.push({ output });
  }
  const oci = outputs.filter((o): o is Extract<Output, { type: 'oci' }> => o.type === 'oci');
  if (oci.length === 0) return written;
  return withBoxImage(boxDir, {}, async (image) => {
    for (const output of oci) {
      await (output.tar ? writeOciArchive : writeOciLayout)(output.dest, image, output.name);
      written.push({ output, digest: image.manifest.digest });
    }
    return written;
  });
}

async function copyBox(from: string, to: string): Promise<void> {
  const box = await readBox(from);
  await writeBox(to, treeFromFsImage(box.fs), box.config);
}

function parseOutput(value: string): Output {
  if (value === '' || value === '-') {
    usage(value, value === '' ? 'an output is empty' : 'writing the output to stdout is not supported', 'write -o DIR, or -o type=oci,dest=FILE');
  }
  if (!value.includes('=')) return { type: 'box', dest: value };
  const fields = parseFields(value);
  const type = fields.get('type');
  if (type === undefined) usage(value, 'an output with KEY=VALUE fields needs type=…', 'write type=box,dest=DIR or type=oci,dest=PATH');
  if (!(type in KEYS)) {
    usage(value, `unknown output type "${type}"`, suggest(type, TYPES) ?? 'the types are box (a box directory) and oci (an OCI image layout or archive)');
  }
  const known = KEYS[type as Output['type']];
  for (const key of fields.keys()) {
    if (!known.includes(key)) usage(value, `type=${type} has no key "${key}"`, suggest(key, known) ?? `its keys are ${known.join(', ')}`);
  }
  const dest = fields.get('dest');
  if (!dest) usage(value, `type=${type} needs dest=…`, type === 'box' ? 'write type=box,dest=DIR' : 'write type=oci,dest=FILE (an archive) or dest=DIR/ (a layout)');
  return type === 'box' ? { type: 'box', dest } : { type: 'oci', dest, tar: archiveWanted(value, dest, fields.get('tar')), name: tagOf(value, fields.get('name')) };
}

function parseFields(value: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    if (eq <= 0) usage(value, `"${field}" is not KEY=VALUE`, 'separate fields with commas, e.g. type=oci,dest=image.tar');
    const key = field.slice(0, eq).trim().toLowerCase();
    if (fields.has(key)) usage(value, `"${key}" is given twice`, 'give each key once');
    fields.set(key, field.slice(eq + 1));
  }
  return fields;
}

/** BuildKit's rule: an archive unless tar=false, or the destination is (or is written as) a directory. */
function archiveWanted(value: string, dest: string, tar: string | undefined): boolean {
  if (tar !== undefined && tar !== 'true' && tar !== 'false') usage(value, `tar must be true or false, not "${tar}"`, 'write tar=false for an OCI layout directory');
  const isDir = dest.endsWith('/') || statSync(dest, { throwIfNoEntry: false })?.isDirectory() === true;
  if (tar === 'true' && isDir) usage(value, `tar=true but ${dest} is a directory`, 'name a file for the archive, or drop tar=true to write a layout there');
  return tar === undefined ? !isDir : tar === 'true';
}

function tagOf(value: string, name: string | undefined): string {
  if (name === undefined) return 'latest';
  if (!TAG.test(name)) usage(value, `name "${name}" is not a tag`, 'a tag is up to 128 letters, digits, "_", "." and "-", not starting with "." or "-", e.g. name=1.0');
  return name;
}

function usage(value: string, message: string, hint: string): never {
  throw new WasmboxError('USAGE', message, { instruction: FLAG, value, hint });
}
