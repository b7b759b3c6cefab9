import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGemini } from './helpers/fake-gemini.js';
import { isRunning } from './helpers/processes.js';
import { cleanupProjects, createProject, jsonEvents, waitFor, type SpxOptions, type SpxResult, type TestProject } from './helpers/project.js';
import { cleanupStandIns, StandIns } from './helpers/stand-ins.js';

let fake: FakeGemini;
/** A fresh key per test, so that a leak is found wherever it went. */
let key: string;

beforeEach(async () => {
  fake = new FakeGemini();
  await fake.start();
  key = `test-key-${randomBytes(12).toString('hex')}`;
});

afterEach(async () => {
  await cleanupProjects();
  cleanupStandIns();
  await fake.stop();
});

const USER_SPEC = '# Feature\n\nAdd a --verbose flag to the CLI.\n';

/** One spec node over USER-SPEC.md, calling the provider `gemini` declared with these extra settings (2 retries unless they say). */
function geminiPipeline(settings = ''): string {
  const retries = settings.includes('retries:') ? '' : ', retries: 2';
  return `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, temperature: 0.2, baseUrl: "${fake.url}"${retries}${settings ? `, ${settings}` : ''} }
nodes:
  spec:
    kind: spec
    prompt: "Clarify this feature request into a specification."
    provider: gemini
    inputs: [USER-SPEC.md]
    output: AI-SPEC.md
`;
}

function geminiProject(settings = ''): TestProject {
  return createProject({ 'USER-SPEC.md': USER_SPEC }, geminiPipeline(settings));
}

/** The spawned spx's environment: the key, fast retries. */
function withKey(extra: Record<string, string | undefined> = {}): SpxOptions {
  return { env: { GEMINI_API_KEY: key, SPX_RETRY_BASE_MS: '10', ...extra } };
}

function printed(result: SpxResult): string {
  return result.stdout + result.stderr;
}

/** Every file under `dir`, recursively (.spx, the cache, prompt logs and backups included). */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((relative) => path.join(dir, relative))
    .filter((file) => statSync(file).isFile());
}

