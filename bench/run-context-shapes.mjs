#!/usr/bin/env node
// Benchmark: the tokens each step of the shipped spec-plan-execute pipeline
// sends, against one whole-repository bundle per step (docs/context-shapes.md).
//
// Two trees, each a git repository in bench/.work/context-shapes/NAME
// (recreated on every run) whose spx.yaml extends the shipped pipeline:
//
//   word-count  examples/word-count (its sources, tests and package.json)
//   large       --files N (default 500: about 700K tokens, inside the broad bundle's 800K budget) real .js/.ts files copied from this
//               repository's node_modules into src/, a few tests in test/
//               and a package.json
//
// The models and the agent are stand-ins (a `command` provider): spec and
// plan answer with a canned AI-SPEC.md and AI-PLAN.md that name a few files
// and identifiers, as real ones do, and the agent writes the prompt it got to
// a file. spx logs the spec and plan prompts in .spx/prompts/. Each prompt is
// counted with repomix's token counter (o200k_base, as the context nodes
// count). The whole-repository figure of a step is its prompt with its
// bundle swapped for the broad `context` bundle (every file git lists).
// With --compress it also packs the broad bundle of the large tree with
// repomix.compress + removeComments, the switch the pipeline documents.
//
// Usage: npm run build && node bench/run-context-shapes.mjs [--files N] [--compress]
// Plain Node; repomix (a dependency of spx) for the counts.

import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TokenCounter } from 'repomix';
import { benchEnv, git, log, machine, option, repo, requireBuilt, spxBin, timed, sourceFilesOfNodeModules, workDir } from './lib.mjs';

requireBuilt('run-context-shapes');
const FILES = option('--files', 500);
const COMPRESS = process.argv.includes('--compress');
const work = workDir('context-shapes');
const counter = new TokenCounter('o200k_base');
await counter.init();
const tokens = (text) => counter.countTokens(text);

// ---------------------------------------------------------------- the trees

function wordCount() {
  const source = join(repo, 'examples', 'word-count');
  const files = {};
  for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name).slice(source.length + 1);
    if (/^(src|test)\//.test(file) || file === 'package.json' || file === 'USER-SPEC.md') files[file] = readFileSync(join(source, file));
  }
  return {
    files,
    spec: spec(['src/count.js', 'src/cli.js', 'src/report.js'], ['countWords', '--chars']),
    plan: plan(['src/count.js', 'src/report.js', 'src/cli.js', 'test/count.test.js', 'test/cli.test.js']),
  };
}

function large() {
  const all = sourceFilesOfNodeModules({ withTests: false });
  const step = all.length / FILES;
  const files = { 'USER-SPEC.md': '# Feature\n\nMake the parser report the line of an error.\n', 'package.json': '{ "private": true, "scripts": { "test": "node -e 0" } }\n' };
  const names = [];
  for (let i = 0; i < FILES; i++) {
    const source = all[Math.floor(i * step)];
    const file = `src/${source.slice(join(repo, 'node_modules').length + 1)}`;
    files[file] = readFileSync(source);
    names.push(file);
  }
  for (let i = 0; i < 5; i++) files[`test/t${i}.test.js`] = `import test from 'node:test';\ntest('t${i}', () => {});\n`;
  // The spec names 5 files and 2 identifiers; the plan 8 files (4 of them the spec's).
  const pick = (n, offset) => Array.from({ length: n }, (_, i) => names[Math.floor(((i + offset) * names.length) / 13)]);
  return { files, spec: spec(pick(5, 1), ['createHash', 'parseOptions']), plan: plan([...pick(4, 1), ...pick(4, 7)]) };
}

function spec(paths, identifiers) {
  return `# Specification\n\n## Current behaviour\n\n${paths.map((p) => `- \`${p}\``).join('\n')}\n\n## Required behaviour\n\n1. Use ${identifiers.map((id) => `\`${id}\``).join(' and ')}.\n`;
}

function plan(paths) {
  return `# Plan\n\n## Files\n\n${paths.map((p) => `| ${p} | modify |`).join('\n')}\n\n## Steps\n\n${paths.map((p, i) => `${i + 1}. Change ${p}.`).join('\n')}\n`;
}

