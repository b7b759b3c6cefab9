import path from 'node:path';

/**
 * The path-like words of a text (a plan in Markdown, a list of files): runs
 * of characters that occur in file paths, containing a `/` or a `.`, with
 * what prose and tools wrap around them removed — trailing punctuation, a
 * `:12:3` position, a `#L12` anchor, a leading `./`. Which of them name
 * project files is for the caller to decide: this only finds candidates.
 */
export function pathLikeWords(text: string): string[] {
  const words = new Set<string>();
  for (const match of text.matchAll(/[\w@+~%$.\-/:#]+/g)) {
    const word = match[0]
      .replace(/#.*$/, '')
      // A sentence may end right after a position: `a.ts:12.`
      .replace(/[.:]+$/, '')
      .replace(/(:\d+)+$/, '')
      .replace(/[.:]+$/, '')
      .replace(/^(\.\/)+/, '');
    if ((word.includes('/') || word.includes('.')) && /[\w]/.test(word)) words.add(word);
  }
  return [...words].sort();
}

/**
 * A path as a command or a document wrote it, as the project names it
 * (posix, relative to the root, no `./`), or undefined when it leaves the
 * project or names a directory.
 */
export function projectPath(written: string, root: string): string | undefined {
  let p = written.trim();
  if (p === '' || p.endsWith('/')) return undefined;
  if (path.isAbsolute(p)) p = path.relative(root, p);
  const normalised = path.posix.normalize(p.split(path.sep).join('/'));
  if (normalised === '.' || normalised === '..' || normalised.startsWith('../') || path.posix.isAbsolute(normalised)) return undefined;
  return normalised;
}
