import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCHEMA_IN_PACKAGE = path.join('node_modules', 'spx', 'schema', 'spx.schema.json');

/** The schema of the spx that is running (source and compiled layouts both sit two levels below the package root). */
const RUNNING_SCHEMA = fileURLToPath(new URL('../../schema/spx.schema.json', import.meta.url));

/**
 * What a generated spx.yaml's `# yaml-language-server: $schema=…` line
 * points at: the schema of the spx installed in the project (found the way
 * Node finds packages, up from the project directory), as a relative path
 * that survives a clone; else the schema of the running spx, by absolute path.
 */
export function schemaReference(projectDir: string): string {
  for (let dir = path.resolve(projectDir); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, SCHEMA_IN_PACKAGE))) {
      const relative = path.relative(projectDir, path.join(dir, SCHEMA_IN_PACKAGE)).split(path.sep).join('/');
      return relative.startsWith('../') ? relative : `./${relative}`;
    }
    if (path.dirname(dir) === dir) return RUNNING_SCHEMA;
  }
}