function setUp(name, tree) {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(tree.files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  const answers = join(dir, '..', `${name}-answers`);
  rmSync(answers, { recursive: true, force: true });
  mkdirSync(answers);
  writeFileSync(join(answers, 'spec.md'), tree.spec);
  writeFileSync(join(answers, 'plan.md'), tree.plan);
  // The model answers by what its instruction asks for; the agent keeps its prompt.
  const model = `p=$(cat); case "$p" in *"writing the implementation plan"*) cat '${answers}/plan.md';; *) cat '${answers}/spec.md';; esac`;
  writeFileSync(
    join(dir, 'spx.yaml'),
    [
      'version: 1',
      'extends: spec-plan-execute',
      'providers:',
      `  gemini: { type: command, command: [sh, -c, ${JSON.stringify(model)}] }`,
      `  claude: { type: command, command: [sh, -c, ${JSON.stringify(`cat > '${answers}/execute-prompt.md'`)}] }`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, '.gitignore'), '.spx/\nspx.lock\nAI-*.md\nAI-PLAN.patch\n');
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'tree']);
  return { dir, answers };
}

// ---------------------------------------------------------------- measuring

function measure(name, tree) {
  const { dir, answers } = setUp(name, tree);
  timed(process.execPath, [spxBin, 'build', '--approve'], { cwd: dir, env: benchEnv() });
  const lock = JSON.parse(readFileSync(join(dir, 'spx.lock'), 'utf8'));
  const bundle = (node) => tokens(readFileSync(join(dir, `.spx/context/${node}.xml`), 'utf8'));
  const whole = bundle('context');
  const steps = [
    ['spec', readFileSync(join(dir, '.spx/prompts/spec.md'), 'utf8'), 'context'],
    ['plan', readFileSync(join(dir, '.spx/prompts/plan.md'), 'utf8'), 'plan-context'],
    ['execute', readFileSync(join(answers, 'execute-prompt.md'), 'utf8'), 'plan-files'],
  ];
  const rows = steps.map(([step, prompt, node]) => {
    const sent = tokens(prompt);
    return { step, node, files: lock.nodes[node].metrics.files, sent, whole: sent - bundle(node) + whole };
  });
  return { name, files: Object.keys(tree.files).length, rows, wholeBundle: lock.nodes.context.metrics.tokens };
}

function compressedRatio(dir) {
  const yaml = readFileSync(join(dir, 'spx.yaml'), 'utf8');
  writeFileSync(
    join(dir, 'spx.yaml'),
    `${yaml}nodes:\n  context:\n    kind: context\n    files: { exclude: [USER-SPEC.md, AI-SPEC.md, AI-PLAN.md, AI-PLAN.patch, spx.yaml, "**/package-lock.json"] }\n    repomix: { compress: true, removeComments: true }\n    maxTokens: 800000\n`,
  );
  timed(process.execPath, [spxBin, 'build', 'context'], { cwd: dir, env: benchEnv() });
  return JSON.parse(readFileSync(join(dir, 'spx.lock'), 'utf8')).nodes.context.metrics.tokens;
}

// ---------------------------------------------------------------- report

const n = (value) => value.toLocaleString('en-US');
const results = [measure('word-count', wordCount()), measure('large', large())];
log(`tokens each step sends (o200k_base, repomix's counter); ${machine()}`);
log('');
log('| tree | files | step | bundle (files) | sent, shaped | sent, whole repository | saving |');
log('| --- | ---: | --- | --- | ---: | ---: | ---: |');
for (const { name, files, rows } of results) {
  for (const { step, node, files: bundled, sent, whole } of rows) {
    log(`| ${name} | ${n(files)} | ${step} | ${node} (${n(bundled)}) | ${n(sent)} | ${n(whole)} | ${whole === sent ? '—' : `${((1 - sent / whole) * 100).toFixed(1)}%`} |`);
  }
  const sent = rows.reduce((sum, row) => sum + row.sent, 0);
  const whole = rows.reduce((sum, row) => sum + row.whole, 0);
  log(`| ${name} | | all three | | ${n(sent)} | ${n(whole)} | ${((1 - sent / whole) * 100).toFixed(1)}% |`);
}
if (COMPRESS) {
  const raw = results[1].wholeBundle;
  const compressed = compressedRatio(join(work, 'large'));
  log('');
  log(`large tree, broad bundle: ${n(raw)} tokens raw, ${n(compressed)} with compress + removeComments (${((compressed / raw) * 100).toFixed(0)}% of raw)`);
}
counter.free();
