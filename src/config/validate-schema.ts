import { readFileSync } from 'node:fs';
import AjvModule, { type ErrorObject } from 'ajv';
import { UserError } from '../util/errors.js';
import { formatPath, type Locator, type YamlPath } from './yaml-path.js';
import { closestName } from './suggest.js';

// ajv is CommonJS: under NodeNext its default import is `module.exports`, whose `default` is the class.
const Ajv = AjvModule.default;

/** Source and compiled layouts both sit two levels below the package root (src/config, dist/config). */
const SCHEMA_URL = new URL('../../schema/spx.schema.json', import.meta.url);

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let compiled: Validate | undefined;

function validator(): Validate {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  // Our own wording for a pattern; VS Code and the YAML language server show it too.
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  compiled = ajv.compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  return compiled;
}

/** Checks the parsed pipeline against schema/spx.schema.json; one located error per problem. */
export function validateSchema(data: unknown, locator: Locator): UserError[] {
  const validate = validator();
  if (validate(data)) return [];
  const errors: UserError[] = [];
  for (const error of validate.errors ?? []) {
    const user = toUserError(error, locator);
    if (user) errors.push(user);
  }
  return errors;
}

function toUserError(error: ErrorObject, locator: Locator): UserError | undefined {
  const path = parsePointer(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const where = formatPath(path);
  const atValue = (message: string): UserError => new UserError(message, locator.value(path));
  switch (error.keyword) {
    // Both restate what the errors inside them already said.
    case 'if':
    case 'propertyNames':
      return undefined;

    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys((error.parentSchema?.['properties'] as object | undefined) ?? {});
      const close = closestName(key, allowed);
      const hint = close === undefined ? '' : `: did you mean "${close}"?`;
      const message = `unknown key "${key}" ${describeContainer(path)}${hint} (expected one of: ${allowed.join(', ')})`;
      return new UserError(message, locator.key([...path, key]));
    }

    case 'required': {
      const key = String(params['missingProperty']);
      const subject = path.length === 0 ? 'the pipeline' : describeSubject(path);
      const hint = path.length === 0 && key === 'nodes' ? ' (or "extends: NAME", to start from a ready pipeline)' : '';
      return new UserError(`${subject} is missing required key "${key}"${hint}`, locator.key(path));
    }

    case 'type': {
      const expected = describeType(error.parentSchema);
      const got = describeValue(error.data);
      if (path.length > 0) return atValue(`${where} must be ${expected}, not ${got}`);
      return atValue(`the pipeline file must be ${expected} (a YAML mapping with version and nodes), not ${got}`);
    }

    case 'const':
      return atValue(`${where} must be ${JSON.stringify(params['allowedValue'])}, not ${describeValue(error.data)}`);

    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map((v) => String(v));
      const close = closestName(String(error.data), allowed);
      const hint = close === undefined ? '' : `; did you mean "${close}"?`;
      return atValue(`${where} must be one of: ${allowed.join(', ')} (got ${JSON.stringify(error.data)}${hint})`);
    }

    case 'pattern': {
      const custom = error.parentSchema?.['patternErrorMessage'];
      const expected = typeof custom === 'string' ? custom : `a string matching ${String(params['pattern'])}`;
      if (error.propertyName === undefined) return atValue(`${where} must be ${expected}, not ${JSON.stringify(error.data)}`);
      const name = error.propertyName;
      return new UserError(`invalid ${describeName(path)} "${name}": must be ${expected}`, locator.key([...path, name]));
    }

    case 'minLength':
      return atValue(`${where} must not be empty`);

    default:
      return atValue(`${where} ${error.message ?? 'is invalid'}`);
  }
}

function parsePointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

function isNodePath(path: YamlPath): boolean {
  return path.length === 2 && path[0] === 'nodes';
}

function describeContainer(path: YamlPath): string {
  if (path.length === 0) return 'at the top level';
  if (isNodePath(path)) return `in node "${String(path[1])}"`;
  return `in ${formatPath(path)}`;
}

function describeSubject(path: YamlPath): string {
  return isNodePath(path) ? `node "${String(path[1])}"` : formatPath(path);
}

function describeName(path: YamlPath): string {
  if (path.length === 1 && path[0] === 'nodes') return 'node name';
  if (path.length === 1 && path[0] === 'vars') return 'variable name';
  return `key in ${formatPath(path)}`;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function describeType(schema: Record<string, unknown> | undefined): string {
  const type = schema?.['type'];
  if (Array.isArray(type)) {
    const names = type.map((t) => String(t));
    return `a ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  }
  if (type === 'array') {
    const items = schema?.['items'] as Record<string, unknown> | undefined;
    const itemType = items?.['type'];
    return typeof itemType === 'string' ? `an array of ${itemType}s` : 'an array';
  }
  return ARTICLE[String(type)] ?? String(type);
}

function describeValue(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value === 'number' ? 'the number' : 'the boolean'} ${String(value)}`;
}
