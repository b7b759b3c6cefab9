/**
 * The pipeline as spx understands it after loading spx.yaml: defaults
 * applied, `${vars.NAME}` substituted, every list present. Everything past
 * the loader works on these types only, never on raw YAML.
 */

export const NODE_KINDS = ['run'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** A `run` node: the Makefile recipe. */
export interface RunNodeConfig {
  kind: 'run';
  /** What the node is for: shown to the user, never part of the fingerprint. */
  description?: string;
  /** Shell command, run with `sh -c` in the project root. */
  command: string;
  /** Files or picomatch globs, relative to the project root; changes trigger a rerun. */
  inputs: string[];
  /** Files or directories (trailing `/`) the command writes, relative to the project root. */
  outputs: string[];
  /** Nodes built first whose output changes trigger a rerun. */
  needs: string[];
  /** Nodes built first and read, whose changes alone do not trigger (order-only). */
  uses: string[];
  /** Environment variables whose values enter the fingerprint. */
  env: string[];
}

export type NodeConfig = RunNodeConfig;

export interface PipelineConfig {
  version: 1;
  vars: Record<string, string>;
  /** In the order the file declares them. */
  nodes: Record<string, NodeConfig>;
}

export interface LoadedPipeline {
  /** Absolute path of the pipeline file. */
  file: string;
  /** Absolute path of the project root (the directory all paths are relative to). */
  root: string;
  config: PipelineConfig;
}

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}
