import type { ExecuteNodeConfig } from '../../config/types.js';

/**
 * The words Claude Code reads in a prompt to set its thinking budget per
 * turn, least to most: a larger budget costs more output tokens and slower
 * turns. Other agents read them as plain advice.
 */
const EFFORT_PHRASES: Record<NonNullable<ExecuteNodeConfig['effort']>, string> = {
  think: 'Think before each step.',
  'think-hard': 'Think hard before each step.',
  'think-harder': 'Think harder before each step: weigh the alternatives.',
  ultrathink: 'Ultrathink: reason through each step in depth before you change anything.',
};

const PARALLEL_AGENTS_PHRASE = 'Use multiple agents: hand independent parts of the plan to parallel subagents, and check their work together at the end.';

/** The lines `effort` and `parallelAgents` add to the agent's prompt; empty when neither is set. */
export function effortLines(config: Pick<ExecuteNodeConfig, 'effort' | 'parallelAgents'>): string[] {
  return [...(config.effort === undefined ? [] : [EFFORT_PHRASES[config.effort]]), ...(config.parallelAgents ? [PARALLEL_AGENTS_PHRASE] : [])];
}
