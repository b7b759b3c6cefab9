import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedPipeline } from '../config/types.js';
import { SHIPPED_PIPELINES_DIR } from '../config/pipelines.js';
import { Witness } from '../files/witness.js';
import type { Renderer } from '../render/renderer.js';
import type { BuildEvent } from '../scheduler/events.js';
import { spendsNoTokens } from '../config/token-kinds.js';
import { writeFreshSnapshot, type FreshVerdict } from '../state/fresh-snapshot.js';
import { JOURNAL_FILE } from '../state/build-state.js';
import { LOCK_FILE } from '../state/lockfile.js';

/**
 * Watches one `spx build` for a verdict a later build may replay
 * (fresh-snapshot.ts): a build whose every event was "this node is fresh",
 * with what it looked at (the witness). Any other event (a node ran, a
 * warning, a hand edit, waiting for the lock) and there is nothing to
 * replay.
 */
export class VerdictRecorder implements Renderer {
  readonly witness = new Witness();
  private verdict: FreshVerdict | undefined;
  private pure = true;

  private constructor(
    private readonly inner: Renderer,
    private readonly pipeline: LoadedPipeline,
    private readonly stateDir: string,
    private readonly startedAt: number,
  ) {
    // What the pipeline was loaded from, and spx.lock before it is read; their stats must still be older than the build when it ends.
    this.witness.sawFile(pipeline.file, statSync(pipeline.file, { throwIfNoEntry: false }));
    // The pipelines `extends` may name (prompts are files a node reads, seen as inputs).
    for (const name of readdirSync(SHIPPED_PIPELINES_DIR).filter((name) => name.endsWith('.yaml'))) {
      this.witness.sawFile(join(SHIPPED_PIPELINES_DIR, name), statSync(join(SHIPPED_PIPELINES_DIR, name), { throwIfNoEntry: false }));
    }
    this.witness.sawFile(LOCK_FILE, statSync(join(pipeline.root, LOCK_FILE), { throwIfNoEntry: false }));
    // A journal left by a killed build is replayed into spx.lock: this build then judged from more than spx.lock.
    const journal = join(stateDir, JOURNAL_FILE);
    if (statSync(journal, { throwIfNoEntry: false })) this.witness.cannotVouch('a journal was replayed');
    else this.witness.sawNothingAt(journal);
  }

  /**
   * A recorder for a build whose verdict can be replayed, or undefined:
   * a pipeline with a model or agent node (its build also asks git which
   * outputs are ignored, every time) or with foreach instances (found by
   * listing feature directories when the pipeline loads).
   */
  static forBuild(inner: Renderer, pipeline: LoadedPipeline, stateDir: string, startedAt: number): VerdictRecorder | undefined {
    const nodes = Object.values(pipeline.config.nodes);
    if (nodes.some((node) => !spendsNoTokens(node.kind)) || Object.keys(pipeline.config.instances ?? {}).length > 0) return undefined;
    return new VerdictRecorder(inner, pipeline, stateDir, startedAt);
  }

  handle(event: BuildEvent): void {
    this.observe(event);
    this.inner.handle(event);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  abandon(): void {
    this.inner.abandon();
  }

  /** After a build that exited 0 and saved its state: leaves the snapshot if the verdict was "all fresh" and can be vouched for. */
  save(command: string): void {
    if (!this.pure || this.verdict === undefined || this.verdict.fresh.length !== this.verdict.nodes.length) return;
    const nodes = Object.values(this.pipeline.config.nodes);
    const envNames = [...new Set(nodes.flatMap((node) => node.env))].sort();
    const envByValue = [...new Set(nodes.flatMap((node) => node.envByValue))].sort();
    writeFreshSnapshot(this.pipeline.root, this.stateDir, this.witness, this.verdict, { command, envNames, envByValue }, this.startedAt);
  }

  private observe(event: BuildEvent): void {
    if (!this.pure) return;
    if (event.type === 'build-start' && this.verdict === undefined) {
      this.verdict = { nodes: event.nodes, dependencies: event.dependencies, fresh: [] };
    } else if (event.type === 'fresh' && event.handEdited.length === 0 && this.verdict !== undefined) {
      this.verdict.fresh.push(event.node);
    } else if (event.type !== 'build-end') {
      this.pure = false;
    }
  }
}