describe('gemini provider: the real @google/generative-ai SDK against a loopback server', () => {
  it('writes the whole streamed answer to the output and records its usage in spx.lock', async () => {
    const answer = '# AI-SPEC\n\n1. The CLI accepts --verbose.\n2. With it, every step is logged.\n3. Without it, output is unchanged.\n';
    fake.enqueue({ answer, promptTokens: 1234, outputTokens: 56 });
    const project = geminiProject();
    const result = await project.spx(['build'], withKey());
    expect(result.code, printed(result)).toBe(0);
    expect(project.read('AI-SPEC.md')).toBe(answer);
    expect(fake.requests.map((r) => r.path)).toEqual([expect.stringContaining('models/gemini-test:streamGenerateContent')]);
    expect(project.lock().nodes.spec).toMatchObject({
      metrics: { promptTokens: 1234, outputTokens: 56, totalTokens: 1290, provider: 'gemini', model: 'gemini-test' },
    });
    // Shown where the user looks: the node's line and the build's summary.
    expect(result.stdout).toContain('1,290 model tokens (1,234 in, 56 out)');
    expect(result.stdout).toMatch(/spx: .*1,290 tokens spent/);
  });

  it('shows the recorded usage in spx status', async () => {
    fake.enqueue({ answer: 'spec\n', promptTokens: 700, outputTokens: 42 });
    const project = geminiProject();
    expect((await project.spx(['build'], withKey())).code).toBe(0);
    const status = await project.spx(['status'], withKey());
    expect(status.stdout).toMatch(/^spec\s+fresh \(742 model tokens \(700 in, 42 out\), gemini-test\)$/m);
  });

  it('sends the instruction, each input in a section naming its path, and the generation settings', async () => {
    const project = geminiProject();
    expect((await project.spx(['build'], withKey())).code).toBe(0);
    expect(fake.calls).toBe(1);
    const request = fake.requests[0]!;
    expect(request.apiKey).toBe(key);
    expect(request.body.generationConfig).toMatchObject({ temperature: 0.2 });
    const prompt = request.body.contents[0]!.parts[0]!.text;
    expect(prompt.startsWith('Clarify this feature request into a specification.\n')).toBe(true);
    expect(prompt).toContain(`<<<< BEGIN input: USER-SPEC.md >>>>\n${USER_SPEC}<<<< END input: USER-SPEC.md >>>>`);
    // What was sent is kept for the user to inspect.
    expect(project.read('.spx/prompts/spec.md')).toBe(prompt);
  });

  it('retries a 429, honouring its Retry-After header, and succeeds', async () => {
    fake.enqueue({ status: 429, message: 'Resource has been exhausted (e.g. check quota).', retryAfter: '1' }, { answer: 'after the rate limit\n' });
    const project = geminiProject();
    const result = await project.spx(['build', '--json'], withKey());
    expect(result.code, printed(result)).toBe(0);
    expect(fake.calls).toBe(2);
    expect(project.read('AI-SPEC.md')).toBe('after the rate limit\n');
    // SPX_RETRY_BASE_MS=10 would wait ~0.01 s: 1.0 s is the server's word.
    // A retry is a warning, so that a CI log shows it too.
    const warnings = jsonEvents(result.stdout).filter((e) => e.type === 'warning').map((e) => e.message as string);
    expect(warnings).toContainEqual(expect.stringMatching(/429.*retrying in 1\.0s \(1\/2\)/));
  });

  it("retries a 429 after the delay in Gemini's RetryInfo detail", async () => {
    fake.enqueue(
      {
        status: 429,
        message: 'You exceeded your current quota.',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' }],
      },
      { answer: 'after RetryInfo\n' },
    );
    const project = geminiProject();
    const result = await project.spx(['build', '--json'], withKey());
    expect(result.code, printed(result)).toBe(0);
    expect(fake.calls).toBe(2);
    const warnings = jsonEvents(result.stdout).filter((e) => e.type === 'warning').map((e) => e.message as string);
    expect(warnings).toContainEqual(expect.stringMatching(/retrying in 1\.0s/));
  });

  it('gives up on a 503 after its retries, writing nothing and leaving an existing output untouched', async () => {
    fake.fallback = { status: 503, message: 'The model is overloaded. Please try again later.' };
    const project = geminiProject();
    const failed = await project.spx(['build'], withKey());
    expect(failed.code).toBe(1);
    expect(fake.calls).toBe(3);
    expect(printed(failed)).toContain('Gemini answered [503 Service Unavailable] The model is overloaded. Please try again later. (gave up after 3 attempts)');
    expect(project.exists('AI-SPEC.md')).toBe(false);

    fake.enqueue({ answer: 'the first spec\n' });
    expect((await project.spx(['build'], withKey())).code).toBe(0);
    project.write('USER-SPEC.md', USER_SPEC + 'Also a --quiet flag.\n');
    const again = await project.spx(['build'], withKey());
    expect(again.code).toBe(1);
    expect(fake.calls).toBe(3 + 1 + 3);
    expect(project.read('AI-SPEC.md')).toBe('the first spec\n');
  });

  it('abandons an answer slower than the timeout with an error that says so', async () => {
    fake.enqueue({ answer: 'too late\n', delayMs: 8000 });
    const project = geminiProject('timeout: 1, retries: 0');
    const result = await project.spx(['build'], withKey());
    expect(result.code).toBe(1);
    expect(printed(result)).toContain('no complete answer from gemini-test within 1s');
    expect(fake.calls).toBe(1);
    // Abandoned: spx hung up before the answer came, rather than waiting for it.
    await waitFor(() => fake.abandoned === 1, 'the server to see the request abandoned', 5_000);
    expect(project.exists('AI-SPEC.md')).toBe(false);
  });

  it('does not retry a rejected key, and names the variable that holds it', async () => {
    fake.enqueue({
      status: 400,
      message: 'API key not valid. Please pass a valid API key.',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
    });
    const project = geminiProject();
    const result = await project.spx(['build'], withKey());
    expect(result.code).toBe(1);
    expect(fake.calls).toBe(1);
    expect(printed(result)).toContain('Gemini rejected the API key in GEMINI_API_KEY: [400 Bad Request] API key not valid.');
  });

  it('says which variable to set when the key is missing, before any request', async () => {
    const project = geminiProject();
    const result = await project.spx(['build'], withKey({ GEMINI_API_KEY: undefined }));
    expect(result.code).toBe(1);
    expect(fake.calls).toBe(0);
    expect(printed(result)).toContain('set the environment variable GEMINI_API_KEY');
  });

  it('reads the key from the variable apiKeyEnv names', async () => {
    const project = geminiProject('apiKeyEnv: TEAM_GEMINI_KEY');
    const missing = await project.spx(['build'], withKey());
    expect(missing.code).toBe(1);
    expect(printed(missing)).toContain('set the environment variable TEAM_GEMINI_KEY');
    expect(fake.calls).toBe(0);

    const result = await project.spx(['build'], withKey({ GEMINI_API_KEY: undefined, TEAM_GEMINI_KEY: key }));
    expect(result.code, printed(result)).toBe(0);
    expect(fake.requests.map((r) => r.apiKey)).toEqual([key]);
  });

  it('fails clearly, without retrying, when the answer is blocked for safety', async () => {
    fake.enqueue({ blocked: true });
    const project = geminiProject();
    const result = await project.spx(['build'], withKey());
    expect(result.code).toBe(1);
    expect(fake.calls).toBe(1);
    expect(printed(result)).toMatch(/Gemini gave no usable answer: .*SAFETY.*safety or recitation block/s);
    expect(project.exists('AI-SPEC.md')).toBe(false);
  });

  it('never writes or prints the API key, even when the server echoes it in errors', async () => {
    const project = geminiProject('retries: 1');
    const outputs: string[] = [];
    const run = async (...args: string[]): Promise<void> => {
      const result = await project.spx(args, withKey());
      outputs.push(result.stdout, result.stderr);
    };
    // A proxy or a future API may quote the key back: spx must scrub it.
    fake.enqueue({ status: 503, message: `backend busy for key ${key}` }, { status: 503, message: `still busy for key ${key}` });
    await run('build');
    fake.enqueue({ status: 400, message: `API key not valid: ${key}` });
    await run('build');
    fake.enqueue({ answer: 'a spec\n' });
    await run('build', '--json');
    project.write('USER-SPEC.md', USER_SPEC + 'More.\n');
    fake.enqueue({ answer: 'another spec\n' });
    await run('build', '--explain');
    await run('status', '--json');
    await run('cache', 'stats');

    expect(fake.calls).toBe(5);
    expect(project.read('AI-SPEC.md')).toBe('another spec\n');
    for (const text of outputs) expect(text).not.toContain(key);
    // The scrubbed messages did reach the user.
    expect(outputs.join('')).toContain('Gemini answered [503 Service Unavailable] still busy for key *** (gave up after 2 attempts)');
    const files = allFiles(project.dir);
    expect(files).toContainEqual(expect.stringContaining(`${path.sep}cache${path.sep}`));
    expect(files).toContain(project.path('.spx/prompts/spec.md'));
    for (const file of files) expect(readFileSync(file, 'latin1'), file).not.toContain(key);
  });
});

