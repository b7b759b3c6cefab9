import type { YamlPath } from './yaml-path.js';
import type { ContextNodeConfig, ContextRepomixOptions } from './types.js';

/** A `context` node as schema/spx.schema.json admits it. */
export interface RawContextNode {
  foreach?: string;
  kind: 'context';
  description?: string;
  showOutput?: boolean;
  files?: {
    include?: string[];
    exclude?: string[];
    contains?: string;
    changedSince?: string;
    fromCommand?: string;
    fromOutput?: string;
    gitignore?: boolean;
  };
  repomix?: Partial<ContextRepomixOptions>;
  maxTokens?: number;
  output?: string;
  /** Refused by the schema: the selection is the node's input. */
  inputs?: never;
  needs?: string[];
  uses?: string[];
  env?: string[];
  envByValue?: string[];
}

/** What every kind resolves alike (resolvePipeline computes it). */
interface CommonFields {
  description?: string;
  showOutput?: boolean;
  foreach?: string;
  needs: string[];
  uses: string[];
  env: string[];
  envByValue: string[];
}

export interface ContextResolution {
  name: string;
  /** Every node name of the pipeline. */
  nodeNames: readonly string[];
  at(...rest: (string | number)[]): YamlPath;
  substitute(text: string, at: YamlPath): string;
  normalise(path: string): string;
}

const EXTENSIONS: Record<ContextRepomixOptions['style'], string> = { xml: 'xml', markdown: 'md', plain: 'txt', json: 'json' };

/**
 * Applies the context kind's defaults. Every repomix option is resolved to
 * a value, so that the fingerprint changes when spx's default does.
 */
export function resolveContextNode(raw: RawContextNode, common: CommonFields, how: ContextResolution): ContextNodeConfig {
  const { at, substitute, normalise } = how;
  const files = raw.files ?? {};
  const repomix: ContextRepomixOptions = {
    style: raw.repomix?.style ?? 'xml',
    parsableStyle: raw.repomix?.parsableStyle ?? false,
    compress: raw.repomix?.compress ?? false,
    removeComments: raw.repomix?.removeComments ?? false,
    removeEmptyLines: raw.repomix?.removeEmptyLines ?? false,
    showLineNumbers: raw.repomix?.showLineNumbers ?? false,
    truncateBase64: raw.repomix?.truncateBase64 ?? false,
    fileSummary: raw.repomix?.fileSummary ?? true,
    directoryStructure: raw.repomix?.directoryStructure ?? true,
    ...(raw.repomix?.headerText === undefined ? {} : { headerText: raw.repomix.headerText }),
    securityCheck: raw.repomix?.securityCheck ?? true,
    tokenEncoding: raw.repomix?.tokenEncoding ?? 'o200k_base',
  };
  const output = normalise(
    raw.output === undefined ? `.spx/context/${how.name}.${EXTENSIONS[repomix.style]}` : substitute(raw.output, at('output')),
  );
  const globs = (field: 'include' | 'exclude'): string[] | undefined =>
    files[field]?.map((glob, i) => normalise(substitute(glob, at('files', field, i))));
  // With only additions, the bundle is what they add: "every file plus the
  // plan's files" would be a surprising reading of `fromOutput: plan`.
  const hasAdditions = files.fromCommand !== undefined || files.fromOutput !== undefined;

  // fromOutput is an order-only edge: the node is built first and read; a
  // change of its output matters only through the files it names, which are
  // the selection. Unknown names and self-references are left for
  // checkSemantics to report where they are written.
  const uses = [...common.uses];
  const source = files.fromOutput;
  if (source !== undefined && source !== how.name && how.nodeNames.includes(source) && !common.needs.includes(source) && !uses.includes(source)) {
    uses.push(source);
  }

  return {
    kind: 'context',
    ...common,
    uses,
    inputs: [],
    files: {
      include: globs('include') ?? (hasAdditions ? [] : ['**']),
      exclude: globs('exclude') ?? [],
      // A regular expression is taken as written: `$` and `{` are its own.
      ...(files.contains === undefined ? {} : { contains: files.contains }),
      ...(files.changedSince === undefined ? {} : { changedSince: substitute(files.changedSince, at('files', 'changedSince')) }),
      ...(files.fromCommand === undefined ? {} : { fromCommand: substitute(files.fromCommand, at('files', 'fromCommand')) }),
      ...(files.fromOutput === undefined ? {} : { fromOutput: files.fromOutput }),
      gitignore: files.gitignore ?? true,
    },
    repomix,
    ...(raw.maxTokens === undefined ? {} : { maxTokens: raw.maxTokens }),
    output,
    outputs: [output],
  };
}
