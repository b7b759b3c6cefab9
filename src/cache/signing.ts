import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `x-artifact-tag` of an artifact: base64 HMAC-SHA256, keyed with the
 * team's secret, over the artifact's key (its fingerprint, fixed-length hex)
 * followed by its bytes. The key is in the MAC so that a valid artifact
 * cannot be replayed under another fingerprint; the bytes, so that none of
 * them can change. Whoever can write to the server but lacks the secret
 * cannot make a tag spx accepts.
 */
export function artifactTag(secret: string, key: string, artifact: Uint8Array): string {
  return createHmac('sha256', secret).update(key, 'utf8').update(artifact).digest('base64');
}

/** Constant-time: the comparison must not tell a forger how much of a tag was right. */
export function verifyArtifactTag(secret: string, key: string, artifact: Uint8Array, tag: string): boolean {
  const expected = Buffer.from(artifactTag(secret, key, artifact), 'base64');
  const given = Buffer.from(tag, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
