import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { displayPath } from '../util/note.js';
import { isRecord } from '../util/shape.js';
import { STATE_FORMAT } from '../fingerprint/fingerprint.js';
import { emptyLock, lockEntryProblem, readLock, writeLock, type Lock, type LockEntry } from './lockfile.js';

/**
 * spx.lock is rewritten during a build once the journal holds this many
 * records, or a quarter of the lock's, whichever is more: the bytes written
 * then grow with the graph, not with its square, and the journal a killed
 * build leaves stays short.
 */
const MIN_JOURNAL_RECORDS = 64;

/** In the state directory: what finished since spx.lock was last written. */
export const JOURNAL_FILE = 'journal.jsonl';

interface JournalLine {
  node: string;
  entry: LockEntry | null;
}

/**
 * The recorded state of every node: spx.lock plus a journal of what finished
 * since spx.lock was last written.
 *
 * Rewriting spx.lock after each of 1,000 nodes would cost O(n²) bytes, so a
 * finished node is first appended to `.spx/journal.jsonl` (one short write)
 * and spx.lock is rewritten when the journal has grown long (see
 * MIN_JOURNAL_RECORDS) and at the end. A build
 * killed with `kill -9` at any moment leaves a valid spx.lock (atomic
 * rename) and a journal the next run replays: finished work is never redone.
 */
export class BuildState {
  private journalRecords = 0;
  /** How many nodes the lock records (counted once, then kept up to date). */
  private recordedNodes: number;
  private changed = false;

  private constructor(
    private readonly root: string,
    private readonly journalPath: string,
    private readonly lock: Lock,
    private readonly readOnly: boolean,
  ) {
    this.recordedNodes = Object.keys(lock.nodes).length;
  }

  /**
   * With `readOnly` (status, dry runs), records change only what this
   * process sees: nothing is written.
   */
  static open(root: string, stateDir: string, options: { readOnly?: boolean } = {}): BuildState {
    const read = readLock(root);
    // A lock from another state format records fingerprints that mean
    // something else: start over rather than trust them.
    const lock = read.format === STATE_FORMAT ? read : emptyLock();
    const readOnly = options.readOnly ?? false;
    if (!readOnly) mkdirSync(stateDir, { recursive: true });
    const state = new BuildState(root, join(stateDir, JOURNAL_FILE), lock, readOnly);
    state.replayJournal();
    return state;
  }

  /** A state that starts empty and lives in memory only: the scheduler's in-process tests. */
  static inMemory(): BuildState {
    return new BuildState('', '', emptyLock(), true);
  }

  get(node: string): LockEntry | undefined {
    return this.lock.nodes[node];
  }

  /** Every recorded node by name, the journal's records included. */
  nodes(): Readonly<Record<string, LockEntry>> {
    return this.lock.nodes;
  }

  record(node: string, entry: LockEntry | null): void {
    this.apply(node, entry);
    if (this.readOnly) return;
    const line: JournalLine = { node, entry };
    appendFileSync(this.journalPath, JSON.stringify(line) + '\n');
    this.journalRecords++;
    if (this.journalRecords >= Math.max(MIN_JOURNAL_RECORDS, this.recordedNodes / 4)) this.flush();
  }

  /** Forgets nodes that the pipeline no longer declares; returns their declared outputs. */
  retainOnly(nodes: ReadonlySet<string>): Record<string, string[]> {
    const forgotten: Record<string, string[]> = {};
    for (const name of Object.keys(this.lock.nodes)) {
      if (!nodes.has(name)) {
        forgotten[name] = Object.keys(this.lock.nodes[name]!.outputs);
        delete this.lock.nodes[name];
        this.recordedNodes--;
        this.changed = true;
      }
    }
    return forgotten;
  }

  /** Writes spx.lock if anything changed, then empties the journal it now contains. */
  flush(): void {
    if (!this.changed || this.readOnly) return;
    writeLock(this.root, this.lock);
    rmSync(this.journalPath, { force: true });
    this.journalRecords = 0;
    this.changed = false;
  }

  private apply(node: string, entry: LockEntry | null): void {
    const had = Object.hasOwn(this.lock.nodes, node);
    if (entry) this.lock.nodes[node] = entry;
    else delete this.lock.nodes[node];
    this.recordedNodes += (entry ? 1 : 0) - (had ? 1 : 0);
    this.changed = true;
  }

  /**
   * Applies what finished after spx.lock was last written. A line that is not
   * JSON was torn by a kill in mid-write (or glued to one that was): that
   * node simply runs again. A line that is JSON but not a record is damage,
   * not a kill, and is reported rather than guessed at.
   */
  private replayJournal(): void {
    let text: string;
    try {
      text = readFileSync(this.journalPath, 'utf8');
    } catch {
      return;
    }
    const lines = text.split('\n');
    for (const [index, line] of lines.entries()) {
      if (line === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      const problem = journalLineProblem(parsed);
      if (problem !== undefined) {
        throw new UserError(`${problem}; delete ${displayPath(this.journalPath)} to go on (the nodes it records run again)`, {
          file: this.journalPath,
          line: index + 1,
          column: 1,
        });
      }
      const { node, entry } = parsed as unknown as JournalLine;
      this.apply(node, entry);
    }
  }
}

/**
 * What is recorded of every node, as the next build will see it: spx.lock
 * with the journal of a build interrupted before it folded the journal in
 * applied. Writes nothing: for commands that keep or move what the project's
 * outputs were made from (cache prune, push, pull).
 */
export function readRecorded(root: string, stateDir: string): Readonly<Record<string, LockEntry>> {
  return BuildState.open(root, stateDir, { readOnly: true }).nodes();
}

function journalLineProblem(line: unknown): string | undefined {
  if (!isRecord(line) || typeof line.node !== 'string') return 'a line that names no node';
  if (line.entry === null) return undefined;
  const problem = lockEntryProblem(line.entry);
  return problem === undefined ? undefined : `the entry of node ${JSON.stringify(line.node)} is not a node's entry (${problem})`;
}
