/**
 * Five run nodes, shared by cache.test.ts and remote-cache.test.ts: a file
 * output, an executable file output, a directory output with a
 * subdirectory, a node that needs two others, and an independent one.
 * Outputs, runs.log and .spx/ are git-ignored, so a clone has none of them.
 *
 *   src.txt → gen → site (dir) ─┐
 *   tool.txt → tool (exec) ─────┴→ report
 *   notes.txt → notes
 *
 * The `nodes:` section only, so that a test can put settings before it.
 */
export const FIVE_NODES_YAML = `nodes:
  gen:
    kind: run
    command: echo gen >> runs.log && cp src.txt gen.out
    inputs: [src.txt]
    outputs: [gen.out]
  tool:
    kind: run
    command: echo tool >> runs.log && { echo '#!/bin/sh'; cat tool.txt; } > tool.sh && chmod 755 tool.sh
    inputs: [tool.txt]
    outputs: [tool.sh]
  site:
    kind: run
    command: >-
      echo site >> runs.log && mkdir -p site/pages && cp gen.out site/index.txt &&
      echo 'page 1' > site/pages/one.txt && tr a-z A-Z < gen.out > site/pages/upper.txt
    needs: [gen]
    outputs: [site/]
  report:
    kind: run
    command: echo report >> runs.log && cat site/index.txt tool.sh > report.out
    needs: [site, tool]
    outputs: [report.out]
  notes:
    kind: run
    command: echo notes >> runs.log && sort notes.txt > notes.out
    inputs: [notes.txt]
    outputs: [notes.out]
`;

/** The five nodes' names, sorted. */
export const FIVE_NODES = ['gen', 'notes', 'report', 'site', 'tool'];
/** Their declared outputs. */
export const FIVE_NODE_OUTPUTS = ['gen.out', 'tool.sh', 'site/', 'report.out', 'notes.out'];

/** The five nodes' input files and .gitignore (which also ignores spx.lock with `ignoreLock`). */
export function fiveNodeFiles(options: { ignoreLock?: boolean } = {}): Record<string, string> {
  const ignored = ['runs.log', '.spx/', ...FIVE_NODE_OUTPUTS, ...(options.ignoreLock ? ['spx.lock'] : [])];
  return {
    'src.txt': 'source\n',
    'tool.txt': 'echo hello\n',
    'notes.txt': 'b\na\n',
    '.gitignore': ignored.join('\n') + '\n',
  };
}
