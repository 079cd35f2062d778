#!/usr/bin/env node
// `run` is what users start most: `npm run build` bundles its path into dist/run (scripts/bundle-run.mjs),
// a few files to load instead of ~50. Every other command, and a tree only tsc has built, uses dist/src.
import { existsSync } from 'node:fs';

const argv = process.argv.slice(2);
const bundled = new URL('../dist/run/main.js', import.meta.url);
const entry = argv[0] === 'run' && existsSync(bundled) ? bundled : new URL('../dist/src/cli/main.js', import.meta.url);
const { main } = await import(entry.href);

process.exitCode = await main(argv);