/** spec → plan → impl over the echo-able providers; the pipeline declares gemini as default. */
function rehearsalPipeline(): string {
  return `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}" }
  rehearse: { type: echo }
defaults: { provider: gemini }
nodes:
  spec: { kind: spec, inputs: [USER-SPEC.md], output: AI-SPEC.md }
  plan: { kind: plan, needs: [spec], output: AI-PLAN.md }
`;
}

describe('--provider overrides every model node for one run', () => {
  for (const provider of ['echo', 'rehearse']) {
    it(`--provider ${provider} rehearses offline with labelled outputs, and a real build then regenerates them`, async () => {
      const project = createProject({ 'USER-SPEC.md': USER_SPEC }, rehearsalPipeline());
      // No key at all: a rehearsal must not need one.
      const rehearsal = await project.spx(['build', '--approve', '--provider', provider], { env: { GEMINI_API_KEY: undefined } });
      expect(rehearsal.code, printed(rehearsal)).toBe(0);
      expect(fake.calls).toBe(0);
      for (const output of ['AI-SPEC.md', 'AI-PLAN.md']) {
        expect(project.read(output)).toContain('spx rehearse provider: offline rehearsal');
      }
      // The rehearsal's plan was built from the rehearsal's spec.
      expect(project.read('AI-PLAN.md')).toContain('needs spec: AI-SPEC.md');

      // The provider is in the fingerprint: a rehearsal never passes for a real answer.
      const real = await project.spx(['build', '--approve'], withKey());
      expect(real.code, printed(real)).toBe(0);
      expect(fake.calls).toBe(2);
      expect(project.read('AI-SPEC.md')).toBe('fake answer\n');
      expect(project.read('AI-PLAN.md')).toBe('fake answer\n');
    });
  }

  it('refuses an unknown --provider with exit 2, naming the declared ones', async () => {
    const project = createProject({ 'USER-SPEC.md': USER_SPEC }, rehearsalPipeline());
    const result = await project.spx(['build', '--provider', 'rehearsal'], withKey());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown provider "rehearsal"');
    expect(result.stderr).toMatch(/declared: .*rehearse.*echo/);
    expect(fake.calls).toBe(0);
    expect(project.exists('AI-SPEC.md')).toBe(false);
  });
});

