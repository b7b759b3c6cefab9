import { join } from 'node:path';
import type { ExecuteNodeConfig } from '../../config/types.js';
import { createProvider } from '../../providers/create-provider.js';
import { providerFingerprintSettings, ProviderError, type Usage } from '../../providers/provider.js';
import { describeExit } from '../../util/child-process.js';
import { runShellCommand } from '../../util/shell.js';
import { NodeFailure, type NodeKindHandler, type RunContext, type RunMetrics } from '../kind.js';
import { inputsBesideInstruction, instructionFiles, instructionSetting, instructionText } from '../instructions.js';
import { assemblePrompt, type PromptSection } from '../prompt-assembly.js';
import { effortLines } from './agent-effort.js';
import { repositoryRoot } from './git.js';
import { landChange, type Landing } from './land-change.js';
import { mergeQueueFor } from './merge-queue.js';
import { applyPatch, patchedFiles } from './patch.js';
import { VerifyFailure } from './verify-failure.js';
import { ScratchWorktree } from './worktree.js';

/** How much of a failing setup or verify run the agent and the user are shown. */
const OUTPUT_TAIL = 8000;

/**
 * `execute`: a coding agent carries out the approved plan in a scratch
 * worktree, the verify commands run there, and only a change that passes
 * them is applied to the user's tree, as the patch that is the node's output.
 */
export const executeKind: NodeKindHandler<ExecuteNodeConfig> = {
  settings(config) {
    return {
      instruction: instructionSetting(config),
      agent: providerFingerprintSettings(config.provider),
      // What counts as done is part of what the change will be.
      verify: config.verify,
      setup: config.setup,
      output: config.output,
      // The phrases they add change the prompt, hence the work; absent when unset, so that
      // fingerprints from before these settings existed still match.
      ...(config.effort === undefined ? {} : { effort: config.effort }),
      ...(config.parallelAgents ? { parallelAgents: true } : {}),
    };
  },

  async selectInputs(config) {
    return instructionFiles(config);
  },

  describe(config) {
    return `${config.provider.name} carries out the plan → ${config.output}`;
  },

  async run(config, context) {
    // Taken before anything is awaited: the order in which the scheduler started the nodes.
    const queue = mergeQueueFor(context.root);
    const ticket = queue.ticket();
    try {
      const repoRoot = await repositoryRoot(context.root, context.signal);
      await sweepOnce(repoRoot, context.stateDir);
      const snapshot = (): Promise<ScratchWorktree> =>
        ScratchWorktree.create({ repoRoot, projectRoot: context.root, stateDir: context.stateDir, node: context.node, link: config.link, signal: context.signal });
      // A change landed while the snapshot was being taken may be missing from it: counted as landed after.
      const landedBefore = queue.landed;
      const worktree = await snapshot();
      let keepWorktree = false;
      let usage: RunMetrics;
      let patch: Buffer;
      try {
        await setUp(config, worktree, context);
        usage = await workUntilVerified(config, context, worktree);
        patch = await worktree.diff(context.signal);
      } catch (error) {
        // The agent's unverified work stays for the user to inspect.
        if (error instanceof VerifyFailure) keepWorktree = true;
        throw error;
      } finally {
        if (!keepWorktree || context.signal.aborted) await worktree.remove();
      }
      // One change at a time reaches the user's tree, in the order the nodes started.
      await queue.turn(ticket);
      const landing = await landChange(patch, {
        patchFile: join(context.root, config.output),
        othersLanded: queue.landed > landedBefore,
        repoRoot,
        context,
        snapshot,
        verify: (tree) => verify(config, context, tree),
        rework: async (tree, why) => {
          await setUp(config, tree, context);
          return workUntilVerified(config, context, tree, why);
        },
      });
      if (landing.how !== 'empty' && landing.how !== 'already-applied') queue.landed++;
      context.onOutput('stdout', describeLanding(landing));
      return addUsage({ ...usage, filesChanged: landing.files.length }, landing.rework);
    } finally {
      queue.done(ticket);
    }
  },

  async afterRestore(config, context) {
    // A cache hit restores the patch file; the change itself must reach the
    // user's tree too, unless it is there already.
    const repoRoot = await repositoryRoot(context.root, context.signal);
    const patchFile = join(context.root, config.output);
    const applied = await applyPatch(patchFile, repoRoot, context.signal, { node: context.node });
    context.onOutput('stdout', describeLanding({ how: applied, files: await patchedFiles(patchFile, repoRoot, context.signal) }));
  },
};

const swept = new Map<string, Promise<void>>();

/** Leftover worktrees go before this build's first execute node makes its own (once per build). */
function sweepOnce(repoRoot: string, stateDir: string): Promise<void> {
  let sweeping = swept.get(stateDir);
  if (!sweeping) {
    sweeping = ScratchWorktree.removeLeftovers(repoRoot, stateDir);
    swept.set(stateDir, sweeping);
  }
  return sweeping;
}

async function setUp(config: ExecuteNodeConfig, worktree: ScratchWorktree, context: RunContext): Promise<void> {
  for (const command of config.setup) {
    const failure = await runInWorktree(command, 'setup', worktree, context);
    if (failure !== undefined) throw new NodeFailure(`a setup command failed in the worktree:\n${failure}`);
  }
}

/**
 * Runs the agent, then the verify commands, until they pass or the
 * attempts run out. Returns what the calls cost, or throws when the change
 * never passed (the worktree is kept for the user to inspect).
 */
