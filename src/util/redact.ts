/**
 * Secrets are taken out of a message before anything shortens it: cut
 * first, and a secret cut in half (`token=tok-SECR…`) no longer matches
 * and would be printed, half of it, which is often enough.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) if (secret !== undefined && secret !== '') result = result.split(secret).join('***');
  return result;
}

/** A one-line excerpt of at most `max` characters; redact first (see above). */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
