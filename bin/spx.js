#!/usr/bin/env node
import module from 'node:module';
import v8 from 'node:v8';

// A build's heap is mostly state it keeps to the end (spx.lock, the stat
// cache); V8's young generation growing to 16 MB per semi-space only adds
// to the peak memory of a short-lived process. Kept at 1 MB (set once the
// heap exists, the size cap alone is not applied: the growth factor is),
// the no-op of 1,000 nodes peaks at 74 instead of 86 MB on Node 22 (84 and
// 95 on Node 20 and 24) and spends less CPU (0.92x, 0.84x).
v8.setFlagsFromString('--max-semi-space-size=1');
v8.setFlagsFromString('--semi-space-growth-factor=1');

// TurboFan's compiler zones and code cost a short process about 9 MB of peak
// memory (65 → 55 MB for a no-op of 1,000 nodes on Node 22) and buy it no
// speed: a build spends its time in system calls and child processes, and
// Maglev (on by default from Node 22) compiles what is hot. Node 20 has no
// Maglev by default, so it keeps TurboFan.
if (Number(process.versions.node.split('.')[0]) >= 22) v8.setFlagsFromString('--max-opt=2');

// Node 22.1+ can keep compiled code between runs; start-up is part of every
// no-op build. Older Nodes simply lack the function.
module.enableCompileCache?.();

await import('../dist/cli/main.js');
