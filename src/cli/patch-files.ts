/** What one file's section of a git patch says of it. */
export interface PatchedFile {
  /** The path before the change; undefined for a file the patch creates. */
  from: string | undefined;
  /** The path after the change; undefined for a file the patch deletes. */
  to: string | undefined;
  /** The blob the change left (abbreviated as git wrote it); undefined when the patch names none (a mode change). */
  postImage: string | undefined;
}

/**
 * The files a patch made by `git diff` touches, from its headers alone, so
 * that `spx why` needs neither git nor a repository to find them. Paths with
 * characters git quotes ("a\\tb") are read as git wrote them.
 */
export function patchedFiles(patch: string): PatchedFile[] {
  const sections = patch.split(/^(?=diff --git )/m).filter((section) => section.startsWith('diff --git '));
  return sections.map(parseSection);
}

function parseSection(section: string): PatchedFile {
  const lines = section.split('\n');
  const [from, to] = headerPaths(lines[0]!.slice('diff --git '.length));
  const field = (prefix: string): string | undefined => {
    const value = lines.find((line) => line.startsWith(prefix))?.slice(prefix.length);
    return value?.startsWith('"') ? unquote(value.slice(1, -1)) : value;
  };
  const index = /^index ([0-9a-f]+)\.\.([0-9a-f]+)/m.exec(section);
  const created = field('new file mode ') !== undefined;
  const deleted = field('deleted file mode ') !== undefined;
  return {
    from: created ? undefined : (field('rename from ') ?? field('copy from ') ?? from),
    to: deleted ? undefined : (field('rename to ') ?? field('copy to ') ?? to),
    postImage: index && !deleted ? index[2] : undefined,
  };
}

/** `a/X b/Y`: X and Y. A renamed or copied file's own lines name it exactly; this header only needs to when both are the same. */
function headerPaths(header: string): [string, string] {
  const quoted = /^"a\/((?:[^"\\]|\\.)*)" "b\/((?:[^"\\]|\\.)*)"$/.exec(header);
  if (quoted) return [unquote(quoted[1]!), unquote(quoted[2]!)];
  // Unquoted, the same path twice: "a/" + P + " b/" + P.
  const length = (header.length - 5) / 2;
  const before = header.slice(2, 2 + length);
  if (header.startsWith('a/') && header.slice(2 + length) === ` b/${before}`) return [before, before];
  const split = header.indexOf(' b/');
  return [header.slice(2, split), header.slice(split + 3)];
}

/** git's C-style quoting of a path (`\t`, `\"`, `\303\251` for é). */
function unquote(path: string): string {
  const bytes: number[] = [];
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < path.length; i++) {
    if (path[i] !== '\\') {
      bytes.push(...Buffer.from(path[i]!, 'utf8'));
      continue;
    }
    const octal = /^[0-7]{3}/.exec(path.slice(i + 1));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(escapes[path[i + 1]!] ?? path.charCodeAt(i + 1));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
