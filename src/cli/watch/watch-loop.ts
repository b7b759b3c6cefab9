import path from 'node:path';
import type { FSWatcher } from 'chokidar';
import { SHIPPED_PIPELINES_DIR, pipelineNames } from '../../config/pipelines.js';
import { withProvider } from '../../config/override-provider.js';
import type { LoadedPipeline } from '../../config/types.js';
import type { Renderer } from '../../render/renderer.js';
import type { BuildSummary } from '../../scheduler/events.js';
import { UserError, UserErrors } from '../../util/errors.js';
import { EXIT, STOP_SIGNALS } from '../exit-codes.js';
import { openProject, type ProjectOptions } from '../project.js';
import type { StopSignals } from '../stop-signals.js';
import { AffectedNodes } from './affected-nodes.js';
import { ChangeQueue, type WatchTurn } from './change-queue.js';
import { watchScope } from './file-watcher.js';
import { OwnWrites } from './own-writes.js';
import { QuietBuilds } from './quiet-builds.js';
import { listenForKeys } from './watch-keys.js';
import { foreachGlob, WatchScope } from './watch-scope.js';

/** How long the files must stay quiet before a build starts, and the longest a steady stream of changes delays it. */
const TIMING = { quietMs: 80, maxWaitMs: 1_000 };

/** What `spx build` gives its watch: the project as opened, and one build as it does it. */
export interface WatchedProject {
  project: ProjectOptions;
  /** `--provider P`, applied on every reload. */
  provider: string | undefined;
  targets: string[];
  pipeline: LoadedPipeline;
  renderer: Renderer;
  stop: StopSignals;
  /** `--watch=all`: a save runs model and agent nodes too. */
  runModelNodesOnSave: boolean;
  /** One build of `targets` (all: []), review prompt and all, as `spx build` does it; its state is saved when it returns. */
  build(pipeline: LoadedPipeline, options: { targets: string[]; holdModelNodes: boolean; renderer: Renderer }): Promise<number>;
}

/**
 * `spx build --watch`: a first build, then one build per burst of changes
 * to what the build reads or writes, until `q` or a stop signal. One build
 * at a time; a save does not run a model or agent node unless `--watch=all`
 * (`m` does). An invalid pipeline file is reported and the watch goes on
 * with the pipeline it had.
 */
export async function watchAndBuild(watched: WatchedProject): Promise<number> {
  const { renderer, stop } = watched;
  const queue = new ChangeQueue(TIMING);
  const quiet = new QuietBuilds(renderer);
  const keys = listenForKeys((key) => queue.press(key));
  let pipeline = watched.pipeline;
  let scope = await scopeOf(watched, pipeline);
  let affected = new AffectedNodes(pipeline, watched.targets);
  let watcher: FSWatcher | undefined;
  let shown = 0;
  const own = new OwnWrites(pipeline.root);
  const heard = (file: string, reload: boolean): void => {
    if (!own.isOwn(file)) queue.add(file, reload);
  };

  const build = async (trigger: 'start' | 'change' | 'key', changed: string[], force: boolean): Promise<void> => {
    // A change builds what it can make stale; the first build, a key press and a reload build every target.
    const partial = trigger === 'change' && !force;
    const targets = partial ? affected.of(changed) : watched.targets;
    if (partial && targets.length === 0) return;
    // Every build of the turn (one more after each approval at the prompt): their outputs are all the watch's own.
    const summaries: BuildSummary[] = [];
    const announced = quiet.forBuild(() => renderer.handle({ type: 'watch-build-start', build: ++shown, trigger, changed }), { show: force });
    const capturing: Renderer = {
      handle: (event) => {
        if (event.type === 'build-end') summaries.push(event.summary);
        announced.handle(event);
      },
      flush: () => announced.flush(),
      abandon: () => announced.abandon(),
    };
    await watched.build(pipeline, { targets, holdModelNodes: !watched.runModelNodesOnSave && trigger !== 'key', renderer: capturing });
    for (const summary of summaries) own.remember(pipeline, summary);
    queue.discard((file) => own.isOwn(file));
    if (!announced.shown || stop.signal.aborted) return;
    const held = (summaries.at(-1)?.stale ?? []).filter((node) => 'provider' in (pipeline.config.nodes[node] ?? {}));
    renderer.handle({ type: 'watch-build-end', build: shown, held, input: keys.input });
  };

  try {
    watcher = await watchScope(scope, heard);
    await build('start', [], true);
    for (;;) {
      keys.resume();
      const turn = await queue.next(stop.signal);
      keys.pause();
      if (turn.kind !== 'build') break;
      let force = turn.key !== undefined;
      if (turn.reload) {
        const reloaded = await reload(watched);
        if (reloaded === undefined) continue;
        pipeline = reloaded.pipeline;
        affected = new AffectedNodes(pipeline, watched.targets);
        const next = reloaded.scope;
        if (next.signature !== scope.signature) {
          await watcher.close();
          scope = next;
          watcher = await watchScope(scope, heard);
        }
        force = true;
      }
      await build(turnTrigger(turn), turn.changed, force);
    }
  } finally {
    keys.dispose();
    queue.dispose();
    await watcher?.close();
  }
  return stop.stoppedBy === undefined ? EXIT.ok : STOP_SIGNALS[stop.stoppedBy];
}

function turnTrigger(turn: Extract<WatchTurn, { kind: 'build' }>): 'change' | 'key' {
  return turn.key === undefined ? 'change' : 'key';
}

/** The pipeline file loaded again, or undefined (said) when it does not load: the watch keeps the one it has. */
async function reload(watched: WatchedProject): Promise<{ pipeline: LoadedPipeline; scope: WatchScope } | undefined> {
  try {
    const { pipeline } = await openProject(watched.project);
    const loaded = watched.provider === undefined ? pipeline : withProvider(pipeline, watched.provider);
    // A target the edit removed is an error like any other in the file: the scope's closure says so.
    return { pipeline: loaded, scope: await scopeOf(watched, loaded) };
  } catch (error) {
    if (!(error instanceof UserError || error instanceof UserErrors)) throw error;
    watched.renderer.handle({ type: 'watch-pipeline-error', message: error.format() });
    return undefined;
  }
}

/** What to watch for this pipeline: its nodes' files, its file and the bases it may extend, and where foreach instances appear. */
async function scopeOf(watched: WatchedProject, pipeline: LoadedPipeline): Promise<WatchScope> {
  const templates = (await openProject({ ...watched.project, expand: false })).pipeline.config.nodes;
  const foreachPatterns = Object.values(templates).flatMap((node) => (node.foreach === undefined ? [] : [foreachGlob(node.foreach)]));
  // `extends` names a pipeline that ships with spx: all of them are watched, a handful of files that change with spx.
  const bases = pipelineNames().map((name) => path.join(SHIPPED_PIPELINES_DIR, `${name}.yaml`));
  return new WatchScope(pipeline.root, pipeline, watched.targets, { pipelineFiles: [pipeline.file, ...bases], foreachPatterns });
}
