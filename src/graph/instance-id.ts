/**
 * An instance of a foreach node is named `NODE:VALUE` (`plan:login`, or
 * `spec:auth/login` with two placeholders). Node names cannot hold ":", so
 * the first one splits the id.
 */
export function splitInstanceId(id: string): { node: string; value: string } | undefined {
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : { node: id.slice(0, colon), value: id.slice(colon + 1) };
}

/** Instances grouped by value (a feature), in order of first appearance; plain nodes are left out. */
export function byValue(ids: Iterable<string>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const instance = splitInstanceId(id);
    if (!instance) continue;
    const group = groups.get(instance.value) ?? [];
    group.push(id);
    groups.set(instance.value, group);
  }
  return groups;
}