/** One spec node whose provider is `llm`, declared with these settings. */
function commandProject(provider: string): TestProject {
  return createProject(
    { 'USER-SPEC.md': USER_SPEC },
    `version: 1
providers:
  llm: ${provider}
nodes:
  spec: { kind: spec, prompt: "Clarify the request.", provider: llm, inputs: [USER-SPEC.md], output: AI-SPEC.md }
`,
  );
}

describe('command provider: any CLI that answers on stdout (a stand-in gemini on PATH)', () => {
  it('passes the prompt on stdin', async () => {
    const standIns = new StandIns();
    const project = commandProject('{ type: command, command: [gemini, -p], promptVia: stdin }');
    const result = await project.spx(['build'], { env: standIns.env() });
    expect(result.code, printed(result)).toBe(0);
    const calls = standIns.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.argv).toEqual(['-p']);
    expect(calls[0]!.stdin).toContain('Clarify the request.');
    expect(calls[0]!.stdin).toContain(`<<<< BEGIN input: USER-SPEC.md >>>>\n${USER_SPEC}`);
    expect(project.read('AI-SPEC.md')).toBe(`# Answer from the stand-in gemini\n\nThe prompt began: Clarify the request.\nIt had ${calls[0]!.stdin.length} characters.\n`);
  });

  it('passes the prompt as the last argument', async () => {
    const standIns = new StandIns();
    const project = commandProject('{ type: command, command: [gemini, -p], promptVia: argument }');
    const result = await project.spx(['build'], { env: standIns.env() });
    expect(result.code, printed(result)).toBe(0);
    const [call] = standIns.calls();
    expect(call!.argv[0]).toBe('-p');
    expect(call!.argv[1]).toContain('Clarify the request.');
    expect(call!.argv[1]).toContain(USER_SPEC);
    expect(call!.stdin).toBe('');
    expect(project.read('AI-SPEC.md')).toContain('The prompt began: Clarify the request.');
  });

  it('passes the prompt as the path of a file, removed afterwards', async () => {
    const standIns = new StandIns();
    const project = commandProject('{ type: command, command: [gemini, -p], promptVia: file }');
    const result = await project.spx(['build'], { env: standIns.env() });
    expect(result.code, printed(result)).toBe(0);
    const [call] = standIns.calls();
    const file = call!.argv[1]!;
    expect(call!.files[file]).toContain('Clarify the request.');
    expect(call!.files[file]).toContain(USER_SPEC);
    expect(() => statSync(file)).toThrow();
    expect(project.read('AI-SPEC.md')).toContain('The prompt began: Clarify the request.');
  });

  it('fails on a non-zero exit, showing the exit code and the end of stderr', async () => {
    const standIns = new StandIns();
    const project = commandProject('{ type: command, command: [gemini, -p] }');
    const result = await project.spx(['build'], { env: standIns.env('fail') });
    expect(result.code).toBe(1);
    const text = printed(result);
    expect(text).toContain('"gemini" exited with code 3');
    expect(text).toContain('gemini: quota exhausted for this project');
    // A tail, not the whole of stderr.
    expect(text).toContain('gemini: diagnostic line 30');
    expect(text).not.toContain('gemini: diagnostic line 5\n');
    expect(project.exists('AI-SPEC.md')).toBe(false);
  });

  it('names a program that is not installed', async () => {
    const project = commandProject('{ type: command, command: [no-such-llm-cli, run] }');
    const result = await project.spx(['build']);
    expect(result.code).toBe(1);
    expect(printed(result)).toContain('the program "no-such-llm-cli" was not found');
  });

  it('stops a CLI slower than its timeout, saying so', async () => {
    const standIns = new StandIns();
    const project = commandProject('{ type: command, command: [gemini, -p], timeout: 1 }');
    const result = await project.spx(['build'], { env: standIns.env('slow') });
    expect(result.code).toBe(1);
    expect(printed(result)).toContain('"gemini" gave no answer within 1s');
    expect(project.exists('AI-SPEC.md')).toBe(false);
    // Stopped: it never answered, and is gone so cannot answer later.
    expect(standIns.slowAnswered()).toBe(false);
    expect(isRunning(standIns.calls()[0]!.pid)).toBe(false);
  });
});

