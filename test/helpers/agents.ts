import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killPids, livePids } from './processes.js';

/** What the stand-in agent does on a call; attempts are counted over every call it ever got. */
export interface AgentBehaviour {
  /**
   * Files to write (path → text, or bytes as { base64 }) or delete (path →
   * null), relative to the agent's working directory, per attempt: call n
   * uses entry n-1, or the last entry once they run out.
   */
  edits?: Record<string, string | { base64: string } | null>[];
  /** Paths (relative to its working directory) whose content the agent records, null when absent. */
  see?: string[];
  /** A shell command the agent runs (and waits for) before it edits anything: a sleep, to be interrupted. */
  sleep?: string;
  /** Claude only: report an error result (is_error) instead of success. */
  error?: boolean;
  /**
   * Per feature: when the prompt holds `contains`, these edits and this
   * sleep apply instead, and attempts are counted over the calls whose
   * prompt holds it.
   */
  byPrompt?: { contains: string; edits?: AgentBehaviour['edits']; sleep?: string }[];
}

/** What the stand-in recorded about one call. */
export interface AgentCall {
  program: string;
  argv: string[];
  cwd: string;
  /** stdin for claude; the last argument for the command-style gemini. */
  prompt: string;
  seen: Record<string, string | null>;
  /** Date.now() when the call started, and when it ended (absent while it runs). */
  started: number;
  ended?: number;
}

/**
 * The stand-in's script. `claude` behaves like `claude -p --output-format
 * json` (prompt on stdin, one JSON result object on stdout); `gemini` like
 * `gemini -p --yolo PROMPT` (prompt as the last argument, text on stdout).
 * Both edit files in their working directory as the behaviour file says,
 * and keep everything they saw in $AGENT_DIR, outside any repository.
 */
const SCRIPT = `
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const program = path.basename(process.argv[1]);
const argv = process.argv.slice(2);
const dir = process.env.AGENT_DIR;
const behaviour = JSON.parse(fs.readFileSync(path.join(dir, 'behaviour.json'), 'utf8'));
const log = path.join(dir, 'calls.jsonl');
const earlier = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\\n').filter(Boolean).map((line) => JSON.parse(line)) : [];
const call = earlier.length + 1;
const prompt = program === 'claude' ? fs.readFileSync(0, 'utf8') : argv[argv.length - 1] ?? '';
const feature = (behaviour.byPrompt ?? []).find((entry) => prompt.includes(entry.contains));
const attempt = feature ? earlier.filter((line) => line.prompt.includes(feature.contains)).length + 1 : call;
const seen = {};
for (const file of behaviour.see ?? []) seen[file] = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
fs.appendFileSync(log, JSON.stringify({ program, argv, cwd: process.cwd(), prompt, seen, started: Date.now() }) + '\\n');
const sleep = feature ? feature.sleep : behaviour.sleep;
if (sleep) {
  fs.writeFileSync(path.join(dir, 'sleeping'), String(process.pid));
  spawnSync('sh', ['-c', sleep], { stdio: 'ignore' });
  fs.writeFileSync(path.join(dir, 'woke'), '');
}
process.on('exit', () => fs.appendFileSync(path.join(dir, 'ended.jsonl'), JSON.stringify({ call, ended: Date.now() }) + '\\n'));
const all = (feature ? feature.edits : behaviour.edits) ?? [];
const edits = all.length === 0 ? {} : all[Math.min(attempt, all.length) - 1];
for (const [file, content] of Object.entries(edits)) {
  if (content === null) fs.rmSync(file, { force: true });
  else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof content === 'string' ? content : Buffer.from(content.base64, 'base64'));
  }
}
const summary = 'attempt ' + attempt + ': edited ' + (Object.keys(edits).join(', ') || 'nothing');
if (program === 'claude') {
  const error = behaviour.error === true;
  process.stdout.write(JSON.stringify({
    type: 'result',
    subtype: error ? 'error_during_execution' : 'success',
    is_error: error,
    result: error ? 'the stand-in agent failed on purpose' : summary,
    total_cost_usd: 0.01,
    num_turns: 2,
    usage: { input_tokens: 100, output_tokens: 50 },
  }) + '\\n');
} else {
  process.stdout.write(summary + '\\n');
}
`;

const dirs: string[] = [];
const agents: StandInAgent[] = [];

/**
 * Stand-in agent CLIs (`claude`, `gemini`) in a temp directory to put first
 * on PATH; node scripts run by this very node binary. Their behaviour is a
 * file in that directory, so it can change between builds, and every call
 * is logged there: the log's length is the number of agent invocations.
 */
export class StandInAgent {
  readonly dir: string;
  readonly bin: string;

  constructor(behaviour: AgentBehaviour = {}) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'spx-agent-'));
    dirs.push(this.dir);
    this.bin = path.join(this.dir, 'bin');
    agents.push(this);
    mkdirSync(this.bin);
    for (const name of ['claude', 'gemini']) {
      const file = path.join(this.bin, name);
      writeFileSync(file, `#!${process.execPath}\n${SCRIPT}`);
      chmodSync(file, 0o755);
    }
    this.behave(behaviour);
  }

  behave(behaviour: AgentBehaviour): void {
    writeFileSync(path.join(this.dir, 'behaviour.json'), JSON.stringify(behaviour));
  }

  /** For a spawned spx: the stand-ins first on PATH, and where they keep their state. */
  env(): Record<string, string> {
    return { PATH: `${this.bin}${path.delimiter}${process.env.PATH ?? ''}`, AGENT_DIR: this.dir };
  }

  calls(): AgentCall[] {
    const log = path.join(this.dir, 'calls.jsonl');
    if (!existsSync(log)) return [];
    const endedLog = path.join(this.dir, 'ended.jsonl');
    const ended = new Map<number, number>();
    if (existsSync(endedLog)) {
      for (const line of readFileSync(endedLog, 'utf8').split('\n').filter((l) => l !== '')) {
        const { call, ended: at } = JSON.parse(line) as { call: number; ended: number };
        ended.set(call, at);
      }
    }
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line, index) => {
        const call = JSON.parse(line) as AgentCall;
        const at = ended.get(index + 1);
        return at === undefined ? call : { ...call, ended: at };
      });
  }

  /** True once a call has started its `sleep` command. */
  sleeping(): boolean {
    return existsSync(path.join(this.dir, 'sleeping'));
  }

  /** True once a call has lived to the end of its `sleep` command. */
  woke(): boolean {
    return existsSync(path.join(this.dir, 'woke'));
  }

  /** Pids of live stand-in processes (their command line holds this directory). */
  alive(): number[] {
    return livePids(this.bin);
  }

  kill(): void {
    killPids(this.alive());
  }
}

/** A directory holding only links to these programs: a PATH on which nothing else (no `claude`) is found. */
export function pathWithOnly(programs: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spx-path-'));
  dirs.push(dir);
  for (const program of programs) {
    const found = execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim();
    symlinkSync(found, path.join(dir, program));
  }
  return dir;
}

/** For `afterEach`: kills stand-ins a failed test left running and removes their directories. */
export function cleanupAgents(): void {
  for (const agent of agents.splice(0)) agent.kill();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs git in `cwd` with a fixed identity; returns stdout, throws (with stderr) on failure. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=spx test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
