#!/usr/bin/env node
// Keeps the reference docs identical to their sources: the commands' help
// texts (src/cli/commands/*.ts, as bin/spx.js prints them) and the --json
// event types (src/scheduler/events.ts) in docs/cli.md, the spx.yaml keys
// (schema/spx.schema.json) in docs/reference.md. Each lives between
//   <!-- BEGIN generated: NAME -->  and  <!-- END generated: NAME -->
//
// Usage: npm run build && node .ci/sync-docs.mjs           rewrite the docs
//        npm run build && node .ci/sync-docs.mjs --check   exit 1 if one is out of date
// Plain Node, no dependencies.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

const spx = (...args) =>
  execFileSync(process.execPath, [join(repo, 'bin/spx.js'), ...args], { encoding: 'utf8' }).trimEnd();

function cliSection() {
  const main = spx('--help');
  const commands = [...main.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
  const parts = ['```', main, '```'];
  for (const command of commands) {
    const printed = spx(command, '--help');
    const source = readFileSync(join(repo, 'src/cli/commands', `${command}.ts`), 'utf8');
    const written = source.match(/export const help = `([\s\S]*?)`;/)?.[1]?.replace(/\\([`$\\])/g, '$1');
    if (written !== printed) throw new Error(`spx ${command} --help differs from src/cli/commands/${command}.ts: run npm run build`);
    parts.push('', `## spx ${command}`, '', '```', printed, '```');
  }
  return parts.join('\n');
}

// What each event means, where events.ts has no comment that says it.
const EVENT_MEANINGS = {
  'build-start': 'the build begins: the nodes it covers, in dependency order, `-j`, and the `dependencies` of each node',
  fresh: 'the node is fresh: nothing to do',
  restored: 'the node was stale, and its outputs for the new fingerprint were restored from the cache instead of running it',
  backup: 'an output spx had not written as it is was copied aside before the node regenerated it',
  warning: 'something went wrong that does not fail the build (e.g. a corrupt cache entry)',
  'cache-warning': 'something went wrong with the cache as a whole, not for one node (e.g. the remote cache is unreachable): said once',
  queued: 'for the live task list only, never in `--json`: the node is stale and waits for a job slot (`-j`)',
  working: 'for the live task list only, never in `--json`: the node took a job slot (restoring from the cache or running)',
  start: 'the node starts running; `reasons` says why it is stale, each an object tagged by `reason` (e.g. `{"reason": "input-changed", "file": "in.txt"}`; the list is `StaleReason` in src/fingerprint/explain.ts)',
  stale: '`--dry-run`: the node would run (or, `cached`, be restored), and why; a model node that would call its model has its `estimate` of tokens and cost (docs/cost.md)',
  output: "a chunk of the node's stdout or stderr, as it comes",
  progress: "a one-line note on a running node's progress",
  success: 'the node finished; `output` is everything it printed, `metrics` what it measured (tokens, files)',
  failure: 'the node failed: `reason` says why (`node-failure` or `selection` with the message of the command or node kind, `missing-input` with the `files`, `cache-miss`, `internal`); `output` is everything it printed',
  skipped: 'the node was not attempted: `because` says why, tagged by `reason` (`dependency-failed`, `awaiting-review` or `not-built`, each with the `node`; `interrupted`; `stopped-after-failure`)',
  review: "a review node wrote its outputs; its dependents wait for `spx approve`",
  approved: '`--approve`: a review output was approved without asking',
  interrupted: 'Ctrl-C or SIGTERM stopped the build',
  'build-end': 'the build is over: which nodes ran, were restored, fresh, would run, failed, were skipped or await review; a dry run\'s `summary.forecast` of tokens and cost; `summary.overBudget` when the spend crossed a budget',
  'lock-wait': 'another build holds the project lock: this one waits for it',
  'lock-busy': '`--no-wait`, and another build holds the project lock: nothing is built (exit 1)',
  'review-hint': 'the build stopped at a review gate and no one was asked: review `outputs`, then `spx approve NODE`',
  'cache-only-misses': '`--cache-only`: the model and agent `nodes` the cache did not have, which would have needed a model or an agent',
  'review-prompt-interrupted': 'Ctrl-C at the review prompt (asked on a terminal only, never with `--json`): nothing was approved',
  'watch-build-start': '`--watch`: shown build number `build` begins (`trigger`: `start`, `change` or `key`; `changed`: the paths that set it off); its `build-start` … `build-end` follow',
  'watch-build-end': '`--watch`: the build is over and the watch waits; `held`: stale model and agent nodes not run on save; `input`: how to run them here (`keys`, `lines`, `none`)',
  'watch-pipeline-error': '`--watch`: the pipeline file changed and does not load (`message`, located); the watch keeps the pipeline it had',
  'budget-refused': 'the forecast exceeds the `budget` (`--max-tokens`, `--max-cost`, `budget:`): nothing was built, no model called; `nodes` holds each model node with its `estimate` (docs/cost.md)',
  'budget-crossed': 'the calls\' `spent` crossed the `budget` during the build: the model nodes in `notStarted` did not start (exit 1)',
};

/** Every field of any member of the union type `name` in `source`. */
function fieldsOf(source, name) {
  const start = source.indexOf(`export type ${name} =`);
  if (start === -1) throw new Error(`no type ${name} in src/scheduler/events.ts`);
  const union = source.slice(start, source.indexOf(';\n', start)).replace(/\/\*\*[\s\S]*?\*\//g, '');
  return [...union.matchAll(/(\w+)\??:/g)].map((f) => f[1]);
}

function eventsSection() {
  const source = readFileSync(join(repo, 'src/scheduler/events.ts'), 'utf8');
  const union = source.slice(source.indexOf('export type BuildEvent'), source.indexOf(';\n', source.indexOf('export type BuildEvent')));
  const rows = ['| `type` | other fields | when |', '| ------ | ------------ | ---- |'];
  // An event that is a union itself is written ({ type: …; … } & ItsReason).
  for (const match of union.matchAll(/\|\s*\(?\{\s*type:\s*'([\w-]+)';?(.*)\}(?:\s*&\s*(\w+)\))?\s*$/gm)) {
    const [, type, rest, intersected] = match;
    const names = [...rest.matchAll(/(\w+)\??:/g)].map((f) => f[1]);
    if (intersected) names.push(...fieldsOf(source, intersected));
    const fields = [...new Set(names)].map((name) => `\`${name}\``).join(', ');
    const meaning = EVENT_MEANINGS[type];
    if (meaning === undefined) throw new Error(`event "${type}" has no meaning in .ci/sync-docs.mjs: add one`);
    rows.push(`| \`${type}\` | ${fields} | ${meaning} |`);
  }
  return rows.join('\n');
}

function schemaSection() {
  const schema = JSON.parse(readFileSync(join(repo, 'schema/spx.schema.json'), 'utf8'));
  const defs = schema.definitions;
  const refName = (ref) => ref.replace('#/definitions/', '');
  const LISTS = { paths: 'list of paths', nodeNames: 'list of node names', envNames: 'list of variable names' };
  const headings = new Map();
  const oneOf = (types) => [types].flat().join(', ').replace(/, ([^,]*)$/, ' or $1');

  const typeOf = (prop) => {
    if (prop.$ref) return LISTS[refName(prop.$ref)] ?? 'map, see below';
    if ('const' in prop) return `\`${JSON.stringify(prop.const)}\``;
    if (prop.enum) return prop.enum.map((v) => `\`${v}\``).join(' \\| ');
    if (prop.type === 'array') return `list of ${prop.items?.type ?? 'value'}s`;
    if (prop.type === 'object' && prop.additionalProperties?.$ref) return `map of name → ${refName(prop.additionalProperties.$ref)}`;
    if (prop.type === 'object' && prop.additionalProperties?.type) return `map of name → ${oneOf(prop.additionalProperties.type)}`;
    if (prop.type === 'object') return 'map';
    return oneOf(prop.type);
  };
  const table = (def) => {
    const rows = ['| key | type | meaning |', '| --- | ---- | ------- |'];
    for (const [key, prop] of Object.entries(def.properties ?? {})) {
      const required = def.required?.includes(key) ? ', required' : '';
      const described = prop.description ?? (prop.$ref && defs[refName(prop.$ref)]?.description) ?? '';
      const meaning = described.replace(/\|/g, '\\|').replace(/\n/g, ' ');
      rows.push(`| \`${key}\` | ${typeOf(prop)}${required} | ${meaning} |`);
    }
    return rows.join('\n');
  };
  // Which node kinds and provider types each definition describes.
  const variants = (def, key) => {
    const found = new Map();
    for (const branch of def.allOf ?? []) {
      const value = branch.if?.properties?.[key]?.const;
      const target = branch.then?.$ref && refName(branch.then.$ref);
      if (value && target) found.set(target, [...(found.get(target) ?? []), value]);
    }
    return found;
  };
  for (const [name, values] of variants(defs.node, 'kind')) headings.set(name, `A node of kind ${values.map((v) => `\`${v}\``).join(' or ')}`);
  for (const [name, values] of variants(defs.provider, 'type')) headings.set(name, `A provider of type ${values.map((v) => `\`${v}\``).join(' or ')}`);

  const parts = ['### Top level', '', table(schema), '', '### `defaults`', '', table(schema.properties.defaults)];
  const described = new Set(['node', 'provider']);
  const emit = (name) => {
    if (described.has(name) || !defs[name]?.properties) return;
    described.add(name);
    parts.push('', `### ${headings.get(name) ?? `\`${name}\``}`, '', defs[name].description ?? '', '', table(defs[name]));
    // Nested maps (a context node's `files`, `repomix`) right after their owner.
    for (const [key, prop] of Object.entries(defs[name].properties)) {
      const nested = prop.$ref && refName(prop.$ref);
      if (nested && !LISTS[nested] && !headings.has(nested)) {
        headings.set(nested, `\`${key}\` of ${(headings.get(name) ?? `\`${name}\``).replace(/^A /, 'a ')}`);
        emit(nested);
      }
    }
  };
  for (const name of headings.keys()) emit(name);
  for (const name of Object.keys(defs)) emit(name);
  return parts.join('\n');
}

// Which file holds each generated section.
const sections = [
  { name: 'cli', file: 'docs/cli.md', make: cliSection },
  { name: 'events', file: 'docs/cli.md', make: eventsSection },
  { name: 'schema', file: 'docs/reference.md', make: schemaSection },
];
let stale = false;
for (const file of new Set(sections.map((section) => section.file))) {
  const before = readFileSync(join(repo, file), 'utf8');
  let after = before;
  for (const { name, make } of sections.filter((section) => section.file === file)) {
    const begin = `<!-- BEGIN generated: ${name} -->`;
    const end = `<!-- END generated: ${name} -->`;
    const from = after.indexOf(begin);
    const to = after.indexOf(end);
    if (from === -1 || to < from) throw new Error(`${file} lacks the markers ${begin} … ${end}`);
    after = `${after.slice(0, from + begin.length)}\n${make()}\n${after.slice(to)}`;
  }
  if (after === before) {
    console.log(`${file} is up to date`);
  } else if (check) {
    console.error(`${file} is out of date with the CLI, events or schema: run node .ci/sync-docs.mjs`);
    stale = true;
  } else {
    writeFileSync(join(repo, file), after);
    console.log(`${file} updated`);
  }
}
if (stale) process.exit(1);
