import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCHEMA_IN_PACKAGE = path.join('node_modules', 'spx', 'schema', 'spx.schema.json');

/** The schema of the spx that is running (source and compiled layouts both sit two levels below the package root). */
const RUNNING_SCHEMA = fileURLToPath(new URL('../../schema/spx.schema.json', import.meta.url));

export interface SchemaReference {
  /** What spx.yaml's `# yaml-language-server: $schema=…` line says: always relative to the project, so that it survives a clone. */
  path: string;
  /** Whether the file is there now; else it is where `npm install --save-dev spx` will put it. */
  found: boolean;
}

/**
 * The schema of the spx installed in the project (found the way Node finds
 * packages, up from the project directory); else the running spx's own when
 * it lives in the project's repository (spx's examples); else where a local
 * install will put it. Never an absolute path: a global or npx install is
 * somewhere else on every machine.
 */
export function schemaReference(projectDir: string): SchemaReference {
  const project = path.resolve(projectDir);
  for (let dir = project; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, SCHEMA_IN_PACKAGE))) return { path: relativeTo(project, path.join(dir, SCHEMA_IN_PACKAGE)), found: true };
    if (existsSync(path.join(dir, '.git')) && RUNNING_SCHEMA.startsWith(dir + path.sep)) return { path: relativeTo(project, RUNNING_SCHEMA), found: true };
    if (path.dirname(dir) === dir) return { path: relativeTo(project, path.join(project, SCHEMA_IN_PACKAGE)), found: false };
  }
}

function relativeTo(project: string, file: string): string {
  const relative = path.relative(project, file).split(path.sep).join('/');
  return relative.startsWith('../') ? relative : `./${relative}`;
}
