/**
 * Tables keyed by names that come from the user's files or from state on
 * disk: node, variable, provider and file names. A plain object would read
 * `constructor` or `toString` from its prototype and take `__proto__` as a
 * prototype to set; an object without a prototype holds them like any other
 * key. (A Map would too, but these tables are written to JSON as they are.)
 */
export function nameTable<T>(entries?: Iterable<readonly [string, T]>): Record<string, T> {
  const table = Object.create(null) as Record<string, T>;
  if (entries) for (const [name, value] of entries) table[name] = value;
  return table;
}

/** A table with the entries of `tables` in order, later ones replacing earlier ones in place: `{ ...a, ...b }` for name tables. */
export function mergeTables<T>(...tables: (Readonly<Record<string, T>> | undefined)[]): Record<string, T> {
  const merged = nameTable<T>();
  for (const table of tables) if (table) for (const [name, value] of Object.entries(table)) merged[name] = value;
  return merged;
}

/**
 * Makes a table parsed from a file (JSON.parse keeps `__proto__` as a plain
 * key, but the object still has a prototype) safe to index with any name,
 * in place: O(1), where copying a 10,000-entry table into a new one is not,
 * and JSON.parse with a reviver costs several times the parse itself.
 */
export function withoutPrototype<T extends object>(value: T): T {
  return Object.setPrototypeOf(value, null) as T;
}

/**
 * A table's own entry for `name`: for tables read from files and left with
 * their prototype (spx.lock's per-node tables: giving each of 6,000 objects
 * a null prototype costs a no-op build some 5%), so that `constructor`
 * never reads Object.prototype's.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  return table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
}
