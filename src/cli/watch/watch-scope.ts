import path from 'node:path';
import picomatch from 'picomatch';
import type { LoadedPipeline, NodeConfig } from '../../config/types.js';
import { globMatcher } from '../../files/input-resolver.js';
import { Graph } from '../../graph/graph.js';

/**
 * Directories a glob's `**` does not reach into unless its own base lies
 * there: spx's and git's state (spx writes .spx/ on every build), and
 * node_modules, whose thousands of directories would each cost a watch.
 * A file named in them exactly (a context bundle in .spx/context/) is
 * still watched.
 */
const NOT_SEARCHED = new Set(['.git', '.spx', 'node_modules']);

/**
 * What a watch looks at: the files that can make a node of the build stale
 * (inputs, prompt files, every output, a context node's selection) and the
 * pipeline's own files. Patterns are kept as loose as is cheap, never
 * tighter: a change to a path that turns out not to matter costs one
 * evaluation that shows nothing, a change missed is a stale build.
 */
export class WatchScope {
  /** Project paths named exactly: files, and outputs that are directories (with their contents). */
  private readonly exact = new Set<string>();
  private readonly directoryOutputs: string[] = [];
  /** Glob matchers by their static base ('' for the root). */
  private readonly globs = new Map<string, ((file: string) => boolean)[]>();
  /** Every directory on the way to an exact path or a glob's base. */
  private readonly ancestors = new Set<string>(['']);
  /** Paths whose change reloads the pipeline: outside the project too (the pipelines `extends` names). */
  private readonly pipelineFiles = new Set<string>();
  /** Project paths whose appearance or removal adds or removes foreach instances. */
  private readonly instancePatterns: ((file: string) => boolean)[] = [];
  /** A string that differs whenever what is watched differs. */
  readonly signature: string;
  private readonly rootPrefix: string;

  constructor(
    readonly root: string,
    pipeline: LoadedPipeline,
    targets: readonly string[],
    options: { pipelineFiles: readonly string[]; foreachPatterns: readonly string[] },
  ) {
    this.rootPrefix = root.endsWith(path.sep) ? root : root + path.sep;
    for (const file of options.pipelineFiles) this.pipelineFiles.add(path.resolve(file));
    for (const pattern of options.foreachPatterns) this.addPattern(pattern, this.instancePatterns);
    const nodes = new Graph(pipeline.config).closure([...targets]).map((name) => pipeline.config.nodes[name]!);
    for (const node of nodes) for (const pattern of triggers(node)) this.addPattern(pattern);
    this.signature = JSON.stringify([[...this.exact].sort(), [...this.globs.keys()].sort(), [...this.pipelineFiles].sort(), nodes.flatMap(triggers).sort()]);
  }

  /** The paths to give the watcher: the root, and pipeline files outside it. */
  roots(): string[] {
    return [this.root, ...[...this.pipelineFiles].filter((file) => this.relative(file) === undefined)];
  }

  /** For the watcher's `ignored`: a path that neither matters nor may hold one that does. */
  ignores(absolute: string): boolean {
    if (this.pipelineFiles.has(absolute)) return false;
    const file = this.relative(absolute);
    if (file === undefined) return true;
    return !this.mayHold(file) && !this.matters(file) && !this.addsInstances(file);
  }

  /** Whether a change to this path can make a node stale (or changes the pipeline). */
  matters(absoluteOrRelative: string): boolean {
    const absolute = path.isAbsolute(absoluteOrRelative) ? absoluteOrRelative : path.join(this.root, absoluteOrRelative);
    if (this.pipelineFiles.has(absolute)) return true;
    const file = this.relative(absolute);
    if (file === undefined) return false;
    if (this.exact.has(file) || this.directoryOutputs.some((directory) => file.startsWith(directory))) return true;
    return this.globsOver(file).some((match) => match(file));
  }

  /** Whether a change to this path means loading the pipeline again. */
  reloads(absolute: string): boolean {
    if (this.pipelineFiles.has(absolute)) return true;
    const file = this.relative(absolute);
    return file !== undefined && this.addsInstances(file);
  }

  /** The project path of an absolute one, undefined outside the project. */
  relative(absolute: string): string | undefined {
    // A prefix test, not path.relative: chokidar asks for every file it scans, and absolute paths it gives are normalized.
    if (absolute === this.root) return '';
    if (!absolute.startsWith(this.rootPrefix)) return undefined;
    const relative = absolute.slice(this.rootPrefix.length);
    return path.sep === '/' ? relative : relative.split(path.sep).join('/');
  }

  private addsInstances(file: string): boolean {
    return this.instancePatterns.some((match) => match(file));
  }

  /** Whether a directory may hold a path that matters. */
  private mayHold(directory: string): boolean {
    if (this.ancestors.has(directory)) return true;
    if (this.directoryOutputs.some((output) => `${directory}/`.startsWith(output))) return true;
    return this.globsOver(directory).length > 0;
  }

  /** The glob matchers whose base is this path or a directory above it, unless the rest of the way crosses NOT_SEARCHED. */
  private globsOver(file: string): ((file: string) => boolean)[] {
    const found: ((file: string) => boolean)[] = [];
    const parts = file.split('/');
    for (let depth = 0; depth <= parts.length; depth++) {
      const matchers = this.globs.get(parts.slice(0, depth).join('/'));
      if (matchers && !parts.slice(depth).some((part) => NOT_SEARCHED.has(part))) found.push(...matchers);
    }
    return found;
  }

  /** A file or directory output (trailing `/`), or a glob; `instances` also collects a foreach pattern's matcher. */
  private addPattern(pattern: string, instances?: ((file: string) => boolean)[]): void {
    if (pattern.startsWith('!')) return; // An exclusion narrows; watching a little more is harmless.
    const scan = picomatch.scan(pattern);
    if (!scan.isGlob) {
      if (pattern.endsWith('/')) this.directoryOutputs.push(pattern);
      else this.exact.add(pattern);
      this.addAncestors(pattern.replace(/\/$/, ''));
      return;
    }
    const matcher = globMatcher(pattern);
    instances?.push(matcher);
    this.addAncestors(scan.base, true);
    const list = this.globs.get(scan.base) ?? [];
    list.push(matcher);
    this.globs.set(scan.base, list);
  }

  /** Adds every directory above `file` (and `file` itself when it is a directory base). */
  private addAncestors(file: string, inclusive = false): void {
    const parts = file === '' ? [] : file.split('/');
    for (let depth = 0; depth < parts.length + (inclusive ? 1 : 0); depth++) this.ancestors.add(parts.slice(0, depth).join('/'));
  }
}

/** The patterns whose files can make the node stale: what it reads, and what it writes (a deleted output is stale). */
export function triggers(node: NodeConfig): string[] {
  const patterns = [...node.inputs, ...node.outputs];
  if ('promptFile' in node && node.promptFile !== undefined) patterns.push(node.promptFile);
  if (node.kind === 'context') {
    // A command may print, and an output may name, any file; the include globs are the selection's widest reach otherwise.
    if (node.files.fromCommand !== undefined || node.files.fromOutput !== undefined) patterns.push('**');
    else patterns.push(...node.files.include);
  }
  return patterns;
}

/** `features/{feature}/USER-SPEC.md` → `features/*\/USER-SPEC.md`: any file that would make an instance. */
export function foreachGlob(pattern: string): string {
  return pattern.replace(/\{[^}]*\}/g, '*');
}
