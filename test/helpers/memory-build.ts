import { applyExtends } from '../../src/config/extends.js';
import { parseYaml } from '../../src/config/parse-yaml.js';
import { resolvePipeline } from '../../src/config/resolve.js';
import { checkSemantics } from '../../src/config/check-semantics.js';
import { validateSchema } from '../../src/config/validate-schema.js';
import type { ProjectPipeline } from '../../src/config/extends.js';
import type { LoadedPipeline } from '../../src/config/types.js';
import { globMatcher, InputResolver, isGlob } from '../../src/files/input-resolver.js';
import { BuildState } from '../../src/state/build-state.js';
import type { BuildOptions, BuildSeams } from '../../src/scheduler/build-options.js';
import { buildWith } from '../../src/scheduler/builder.js';
import type { Evaluation } from '../../src/scheduler/evaluate.js';
import type { BuildEvent, BuildSummary, EventSink } from '../../src/scheduler/events.js';
import { lockEntryFor, type NodeOutcome } from '../../src/scheduler/node-runner.js';
import type { ProjectFiles } from '../../src/scheduler/project-files.js';
import { hashBytes, hashValue, type ContentHash } from '../../src/util/hash.js';

const ROOT = '/in-memory-project';

/** A pipeline from spx.yaml text, through the real parser and checks, without touching the disk. */
export function pipelineFrom(text: string): LoadedPipeline {
  const { data, locator } = parseYaml(text, `${ROOT}/spx.yaml`);
  const problems = validateSchema(data, locator);
  if (problems.length > 0) throw new Error(problems.map((problem) => problem.message).join('\n'));
  const { raw, locator: extended } = applyExtends(data as ProjectPipeline, locator, '/no-pipelines');
  const { config, errors } = resolvePipeline(raw, ROOT, extended);
  errors.push(...checkSemantics(config, extended, { pipelineFiles: ['spx.yaml'], stateDir: '.spx' }));
  if (errors.length > 0) throw new Error(errors.map((error) => error.message).join('\n'));
  return { file: `${ROOT}/spx.yaml`, root: ROOT, config };
}

/** The project's files as a map (ninja's VirtualFileSystem). */
export class MemoryFiles implements ProjectFiles {
  readonly contents = new Map<string, string>();
  readonly resolver = new InputResolver(ROOT);

  write(file: string, content: string): void {
    this.contents.set(file, content);
  }

  match(patterns: readonly string[]): string[] {
    const files = new Set<string>();
    for (const pattern of patterns) {
      if (pattern.startsWith('!')) continue;
      if (!isGlob(pattern)) files.add(pattern);
      else for (const file of this.contents.keys()) if (globMatcher(pattern)(file)) files.add(file);
    }
    const exclusions = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => globMatcher(pattern.slice(1)));
    return [...files].filter((file) => !exclusions.some((excluded) => excluded(file))).sort();
  }

  hashFile(file: string): ContentHash | undefined {
    const content = this.contents.get(file);
    return content === undefined ? undefined : hashBytes(content);
  }

  hashOutput(output: string): ContentHash | undefined {
    if (!output.endsWith('/')) return this.hashFile(output);
    const below = [...this.contents.keys()].filter((file) => file.startsWith(output)).sort();
    return below.length === 0 ? undefined : hashValue(below.map((file) => [file, this.hashFile(file)]));
  }
}

/** What a node does when the fake runner runs it: writes its outputs (or fails), now or when released. */
export interface FakeCommand {
  /** Writes the node's outputs; the default writes "<node> from <its inputs' contents>" to each. */
  write?(files: MemoryFiles): void;
  fail?: boolean;
  /** Runs until `release(node)` is called: to watch several nodes in flight at once. */
  held?: boolean;
}

/**
 * Stands in for running a node (ninja's FakeCommandRunner): records which
 * nodes ran and how many were in flight at once, writes outputs into the
 * map, and records the node in spx.lock as a real run does.
 */
export class FakeRunner {
  readonly ran: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly releases = new Map<string, () => void>();
  private readonly started = new Map<string, () => void>();

  constructor(
    private readonly files: MemoryFiles,
    readonly commands: Record<string, FakeCommand> = {},
  ) {}

  /** Lets a held node finish. */
  release(node: string): void {
    this.releases.get(node)!();
  }

  /** Settles once the node has started running. */
  whenStarted(node: string): Promise<void> {
    if (this.ran.includes(node)) return Promise.resolve();
    return new Promise((resolve) => this.started.set(node, resolve));
  }

  seams(pipeline: LoadedPipeline, state: BuildState, signal: AbortSignal): BuildSeams {
    return { files: this.files, regenerate: (node, evaluation, emit) => this.run(pipeline, state, node, evaluation, emit, signal) };
  }

  private async run(pipeline: LoadedPipeline, state: BuildState, node: string, evaluation: Evaluation, emit: EventSink, signal: AbortSignal): Promise<NodeOutcome> {
    const command = this.commands[node] ?? {};
    this.ran.push(node);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.started.get(node)?.();
    emit({ type: 'start', node, reasons: evaluation.reasons, description: node });
    try {
      if (command.held) {
        await new Promise<void>((resolve) => {
          this.releases.set(node, resolve);
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
      } else {
        // A real command takes a while: let other nodes be scheduled meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (signal.aborted) return 'interrupted';
      if (command.fail) {
        emit({ type: 'failure', node, reason: 'node-failure', message: 'exited with code 1', output: '', seconds: 0 });
        return 'failed';
      }
      const config = pipeline.config.nodes[node]!;
      if (command.write) command.write(this.files);
      else for (const output of config.outputs) this.files.write(output, `${node} from ${evaluation.inputFiles.map((file) => this.files.contents.get(file)).join(',')}`);
      const outputs: Record<string, ContentHash> = {};
      for (const output of config.outputs) outputs[output] = this.files.hashOutput(output)!;
      state.record(node, lockEntryFor(evaluation, outputs, state.get(node), undefined));
      emit({ type: 'success', node, seconds: 0, output: '', metrics: {} });
      return 'ran';
    } finally {
      this.inFlight--;
    }
  }
}

export interface MemoryBuild {
  summary: BuildSummary;
  events: BuildEvent[];
}

/** One `spx build` of the pipeline, in memory. */
export async function buildInMemory(
  pipeline: LoadedPipeline,
  state: BuildState,
  runner: FakeRunner,
  options: Partial<BuildOptions> = {},
): Promise<MemoryBuild> {
  const signal = options.signal ?? new AbortController().signal;
  const events: BuildEvent[] = [];
  const all: BuildOptions = {
    targets: [],
    jobs: 1,
    keepGoing: false,
    force: new Set(),
    dryRun: false,
    cache: undefined,
    cacheOnly: false,
    approve: false,
    stateDir: `${ROOT}/.spx`,
    env: {},
    ...options,
    signal,
  };
  const summary = await buildWith(pipeline, state, all, (event) => events.push(event), runner.seams(pipeline, state, signal));
  return { summary, events };
}

export { BuildState };
