/**
 * The number of lines in `text`: every line feed ends one, and a last line
 * without a line feed counts too. '' has none.
 */
export function countLines(text) {
  if (text === '') return 0;
  const feeds = text.split('\n').length - 1;
  return text.endsWith('\n') ? feeds : feeds + 1;
}

/** The number of words in `text`: runs of characters that are not white space. */
export function countWords(text) {
  return text.split(/\s+/u).filter((word) => word !== '').length;
}

/** Every count of `text` at once. */
export function count(text) {
  return { lines: countLines(text), words: countWords(text) };
}
