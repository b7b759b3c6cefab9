/**
 * Reads the YAML most pipeline files are written in straight into data, at
 * a small fraction of the cost of the yaml package (for 20,000 nodes, a
 * tenth of a second instead of seconds of parsing and garbage collection):
 * block mappings and sequences, plain and quoted scalars on one line, flow
 * lists on one line, literal blocks (`|`, `|-`), comments.
 *
 * Anything else gives up, returning undefined, and the caller parses with
 * yaml, which also reports every error: folded blocks, anchors, tags,
 * multi-line plain or quoted scalars or flow lists, keys yaml would read as
 * other than strings, repeated keys, tabs, carriage returns. Where it does
 * read a text, the data equals yaml's `toJS()` under the YAML 1.2 core
 * schema (test/config-plain-yaml.test.ts compares them). Positions are not
 * kept: a caller with an error to locate parses with yaml then.
 */
export function readPlainYaml(text: string, depth = 1): Record<string, unknown> | undefined {
  if (UNREAD_CHARACTERS.test(text)) return undefined;
  try {
    return new PlainReader(text).document(depth);
  } catch (error) {
    if (error === GIVE_UP) return undefined;
    throw error;
  }
}

/**
 * Tabs, carriage returns, control characters, byte-order marks, the line
 * breaks only some YAML readers honour, and the spaces JavaScript trims but
 * YAML keeps (no-break and the like): with these gone, trimming here trims
 * what YAML does.
 */
