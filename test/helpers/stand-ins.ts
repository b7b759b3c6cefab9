import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What a stand-in CLI saw on one call: its arguments, stdin, and the content of any argument naming a file. */
export interface StandInCall {
  program: string;
  pid: number;
  argv: string[];
  stdin: string;
  /** argument → content, for arguments that named an existing file when the program ran. */
  files: Record<string, string>;
}

/**
 * Shared by both stand-ins: records the call in $STANDIN_LOG (one JSON line),
 * then behaves as $STANDIN_MODE says. The prompt is whatever came on stdin,
 * else the content of the last argument when it names a file, else the last
 * argument itself.
 */
const PRELUDE = `
const fs = require('node:fs');
const argv = process.argv.slice(2);
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
const files = {};
for (const arg of argv) {
  try { if (fs.statSync(arg).isFile()) files[arg] = fs.readFileSync(arg, 'utf8'); } catch {}
}
const last = argv[argv.length - 1] ?? '';
const prompt = stdin !== '' ? stdin : files[last] ?? last;
if (process.env.STANDIN_LOG) fs.appendFileSync(process.env.STANDIN_LOG, JSON.stringify({ program: PROGRAM, pid: process.pid, argv, stdin, files }) + '\\n');
const mode = process.env.STANDIN_MODE ?? 'ok';
const firstLine = prompt.split('\\n')[0];
`;

/**
 * Like \`gemini -p\`: answers on stdout. Modes: ok, fail (stderr + exit 3),
 * slow (answers after 10 s, and leaves a mark that it did: a timeout that
 * failed to stop it would see the answer within a test's time).
 */
const GEMINI = `
const PROGRAM = 'gemini';
${PRELUDE}
if (mode === 'fail') {
  for (let i = 1; i <= 30; i++) process.stderr.write('gemini: diagnostic line ' + i + '\\n');
  process.stderr.write('gemini: quota exhausted for this project\\n');
  process.exit(3);
}
const answer = () => process.stdout.write('# Answer from the stand-in gemini\\n\\nThe prompt began: ' + firstLine + '\\nIt had ' + prompt.length + ' characters.\\n');
if (mode === 'slow') {
  setTimeout(() => {
    answer();
    fs.writeFileSync(process.env.STANDIN_LOG + '.slow-answered', '');
  }, 10000);
} else {
  answer();
}
`;

/**
 * Like \`claude -p --output-format json\`: one JSON result object on stdout.
 * Modes: ok, error (is_error: true, subtype error_max_turns), text (not JSON).
 */
const CLAUDE = `
const PROGRAM = 'claude';
${PRELUDE}
if (mode === 'text') {
  process.stdout.write('Here is your plan, in prose rather than JSON.\\n');
} else {
  const error = mode === 'error';
  process.stdout.write(JSON.stringify({
    type: 'result',
    subtype: error ? 'error_max_turns' : 'success',
    is_error: error,
    duration_ms: 1234,
    num_turns: 3,
    result: error ? 'Reached the maximum number of turns (3)' : '# Plan from the stand-in claude\\n\\nThe prompt began: ' + firstLine + '\\n',
    session_id: 'stand-in',
    total_cost_usd: 0.0421,
    usage: { input_tokens: 1000, cache_read_input_tokens: 200, cache_creation_input_tokens: 34, output_tokens: 56 },
  }) + '\\n');
}
`;

const dirs: string[] = [];

/**
 * A temp directory holding executable `gemini` and `claude` stand-ins, to
 * put first on PATH. They are node scripts run by this very node binary, so
 * they need nothing installed.
 */
export class StandIns {
  readonly bin: string;
  readonly log: string;

  constructor() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spx-stand-ins-'));
    dirs.push(dir);
    this.bin = path.join(dir, 'bin');
    this.log = path.join(dir, 'calls.jsonl');
    mkdirSync(this.bin);
    this.install('gemini', GEMINI);
    this.install('claude', CLAUDE);
  }

  /** The environment for a spawned spx: stand-ins first on PATH, calls logged, behaving as `mode` says. */
  env(mode = 'ok'): Record<string, string> {
    return { PATH: `${this.bin}${path.delimiter}${process.env.PATH ?? ''}`, STANDIN_LOG: this.log, STANDIN_MODE: mode };
  }

  /** Whether a slow stand-in lived to answer. */
  slowAnswered(): boolean {
    return existsSync(this.log + '.slow-answered');
  }

  /** Every call so far, in order. */
  calls(): StandInCall[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as StandInCall);
  }

  private install(name: string, body: string): void {
    const file = path.join(this.bin, name);
    writeFileSync(file, `#!${process.execPath}\n${body}`);
    chmodSync(file, 0o755);
  }
}

/** For `afterEach`: removes every stand-in directory made since the last call. */
export function cleanupStandIns(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
