import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitInstanceId } from '../graph/instance-id.js';

/**
 * One model or agent call, or one cache restore that spared one, as
 * `.spx/ledger.jsonl` records it. Never the prompt, the answer or a key:
 * only who was called and what it cost.
 */
export interface LedgerLine {
  /** ISO 8601, UTC. */
  time: string;
  /** The node's name; a foreach instance's node without its value. */
  node: string;
  /** A foreach instance's value (`login` for `plan:login`). */
  instance?: string;
  /** The provider's name in spx.yaml, and its type. */
  provider: string;
  type: string;
  model?: string;
  inputTokens: number;
  outputTokens: number;
  /** Absent when the provider has no price and reported no cost. */
  costUsd?: number;
  /** Restored from the cache: no call was made, and this is what the original call cost (saved). */
  cached: boolean;
}

export const LEDGER_FILE = 'ledger.jsonl';

/** The node id (`plan:login`) a line is about. */
export function ledgerNodeId(line: Pick<LedgerLine, 'node' | 'instance'>): string {
  return line.instance === undefined ? line.node : `${line.node}:${line.instance}`;
}

/** `node` and `instance` for a node id. */
export function ledgerNodeFields(id: string): Pick<LedgerLine, 'node' | 'instance'> {
  const instance = splitInstanceId(id);
  return instance ? { node: instance.node, instance: instance.value } : { node: id };
}

/**
 * Appends one line. A line is written with one append, so that parallel
 * nodes' lines never interleave, and is never rewritten: the ledger is a
 * record of what happened, not state.
 */
export function appendToLedger(stateDir: string, line: LedgerLine): void {
  mkdirSync(stateDir, { recursive: true });
  appendFileSync(join(stateDir, LEDGER_FILE), JSON.stringify(line) + '\n');
}

/** Every line of the ledger; a line cut short by a crash, or not a ledger line, is passed over. */
export function readLedger(stateDir: string): LedgerLine[] {
  const file = join(stateDir, LEDGER_FILE);
  if (!existsSync(file)) return [];
  const lines: LedgerLine[] = [];
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    try {
      const parsed = JSON.parse(text) as Partial<LedgerLine>;
      if (typeof parsed.node === 'string' && typeof parsed.inputTokens === 'number' && typeof parsed.outputTokens === 'number' && typeof parsed.time === 'string') {
        lines.push(parsed as LedgerLine);
      }
    } catch {
      // A partial last line (the process was killed mid-write) says nothing reliable.
    }
  }
  return lines;
}