describe('claude-code provider: `claude -p --output-format json` (a stand-in claude on PATH)', () => {
  it('writes the parsed result and records its cost, turns and tokens', async () => {
    const standIns = new StandIns();
    const project = commandProject('{ type: claude-code, model: sonnet }');
    const result = await project.spx(['build'], { env: standIns.env() });
    expect(result.code, printed(result)).toBe(0);
    const [call] = standIns.calls();
    expect(call!.program).toBe('claude');
    expect(call!.argv).toEqual(['-p', '--output-format', 'json', '--model', 'sonnet']);
    expect(call!.stdin).toContain(`<<<< BEGIN input: USER-SPEC.md >>>>\n${USER_SPEC}`);
    expect(project.read('AI-SPEC.md')).toBe('# Plan from the stand-in claude\n\nThe prompt began: Clarify the request.\n');
    expect(project.lock().nodes.spec).toMatchObject({
      metrics: { provider: 'claude-code', model: 'sonnet', costUsd: 0.0421, turns: 3, promptTokens: 1234, outputTokens: 56, totalTokens: 1290 },
    });
    expect(result.stdout).toContain('$0.0421');
  });

  it('fails clearly when Claude Code reports is_error', async () => {
    const standIns = new StandIns();
    const project = commandProject('{ type: claude-code }');
    const result = await project.spx(['build'], { env: standIns.env('error') });
    expect(result.code).toBe(1);
    expect(printed(result)).toContain('Claude Code reported an error (error_max_turns): Reached the maximum number of turns (3)');
    expect(project.exists('AI-SPEC.md')).toBe(false);
  });

  it('fails clearly when the output is not JSON', async () => {
    const standIns = new StandIns();
    const project = commandProject('{ type: claude-code }');
    const result = await project.spx(['build'], { env: standIns.env('text') });
    expect(result.code).toBe(1);
    expect(printed(result)).toContain('"claude" did not print a JSON result');
    expect(project.exists('AI-SPEC.md')).toBe(false);
  });
});

describe('provider configuration errors: exit 2 with the place in spx.yaml', () => {
  async function configError(yaml: string): Promise<string> {
    const project = createProject({ 'USER-SPEC.md': USER_SPEC, 'prompt.md': 'Clarify.\n' }, yaml);
    const result = await project.spx(['build'], withKey());
    expect(result.code, printed(result)).toBe(2);
    expect(fake.calls).toBe(0);
    return result.stderr;
  }

  it('an unknown provider name, with a suggestion', async () => {
    const stderr = await configError(`version: 1
providers:
  gemini: { type: gemini, model: gemini-test }
nodes:
  spec: { kind: spec, provider: gemnii, inputs: [USER-SPEC.md], output: AI-SPEC.md }
`);
    expect(stderr).toMatch(/spx\.yaml:5:\d+/);
    expect(stderr).toContain('unknown provider "gemnii"');
    expect(stderr).toContain('did you mean "gemini"?');
  });

  it('a prompt node with no provider and no defaults.provider', async () => {
    const stderr = await configError(`version: 1
providers:
  gemini: { type: gemini, model: gemini-test }
nodes:
  spec:
    kind: spec
    inputs: [USER-SPEC.md]
    output: AI-SPEC.md
`);
    expect(stderr).toMatch(/spx\.yaml:5:3/);
    expect(stderr).toContain('names no provider');
    expect(stderr).toContain('defaults: { provider: NAME }');
  });

  it('both prompt and promptFile', async () => {
    const stderr = await configError(`version: 1
providers:
  rehearse: { type: echo }
nodes:
  spec:
    kind: spec
    provider: rehearse
    prompt: Clarify.
    promptFile: prompt.md
    output: AI-SPEC.md
`);
    expect(stderr).toMatch(/spx\.yaml:9:5/);
    expect(stderr).toContain('both prompt and promptFile');
  });
});