async function workUntilVerified(config: ExecuteNodeConfig, context: RunContext, worktree: ScratchWorktree, rework?: string): Promise<RunMetrics> {
  const provider = await createProvider(config.provider);
  // A rework (the change no longer fits the tree) is one more attempt, told why.
  const basePrompt = rework === undefined ? agentPrompt(config, context) : `${agentPrompt(config, context)}\n${reworkNote(rework)}`;
  const attempts = rework === undefined ? config.attempts : 1;
  const usage: Required<Pick<Usage, 'totalTokens' | 'costUsd' | 'turns'>> = { totalTokens: 0, costUsd: 0, turns: 0 };
  let failure = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const prompt = failure === '' ? basePrompt : `${basePrompt}\n${retryNote(attempt, attempts, failure)}`;
    context.onProgress(`attempt ${attempt}/${attempts}: ${config.provider.name} is working`);
    try {
      const answer = await provider.generate(prompt, {
        signal: context.signal,
        env: context.env,
        cwd: worktree.projectDir,
        onProgress: context.onProgress,
        onWarning: context.onWarning,
        agent: true,
      });
      usage.totalTokens += answer.usage.totalTokens ?? 0;
      usage.costUsd += answer.usage.costUsd ?? 0;
      usage.turns += answer.usage.turns ?? 0;
      context.onOutput('stdout', `[attempt ${attempt}] ${config.provider.name}: ${firstLines(answer.text, 20)}\n`);
    } catch (error) {
      if (error instanceof ProviderError) throw new NodeFailure(error.message);
      throw error;
    }
    failure = await verify(config, context, worktree);
    if (failure === '') return { attempts: attempt, ...nonZero(usage) };
    context.onOutput('stdout', `[attempt ${attempt}] verification failed\n`);
  }
  throw new VerifyFailure(
    `the agent could not make the verify commands pass in ${attempts} attempt${attempts === 1 ? '' : 's'}${rework === undefined ? '' : ' (a rework: its first change no longer fitted your tree)'}; your working tree holds only complete changes. Its work is in ${worktree.path} (until the next build). Last verify output:\n${failure}`,
  );
}

/** '' when every verify command passed; otherwise the first failing one's failure. */
async function verify(config: ExecuteNodeConfig, context: RunContext, worktree: ScratchWorktree): Promise<string> {
  for (const command of config.verify) {
    const failure = await runInWorktree(command, 'verify', worktree, context);
    if (failure !== undefined) return failure;
  }
  return '';
}

/**
 * Runs a setup or verify command in the worktree: undefined when it passed,
 * else the command, the tail of its output and how it ended.
 */
async function runInWorktree(command: string, what: 'setup' | 'verify', worktree: ScratchWorktree, context: RunContext): Promise<string | undefined> {
  let output = '';
  context.onProgress(`${what}: ${command}`);
  const result = await runShellCommand(command, { cwd: worktree.projectDir, signal: context.signal, onOutput: (_stream, text) => (output += text) });
  if (result.interrupted) throw new NodeFailure('interrupted');
  if (result.exitCode === 0) return undefined;
  return `$ ${command}\n${output.slice(-OUTPUT_TAIL)}\n(${describeExit(result)})`;
}

function agentPrompt(config: ExecuteNodeConfig, context: RunContext): string {
  const instruction = instructionText(config, context.root);
  const sections: PromptSection[] = [
    ...context.dependencyOutputs.map(({ node, relation, path }) => ({ role: relation, node, path })),
    ...inputsBesideInstruction(config, context.inputFiles).map((path) => ({ role: 'input' as const, path })),
  ];
  const verification =
    config.verify.length === 0
      ? 'There are no verification commands: check your work as the plan says.'
      : `Verification commands (run them from the project root; all must pass):\n${config.verify.map((command) => `- ${command}`).join('\n')}`;
  const effort = effortLines(config);
  return `${assemblePrompt(instruction, sections, context.root)}\n${verification}\n${effort.length === 0 ? '' : `\n${effort.join('\n')}\n`}`;
}

function retryNote(attempt: number, attempts: number, failure: string): string {
  return [
    `This is attempt ${attempt} of ${attempts}. Your previous changes are still in the working tree, but the verification failed:`,
    '',
    failure,
    '',
    'Fix the cause, then run the verification commands again.',
  ].join('\n');
}

function describeLanding(landing: Landing): string {
  if (landing.how === 'empty') return 'the agent changed no file\n';
  const list = landing.files.map((file) => `  ${file}`).join('\n');
  const how: Record<Exclude<Landing['how'], 'empty'>, string> = {
    applied: 'applied the change to',
    'already-applied': 'the change was already in',
    merged: 'merged the change, three ways, with what landed first, into',
    reworked: 'applied the reworked change to',
  };
  return `${how[landing.how]} your working tree:\n${list}\n`;
}

function reworkNote(why: string): string {
  return [
    'Your change for this plan was made on an earlier snapshot of the project, and it no longer fits the working tree:',
    why,
    'The working tree now includes that other change: keep it, and carry out the plan again on top of it.',
  ].join('\n');
}

/** What the first work and a rework cost together. */
function addUsage(first: RunMetrics, rework: RunMetrics | undefined): RunMetrics {
  if (!rework) return first;
  const sum: RunMetrics = { ...first };
  for (const [key, value] of Object.entries(rework)) {
    if (typeof value === 'number') sum[key] = Number(sum[key] ?? 0) + value;
  }
  return sum;
}

function firstLines(text: string, count: number): string {
  const lines = text.trim().split('\n');
  return lines.length <= count ? lines.join('\n') : `${lines.slice(0, count).join('\n')}\n…`;
}

function nonZero(usage: Record<string, number>): RunMetrics {
  return Object.fromEntries(Object.entries(usage).filter(([, value]) => value !== 0));
}
