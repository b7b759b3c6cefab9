import path from 'node:path';
import { loadPipeline } from '../../config/load.js';
import { DEFAULT_PIPELINE, initProject } from '../../init/init-project.js';
import { nextSteps } from '../../init/next-steps.js';
import { UserError } from '../../util/errors.js';
import { insideWorkTree } from '../../util/git.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { newProjectFile } from '../project.js';

export const help = `Usage: spx init [options]

Starts a project from one of spx's ready pipelines: writes spx.yaml, a
USER-SPEC.md template for the change you want, and adds .spx/ (spx's local
state) to .gitignore, creating it if need be. spx.yaml's first line points
editors at spx's JSON Schema, so that they check and complete it. Then says
what to do next. Refuses to overwrite spx.yaml or USER-SPEC.md without --force;
with it, an edited USER-SPEC.md is first copied to .spx/backups/@init/.

Pipelines:
  spec-plan-execute  context → spec → plan (Gemini API) → review → execute
                     (Claude Code, verified by npm test); the default
  features           the same for several features at once, one directory
                     each (spx new NAME makes features/NAME/USER-SPEC.md)
  gemini-cli         the same, every step through the gemini CLI (gemini -p)
  local              context → spec → plan with a local model (ollama run)
                     → review; no execute
  plan-only          context → spec → plan (Gemini API) → review; no execute

Options:
      --pipeline NAME  the pipeline to start from (default: spec-plan-execute)
      --force          overwrite spx.yaml and USER-SPEC.md
  -f, --file FILE      the pipeline file to write (default: spx.yaml)
  -C, --directory DIR  run as if started in DIR (created if need be)
  -h, --help           show this help

Instead of a copy, a spx.yaml may start with "extends: NAME" and override
the pipeline's providers, vars, defaults and nodes (see docs/reference.md).

Exit codes: 0 written, 2 a file exists (without --force), an unknown pipeline
or another usage error.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('init', args, {
    pipeline: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  if (positionals.length > 0) {
    throw new UserError(`spx init takes no arguments (got "${positionals.join(' ')}"); choose a pipeline with --pipeline NAME`);
  }
  const file = newProjectFile({ directory: values.directory, file: values.file });
  const root = path.dirname(file);
  const pipeline = values.pipeline ?? DEFAULT_PIPELINE;
  const result = initProject({ file, pipeline, force: values.force ?? false });

  const gitignore = { created: 'created .gitignore, ignoring .spx/', added: 'added .spx/ to .gitignore', present: '.gitignore already ignores .spx/' }[result.gitignore];
  console.log(`spx init: wrote ${result.written.join(' and ')} (the ${pipeline} pipeline); ${gitignore}`);
  if (result.userSpecBackup) console.log(`kept your edited USER-SPEC.md in ${result.userSpecBackup}`);
  if (result.schema.found) console.log(`editors check ${result.written[0]} against ${result.schema.path}`);
  else console.log(`editors will check ${result.written[0]} against ${result.schema.path} once spx is installed in the project (npm install --save-dev spx)`);
  if (!(await insideWorkTree(root, new AbortController().signal))) {
    console.error('spx: warning: not a git repository yet (git init): context nodes honour .gitignore only in one, and execute nodes need one');
  }
  // Loading what was written checks it, and tells which keys and programs its providers need.
  const { config } = await loadPipeline(file, { root, cache: false, expand: false });
  const cd = path.relative(process.cwd(), root);
  console.log(`\n${nextSteps(config, cd === '' ? {} : { cd })}`);
  return EXIT.ok;
}
