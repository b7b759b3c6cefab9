import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { LoadedPipeline } from '../../config/types.js';
import type { BuildSummary } from '../../scheduler/events.js';

/**
 * The outputs a build just wrote, as they were when it ended: a change
 * event for one of them that finds it still so is the build's own write
 * coming back, not a change to build (which would loop). A file's identity
 * is its size, mtime, ctime and inode, as the stat cache judges it.
 */
export class OwnWrites {
  private readonly written = new Map<string, string>();

  constructor(private readonly root: string) {}

  /** Remembers the outputs of every node the build ran or restored. */
  remember(pipeline: LoadedPipeline, summary: BuildSummary): void {
    for (const node of [...summary.ran, ...summary.restored]) {
      for (const output of pipeline.config.nodes[node]?.outputs ?? []) {
        for (const file of filesOf(this.root, output)) {
          const stamp = this.stamp(file);
          if (stamp !== undefined) this.written.set(file, stamp);
        }
      }
    }
  }

  /** Whether the project file is as the last build left it. */
  isOwn(file: string): boolean {
    const stamp = this.written.get(file);
    return stamp !== undefined && stamp === this.stamp(file);
  }

  private stamp(file: string): string | undefined {
    try {
      const stats = statSync(path.join(this.root, file));
      return `${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.ino}`;
    } catch {
      return undefined;
    }
  }
}

/** An output's files: itself, or everything under a directory output (`out/`). */
function filesOf(root: string, output: string): string[] {
  if (!output.endsWith('/')) return [output];
  try {
    return readdirSync(path.join(root, output), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  } catch {
    return [];
  }
}
