#!/usr/bin/env node
import module from 'node:module';

// Node 22.1+ can keep compiled code between runs; start-up is part of every
// no-op build. Older Nodes simply lack the function.
module.enableCompileCache?.();

await import('../dist/cli/main.js');
