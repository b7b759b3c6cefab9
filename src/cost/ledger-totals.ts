import { ledgerNodeId, type LedgerLine } from './ledger.js';

/** Tokens and dollars added up; `costUsd` absent when no line had a cost. */
export interface Tally {
  inputTokens: number;
  outputTokens: number;
  costUsd?: number;
}

/** One node's lines of the ledger, added up: calls made (spent) and restores (saved). */
export interface NodeCost {
  node: string;
  calls: number;
  spent: Tally;
  restores: number;
  saved: Tally;
}

/** Per node id (`plan:login`), in the order first seen, and the total over all of them. */
export function addUpLedger(lines: readonly LedgerLine[]): { nodes: NodeCost[]; total: Omit<NodeCost, 'node'> } {
  const byNode = new Map<string, NodeCost>();
  const total: Omit<NodeCost, 'node'> = emptyCost();
  for (const line of lines) {
    const id = ledgerNodeId(line);
    let cost = byNode.get(id);
    if (!cost) byNode.set(id, (cost = { node: id, ...emptyCost() }));
    for (const into of [cost, total]) {
      if (line.cached) into.restores++;
      else into.calls++;
      add(line.cached ? into.saved : into.spent, line);
    }
  }
  return { nodes: [...byNode.values()], total };
}

function emptyCost(): Omit<NodeCost, 'node'> {
  return { calls: 0, spent: { inputTokens: 0, outputTokens: 0 }, restores: 0, saved: { inputTokens: 0, outputTokens: 0 } };
}

function add(tally: Tally, line: LedgerLine): void {
  tally.inputTokens += line.inputTokens;
  tally.outputTokens += line.outputTokens;
  if (line.costUsd !== undefined) tally.costUsd = (tally.costUsd ?? 0) + line.costUsd;
}
