/**
 * Whether spx runs in CI, as CI services say by setting CI (to `true`, `1`,
 * or a name): there, no one watches a live display or answers a prompt.
 * `CI=false` and an empty CI say the opposite.
 */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false';
}
