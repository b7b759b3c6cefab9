#!/usr/bin/env node
import module from 'node:module';
import { statSync } from 'node:fs';

// Node 22.1+ can keep compiled code between runs; start-up is part of every
// no-op build. Older Nodes simply lack the function.
module.enableCompileCache?.();

// `npm run build` writes tsc's modules (dist/cli/…) and then the bundle of
// them (dist/bundle/spx.js, one file to resolve and read instead of ~55).
// The bundle is used unless tsc has run since (a developer's
// `npx tsc -p tsconfig.json`): a stale bundle must never run newer sources.
const mtime = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundle = mtime('../dist/bundle/spx.js');
await import(bundle >= mtime('../dist/cli/main.js') ? '../dist/bundle/spx.js' : '../dist/cli/main.js');
