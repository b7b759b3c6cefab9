#!/usr/bin/env node
// Bundles the CLI (dist/ as tsc wrote it is not needed) into dist/bundle/:
// spx.js, the entry bin/spx.js loads, and one chunk per lazily imported part
// (each command, each node kind, listr2, execa…), so that start-up resolves
// and reads a handful of files instead of ~55 modules and their packages.
//
// repomix and @google/generative-ai stay outside, loaded from node_modules
// only by the nodes that use them: repomix starts worker threads from its
// own files, and both are large. Everything else is bundled: measured on
// the no-op of 1,000 nodes, that starts faster than loading the packages
// from node_modules (docs/performance.md).
//
// The chunks sit two directories below the package root like tsc's output
// (dist/bundle/…), so `new URL('../../schema/…', import.meta.url)` finds
// the same files. No source maps: the bundle is plain, readable JavaScript.

import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const outdir = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { spx: fileURLToPath(new URL('../src/cli/main.ts', import.meta.url)) },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  chunkNames: 'chunk-[hash]',
  external: ['repomix', '@google/generative-ai'],
  // CommonJS packages bundled into ES modules (ajv, yaml's dependencies)
  // call require() for Node's built-in modules; ES modules have none.
  banner: { js: "import { createRequire as __spxCreateRequire } from 'node:module'; const require = __spxCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
