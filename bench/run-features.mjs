// Foreach expansion costs (almost) nothing: the no-op build of 100 features
// × 3 foreach nodes against the no-op of the same 300 nodes written out one
// by one. The goal (issue 13): at most 1.5× the plain pipeline.
//
//   node bench/run-features.mjs [--features 100] [--runs 7]

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchEnv, expectSummary, fmtMs, log, machine, median, option, requireBuilt, spxBuild, workDir } from './lib.mjs';

requireBuilt('run-features');
const features = option('--features', 100);
const runs = option('--runs', 7);
const env = benchEnv();

/** Three run nodes per feature: spec → plan → apply, each a `cp`. */
const STEPS = [
  { node: 'spec', from: 'USER-SPEC.md', to: 'SPEC.md', needs: '' },
  { node: 'plan', from: 'SPEC.md', to: 'PLAN.md', needs: 'spec' },
  { node: 'apply', from: 'PLAN.md', to: 'DONE.md', needs: 'plan' },
];

function foreachPipeline() {
  const nodes = STEPS.map(
    ({ node, from, to, needs }) => `  ${node}:
    kind: run
    foreach: features/{feature}/USER-SPEC.md
    command: cp features/{feature}/${from} features/{feature}/${to}
    ${from === 'USER-SPEC.md' ? 'inputs: ["features/{feature}/USER-SPEC.md"]' : `needs: [${needs}]`}
    outputs: ["features/{feature}/${to}"]
`,
  );
  return `version: 1\nnodes:\n${nodes.join('')}`;
}

function plainPipeline(names) {
  const nodes = names.flatMap((feature) =>
    STEPS.map(
      ({ node, from, to, needs }) => `  ${node}-${feature}:
    kind: run
    command: cp features/${feature}/${from} features/${feature}/${to}
    ${from === 'USER-SPEC.md' ? `inputs: [features/${feature}/USER-SPEC.md]` : `needs: [${needs}-${feature}]`}
    outputs: [features/${feature}/${to}]
`,
    ),
  );
  return `version: 1\nnodes:\n${nodes.join('')}`;
}

function project(name, text, names) {
  const dir = workDir(join('features', name));
  rmSync(dir, { recursive: true, force: true });
  for (const feature of names) {
    mkdirSync(join(dir, 'features', feature), { recursive: true });
    writeFileSync(join(dir, 'features', feature, 'USER-SPEC.md'), `# ${feature}\n`);
  }
  writeFileSync(join(dir, 'spx.yaml'), text);
  return dir;
}

const names = Array.from({ length: features }, (_, i) => `f${String(i).padStart(3, '0')}`);
const projects = { plain: project('plain', plainPipeline(names), names), foreach: project('foreach', foreachPipeline(), names) };
const noOp = {};
for (const [name, dir] of Object.entries(projects)) {
  expectSummary(dir, spxBuild(dir, [], { jobs: 2, env }), `spx: ${features * 3} ran`);
  // Warm the config cache once, then time no-ops.
  spxBuild(dir, [], { jobs: 2, env });
  noOp[name] = [];
}
// Interleaved, so that a busy moment of the machine weighs on both alike.
for (let run = 0; run < runs; run++) {
  for (const [name, dir] of Object.entries(projects)) {
    const result = spxBuild(dir, [], { jobs: 2, env });
    expectSummary(dir, result, 'spx: 0 ran');
    noOp[name].push(result.ms);
  }
}
const plain = median(noOp.plain);
const expanded = median(noOp.foreach);
console.log(`no-op of ${features * 3} nodes (median of ${runs}, ms)`);
console.log(`  written out one by one  ${fmtMs(plain)}`);
console.log(`  ${features} features × 3 foreach nodes ${fmtMs(expanded)}   ${(expanded / plain).toFixed(2)}x (goal: at most 1.5x)`);
log(machine());
