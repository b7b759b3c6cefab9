import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
// The only module that loads repomix; imported by the context kind's run(),
// so that a fresh or restored bundle never pays for it.
import { mergeConfigs, pack, setLogLevel, type PackResult } from 'repomix';
import type { ContextNodeConfig } from '../../config/types.js';
import { displayName } from '../../files/file-name.js';
import { ProjectBoundary } from '../../files/project-boundary.js';
import { formatBytes } from '../../util/format-bytes.js';
import { NodeFailure, type RunContext, type RunMetrics } from '../kind.js';

const SILENT = -1;
/** How many of the largest files a budget failure names. */
const LARGEST_LISTED = 5;
let tempCounter = 0;

/**
 * Packs the selected files (the inputs the fingerprint saw, in that order)
 * into the node's output with repomix, and reports what it holds.
 *
 * repomix gets the list as is: its own search, .gitignore and default
 * ignore rules are bypassed, since the selection already decided. Whatever
 * would make the bytes depend on more than the selected files is off:
 * ordering by git history, git diffs and logs, the clipboard. The bundle is
 * written to a temp file and renamed, so it is whole or absent; one over
 * budget is not written at all.
 */
export async function packBundle(config: ContextNodeConfig, context: RunContext): Promise<RunMetrics> {
  const { root } = context;
  const files = stillSelectable(context);
  const selectedBytes = files.reduce((sum, file) => sum + (statSync(join(root, file), { throwIfNoEntry: false })?.size ?? 0), 0);
  context.onProgress(`${count(files.length, 'file')} selected (${formatBytes(selectedBytes)})`);
  if (files.length === 0) context.onOutput('stderr', 'the selection is empty: the bundle holds no files\n');

  // repomix's logger writes to our stdout; its workers take the level from here.
  setLogLevel(SILENT);
  const target = join(root, config.output);
  const temp = `${target}.tmp-${process.pid}-${tempCounter++}`;
  mkdirSync(dirname(target), { recursive: true });
  try {
    let result: PackResult;
    try {
      result = await pack([root], repomixConfig(config, root, temp), forwardProgress(context), {
        searchFiles: async () => ({ filePaths: files, emptyDirPaths: [] }),
      });
    } catch (error) {
      throw new NodeFailure(`repomix could not pack the bundle: ${(error as Error).message}`);
    }
    // repomix cannot be stopped midway: an interrupt takes effect once it returns.
    if (context.signal.aborted) throw new NodeFailure('interrupted');
    reportLeftOut(result, context);
    checkBudget(result, config);
    renameSync(temp, target);
    const bytes = statSync(target).size;
    context.onProgress(`${count(result.totalFiles, 'file')}, ${formatBytes(bytes)}, ${count(result.totalTokens, 'token')}`);
    return { tokens: result.totalTokens, files: result.totalFiles, bytes };
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * The selection checked each file when the node was judged; repomix reads
 * them later, following symlinks and blocking on a FIFO. Whatever became a
 * link out of the project or a special file since (a node running
 * alongside wrote it) is left out, said in a warning, rather than read.
 */
function stillSelectable(context: RunContext): string[] {
  const boundary = new ProjectBoundary(context.root);
  return context.inputFiles.filter((file) => {
    const location = boundary.locate(file);
    const regular = location === 'inside' && statSync(join(context.root, file), { throwIfNoEntry: false })?.isFile() === true;
    if (!regular) context.onWarning(`left out ${displayName(file)}: it changed during the build (${location === 'outside' ? 'it now leads outside the project' : location === 'missing' ? 'it is gone' : 'it is no longer a regular file'})`);
    return regular;
  });
}

type RepomixCliConfig = Parameters<typeof mergeConfigs>[2];

function repomixConfig(config: ContextNodeConfig, root: string, filePath: string): ReturnType<typeof mergeConfigs> {
  const options = config.repomix;
  const cli: RepomixCliConfig = {
    output: {
      filePath,
      style: options.style,
      parsableStyle: options.parsableStyle,
      compress: options.compress,
      removeComments: options.removeComments,
      removeEmptyLines: options.removeEmptyLines,
      showLineNumbers: options.showLineNumbers,
      truncateBase64: options.truncateBase64,
      fileSummary: options.fileSummary,
      directoryStructure: options.directoryStructure,
      ...(options.headerText === undefined ? {} : { headerText: options.headerText }),
      stdout: false,
      copyToClipboard: false,
      includeEmptyDirectories: false,
      includeFullDirectoryStructure: false,
      tokenCountTree: false,
      git: { sortByChanges: false, includeDiffs: false, includeLogs: false },
    },
    ignore: { useGitignore: false, useDotIgnore: false, useDefaultPatterns: false, customPatterns: [] },
    security: { enableSecurityCheck: options.securityCheck },
    tokenCount: { encoding: options.tokenEncoding },
  };
  // repomix's own defaults fill in the rest, as for its CLI; no repomix.config.json is read.
  return mergeConfigs(root, {}, cli);
}

/**
 * repomix's progress as progress lines: each phase when it starts, then at
 * most a few lines a second, so that `--json` does not print one event per
 * file (its phases run concurrently and interleave).
 */
function forwardProgress(context: RunContext): (message: string) => void {
  const phases = new Set<string>();
  let lastSent = 0;
  return (message) => {
    const text = stripVTControlCharacters(message).trim();
    const phase = text.replace(/\s*\(.*$/, '');
    const now = performance.now();
    if (phases.has(phase) && now - lastSent < 250) return;
    phases.add(phase);
    lastSent = now;
    context.onProgress(`repomix: ${text}`);
  };
}

/** Files repomix did not bundle, said in the node's output; never the secret itself. */
function reportLeftOut(result: PackResult, context: RunContext): void {
  for (const { filePath, messages } of result.suspiciousFilesResults) {
    // secretlint's messages quote the secret ("found X: <secret>"): keep only what kind it is.
    const kinds = [...new Set(messages.map((message) => /^found (.+?):/.exec(message)?.[1] ?? 'a possible secret'))];
    context.onOutput('stderr', `left out ${filePath}: repomix's secret check found ${kinds.join(', ')}\n`);
  }
  const skipped = result.skippedFiles;
  if (skipped.length > 0) {
    const listed = skipped.slice(0, LARGEST_LISTED).map(({ path, reason }) => `${path} (${reason})`);
    if (skipped.length > listed.length) listed.push(`and ${skipped.length - listed.length} more`);
    context.onOutput('stderr', `left out ${count(skipped.length, 'file')} repomix does not bundle: ${listed.join(', ')}\n`);
  }
}

function checkBudget(result: PackResult, config: ContextNodeConfig): void {
  const { maxTokens } = config;
  if (maxTokens === undefined || result.totalTokens <= maxTokens) return;
  const largest = Object.entries(result.fileTokenCounts)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, LARGEST_LISTED)
    .map(([file, tokens]) => `\n    ${file}: ${count(tokens, 'token')}`);
  throw new NodeFailure(
    `the bundle has ${count(result.totalTokens, 'token')}, over maxTokens (${maxTokens.toLocaleString('en-US')}); largest files:${largest.join('')}\n` +
      `  ${narrowingHint(config)}`,
  );
}

/** What to change: a bundle of the files a plan names is too big for one agent's window. */
function narrowingHint(config: ContextNodeConfig): string {
  const source = config.files.fromOutput;
  if (source === undefined) return 'narrow files.include or files.exclude, or turn on repomix.compress';
  return `split the work into smaller plans (${source} names these files), leave large ones out with files.exclude, or turn on repomix.compress`;
}

function count(n: number, unit: string): string {
  return `${n.toLocaleString('en-US')} ${unit}${n === 1 ? '' : 's'}`;
}
