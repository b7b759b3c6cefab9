import { GREETINGS } from './languages.js';

/** Greets someone by name in one of the known languages (default: English). */
export function greet(name, lang = 'en') {
  const word = GREETINGS[lang];
  if (word === undefined) {
    throw new RangeError(`unknown language "${lang}"; known: ${Object.keys(GREETINGS).sort().join(', ')}`);
  }
  const who = String(name ?? '').trim();
  return who === '' ? `${word}!` : `${word}, ${who}!`;
}

/** Greets several people at once, one line each. */
export function greetAll(names, lang = 'en') {
  return names.map((name) => greet(name, lang)).join('\n');
}
