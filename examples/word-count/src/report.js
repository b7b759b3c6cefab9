import { count } from './count.js';

/** The counts the command line can ask for, in the order they are printed. */
export const FIELDS = ['lines', 'words'];

/**
 * Reads the command line: `--lines` and `--words` choose the counts (all of
 * them when none is named), every other argument is a file.
 */
export function parseArgs(args) {
  const chosen = new Set();
  const files = [];
  for (const arg of args) {
    if (!arg.startsWith('--')) {
      files.push(arg);
      continue;
    }
    const field = arg.slice(2);
    if (!FIELDS.includes(field)) {
      throw new Error(`unknown option "${arg}"; known: ${FIELDS.map((name) => `--${name}`).join(', ')}`);
    }
    chosen.add(field);
  }
  return { fields: chosen.size === 0 ? [...FIELDS] : FIELDS.filter((field) => chosen.has(field)), files };
}

/**
 * One line per input, like wc: the chosen counts, right-aligned, then the
 * input's name (none for standard input); a "total" line after several.
 */
export function report(inputs, fields) {
  const rows = inputs.map(({ name, text }) => ({ name, counts: count(text) }));
  if (rows.length > 1) {
    const total = Object.fromEntries(fields.map((field) => [field, rows.reduce((sum, row) => sum + row.counts[field], 0)]));
    rows.push({ name: 'total', counts: total });
  }
  return rows
    .map(({ name, counts }) => [...fields.map((field) => String(counts[field]).padStart(7)), ...(name === undefined ? [] : [name])].join(' '))
    .map((line) => `${line}\n`)
    .join('');
}
