import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { SourceLocation } from '../util/errors.js';
import type { Locator, YamlPath } from './yaml-path.js';

export function createLocator(file: string, doc: Document, lineCounter: LineCounter): Locator {
  const at = (offset: number | undefined): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  const rootOffset = (doc.contents as Node | null)?.range?.[0];

  return {
    value(path) {
      const found = walk(doc, path);
      return at(found.value?.range?.[0] ?? found.key?.range?.[0] ?? rootOffset);
    },
    key(path) {
      const found = walk(doc, path);
      return at(found.key?.range?.[0] ?? found.value?.range?.[0] ?? rootOffset);
    },
  };
}

interface Found {
  key: Node | undefined;
  value: Node | undefined;
}

/**
 * Follows `path` as far as the document allows: an error about a missing key
 * is then reported at the closest enclosing node rather than nowhere.
 */
function walk(doc: Document, path: YamlPath): Found {
  let found: Found = { key: undefined, value: resolve(doc, doc.contents) };
  for (const segment of path) {
    const node = found.value;
    if (isMap(node)) {
      const pair = pairsByKey(node).get(String(segment));
      if (!pair) break;
      found = { key: pair.key as Node, value: resolve(doc, pair.value) ?? undefined };
      // An empty value (`inputs:`) has no range of its own worth pointing at.
      if (isScalar(found.value) && found.value.value === null && !found.value.range) found.value = undefined;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined) break;
      found = { key: undefined, value: resolve(doc, item) };
    } else {
      break;
    }
  }
  return found;
}

const indexes = new WeakMap<YAMLMap, Map<string, Pair>>();

/** A mapping's pairs by key, built on first use: a file with thousands of errors must not search 20,000 keys for each. */
function pairsByKey(map: YAMLMap): Map<string, Pair> {
  let index = indexes.get(map);
  if (!index) {
    index = new Map();
    for (const item of map.items) {
      const key = isScalar(item.key) ? String(item.key.value) : undefined;
      // The first of duplicate keys, as a search from the start would find.
      if (key !== undefined && !index.has(key)) index.set(key, item);
    }
    indexes.set(map, index);
  }
  return index;
}

function resolve(doc: Document, node: unknown): Node | undefined {
  if (isAlias(node)) return node.resolve(doc) ?? node;
  return (node as Node | null) ?? undefined;
}