const UNREAD_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;
/** Thrown, and caught only in readPlainYaml, to hand the text to yaml. */
const GIVE_UP = Symbol('not plain YAML');
/** As the whole-file check allows (parse-yaml.ts): deeper files go to yaml, which reports them. */
const MAX_DEPTH = 64;
/** A key as pipelines write them, before `: ` or the end of the line; resolved as a plain scalar, it must be a string. */
const PLAIN_KEY = /^([A-Za-z0-9_][A-Za-z0-9_.\/$-]*):(?: |$)/;
/** Characters that start something other than a plain scalar, or that yaml reads differently at the start of one. */
const INDICATORS = new Set('-?:,[]{}#&*!|>\'"%@`');
const LITERAL_HEADER = /^\|(-?)(?: +#.*)?$/;
const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', t: '\t', '/': '/' };

function giveUp(): never {
  throw GIVE_UP;
}

class PlainReader {
  private readonly lines: string[];
  /** The indentation of each line as the reader sees it (a `- key:` item moves its line's). */
  private readonly indents: number[];
  /** The next line to read. */
  private at = 0;

  constructor(private readonly text: string) {
    this.lines = text.split('\n');
    this.indents = this.lines.map((line) => line.length - line.trimStart().length);
  }

  /** `depth`: how deep the text's top mapping lies in the file (a part of one, parse-in-parts.ts). */
  document(depth: number): Record<string, unknown> {
    const first = this.nextEntry(0);
    if (first === undefined || this.isItem(first)) giveUp();
    const data = this.mapping(this.indents[first]!, depth);
    if (this.nextEntry(this.at) !== undefined) giveUp();
    return data;
  }

  private mapping(indent: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) giveUp();
    const map: Record<string, unknown> = {};
    for (let line = this.nextEntry(this.at); line !== undefined && this.indents[line]! >= indent; line = this.nextEntry(this.at)) {
      if (this.indents[line] !== indent || this.isItem(line)) giveUp();
      const { key, rest } = this.entry(this.content(line)) ?? giveUp();
      if (Object.hasOwn(map, key)) giveUp();
      this.at = line + 1;
      // As yaml's toJS: each key an own property, `__proto__` too.
      Object.defineProperty(map, key, { value: this.value(rest, indent, depth, true), writable: true, enumerable: true, configurable: true });
    }
    return map;
  }

  private sequence(indent: number, depth: number): unknown[] {
    if (depth > MAX_DEPTH) giveUp();
    const list: unknown[] = [];
    for (let line = this.nextEntry(this.at); line !== undefined && this.indents[line]! >= indent && this.isItem(line); line = this.nextEntry(this.at)) {
      if (this.indents[line] !== indent) giveUp();
      const content = this.content(line);
      const rest = content.slice(1);
      const spaces = rest.length - rest.trimStart().length;
      if (this.entry(rest.trimStart()) !== undefined) {
        // `- key: value`: a mapping whose keys line up with `key`.
        this.indents[line] = indent + 1 + spaces;
        this.lines[line] = ' '.repeat(indent + 1 + spaces) + rest.trimStart();
        this.at = line;
        list.push(this.mapping(indent + 1 + spaces, depth + 1));
      } else {
        this.at = line + 1;
        list.push(this.value(rest, indent, depth, false));
      }
    }
    return list;
  }

  /** What follows `key:` or `-` on a line of a collection at `indent`. */
  private value(rest: string, indent: number, depth: number, inMapping: boolean): unknown {
    const text = rest.trimStart();
    if (rest !== '' && text === rest) giveUp();
    if (text === '' || text.startsWith('#')) return this.nested(indent, depth, inMapping);
    const literal = LITERAL_HEADER.exec(text);
    if (literal) return this.literal(indent, literal[1] === '-');
    // A flow list or `{}` is a collection one level below this one.
    if ((text.startsWith('[') || text.startsWith('{')) && depth + 1 > MAX_DEPTH) giveUp();
    const { value, end } = scalarOrFlow(text, false);
    if (text.slice(end).trim() !== '' && !/^ +#/.test(text.slice(end))) giveUp();
    // A deeper line would continue the value (or be an error): yaml's to read.
    const next = this.nextNonBlank(this.at);
    if (next !== undefined && this.indents[next]! > indent) giveUp();
    return value;
  }

  /** The collection on the lines below an empty value, or null when none is there. */
  private nested(indent: number, depth: number, inMapping: boolean): unknown {
    const line = this.nextEntry(this.at);
    if (line === undefined) return null;
    const below = this.indents[line]!;
    // A list may line up with the key that holds it; nothing else may.
    if (below === indent && inMapping && this.isItem(line)) return this.sequence(below, depth + 1);
    if (below <= indent) return null;
    return this.isItem(line) ? this.sequence(below, depth + 1) : this.mapping(below, depth + 1);
  }

  /** `|` or `|-`: the lines indented deeper, as they are, with one final newline or (`|-`) none. */
  private literal(indent: number, strip: boolean): string {
    const first = this.at;
    if (first >= this.lines.length || this.isBlank(first)) giveUp();
    const contentIndent = this.indents[first]!;
    if (contentIndent <= indent) giveUp();
    const content: string[] = [];
    let line = first;
    for (; line < this.lines.length; line++) {
      const text = this.lines[line]!;
      if (this.isBlank(line)) {
        // Spaces past the block's indentation are content; rare enough to leave to yaml.
        if (text.length > contentIndent) giveUp();
        content.push('');
      } else if (this.indents[line]! >= contentIndent) {
        content.push(text.slice(contentIndent));
      } else {
        if (this.indents[line]! > indent) giveUp();
        break;
      }
    }
    // The last line without a newline, at the end of the file: yaml's to read.
    if (line === this.lines.length && !this.text.endsWith('\n')) giveUp();
    while (content.at(-1) === '') content.pop();
    this.at = line;
    return content.join('\n') + (strip ? '' : '\n');
  }

  /** `key: rest` (rest starting after the colon), or undefined when the line is no such entry. */
  private entry(content: string): { key: string; rest: string } | undefined {
    if (content.startsWith('"') || content.startsWith("'")) {
      const { value, end } = quoted(content, 0);
      if (content[end] !== ':' || (end + 1 < content.length && content[end + 1] !== ' ')) return undefined;
      return { key: value, rest: content.slice(end + 1) };
    }
    const key = PLAIN_KEY.exec(content)?.[1];
    if (key === undefined) return undefined;
    if (typeof plainScalar(key) !== 'string') giveUp();
    return { key, rest: content.slice(key.length + 1) };
  }

  private content(line: number): string {
    return this.lines[line]!.slice(this.indents[line]);
  }

  private isItem(line: number): boolean {
    const content = this.content(line);
    return content === '-' || content.startsWith('- ');
  }

  private isBlank(line: number): boolean {
    return this.indents[line] === this.lines[line]!.length;
  }

  /** The next line from `from` that holds more than spaces or a comment. */
  private nextEntry(from: number): number | undefined {
    for (let line = from; line < this.lines.length; line++) {
      if (!this.isBlank(line) && !this.content(line).startsWith('#')) return line;
    }
    return undefined;
  }

  private nextNonBlank(from: number): number | undefined {
    for (let line = from; line < this.lines.length; line++) if (!this.isBlank(line)) return line;
    return undefined;
  }
}

/** A quoted or plain scalar or a one-line flow list at the start of `text`, and where it ends. */
function scalarOrFlow(text: string, inFlow: boolean): { value: unknown; end: number } {
  const first = text[0]!;
  if (first === '"' || first === "'") return quoted(text, 0);
  if (first === '[' && !inFlow) return flowList(text);
  if (first === '{' && !inFlow) {
    const empty = /^\{ *\}/.exec(text);
    return empty ? { value: {}, end: empty[0].length } : giveUp();
  }
  // `-2` and `--flag` are plain; `- x` and a lone `-` are not.
  if (INDICATORS.has(first) && !/^-[\w./-]/.test(text)) giveUp();
  // In a flow list an item ends at `,` or `]`; yaml's rules for `:` and `#` inside one are not worth copying.
  const end = inFlow ? text.search(/[,\]]|$/) : text.search(/ #|$/);
  const source = text.slice(0, end).trimEnd();
  if (source === '') giveUp();
  if (inFlow ? /[[\]{}:#]/.test(source) : source.includes(': ') || source.endsWith(':')) giveUp();
  return { value: plainScalar(source), end };
}

function flowList(text: string): { value: unknown[]; end: number } {
  const list: unknown[] = [];
  let at = 1;
  const skipSpaces = (): void => {
    while (text[at] === ' ') at++;
  };
  skipSpaces();
  if (text[at] === ']') return { value: list, end: at + 1 };
  for (;;) {
    skipSpaces();
    if (at >= text.length) giveUp();
    const { value, end } = scalarOrFlow(text.slice(at), true);
    list.push(value);
    at += end;
    skipSpaces();
    if (text[at] === ']') return { value: list, end: at + 1 };
    if (text[at] !== ',') giveUp();
    at++;
  }
}

/** A single- or double-quoted scalar that closes on its line. */
function quoted(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  let value = '';
  for (let at = start + 1; at < text.length; at++) {
    const char = text[at]!;
    if (quote === "'" && char === "'") {
      if (text[at + 1] !== "'") return { value, end: at + 1 };
      value += "'";
      at++;
    } else if (quote === '"' && char === '"') {
      return { value, end: at + 1 };
    } else if (quote === '"' && char === '\\') {
      value += ESCAPES[text[at + 1] ?? ''] ?? giveUp();
      at++;
    } else {
      value += char;
    }
  }
  return giveUp();
}

/**
 * A plain scalar as yaml's core schema resolves it (yaml/dist/schema/core):
 * null, booleans, decimal integers and floats; octal, hexadecimal, infinity
 * and NaN are left to yaml.
 */
function plainScalar(source: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(source)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(source)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(source)) return false;
  if (/^0o[0-7]+$|^0x[0-9a-fA-F]+$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$/.test(source)) giveUp();
  if (/^[-+]?[0-9]+$/.test(source)) return parseInt(source, 10);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(source) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(source)) {
    return parseFloat(source);
  }
  return source;
}
