/**
 * Names that usually hold credentials. spx.lock is committed, and an
 * unsalted sha256 of a short or guessable secret gives the secret back to
 * anyone who tries candidates; so such a variable enters a fingerprint by
 * whether it is set, not by its value (fingerprint/env.ts), and its value
 * is taken out of everything spx prints or saves.
 */
const SECRET_LOOKING = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL/i;

export function looksLikeSecret(name: string): boolean {
  return SECRET_LOOKING.test(name);
}

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

/**
 * Shorter values are left alone: a flag such as SKIP_TOKEN_CHECK=1 would
 * otherwise turn every "1" in the output into "***", and a secret that
 * short is no secret.
 */
const MIN_SECRET_LENGTH = 8;

/**
 * The values of the environment's secret-looking variables (API keys, the
 * remote cache token, whatever a node's command may echo): what must not
 * reach the terminal, `--json` or `.spx/`, longest first so that a secret
 * containing another is redacted whole.
 */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH && looksLikeSecret(name)) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length);
}
