/** The greeting word of every language the library knows, by language code. */
export const GREETINGS = {
  de: 'Hallo',
  en: 'Hello',
  es: 'Hola',
  fr: 'Bonjour',
  it: 'Ciao',
};

/** Language codes the library can greet in, sorted. */
export function languages() {
  return Object.keys(GREETINGS).sort();
}
