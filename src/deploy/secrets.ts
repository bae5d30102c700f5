import type { ResolvedConfig } from '../config/load.js';
import { MissingCredentialsError, UnusableCredentialsError } from './errors.js';

export const CLIENT_ID_VARIABLE = 'FALCON_CLIENT_ID';
export const CLIENT_SECRET_VARIABLE = 'FALCON_CLIENT_SECRET';
/** Root stack NoEcho parameters (see src/infra/app.ts). */
export const CLIENT_ID_PARAMETER = 'FalconClientId';
export const CLIENT_SECRET_PARAMETER = 'FalconClientSecret';

/**
 * Quotes, backslashes and control characters would break the JSON the stack assembles the secret
 * into; the root stack's AllowedPattern refuses them too, but only after assets are published.
 */
// eslint-disable-next-line no-control-regex
const UNUSABLE = /["\\\x00-\x1f]/;

/** Root stack parameters plus the values that must never appear in output. */
export interface RootParameters {
  readonly parameters: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
}

/**
 * Reads the Falcon API credentials from the environment when the configuration says so and turns
 * them into root stack parameters. With `secretsManager`, nothing is read: the stack resolves the
 * existing secret itself.
 */
export function rootParameters(config: ResolvedConfig, env: NodeJS.ProcessEnv): RootParameters {
  if (config.falcon.credentials.source !== 'environment') return { parameters: {}, secrets: [] };
  const clientId = env[CLIENT_ID_VARIABLE]?.trim() ?? '';
  const clientSecret = env[CLIENT_SECRET_VARIABLE]?.trim() ?? '';
  const missing = [
    ...(clientId === '' ? [CLIENT_ID_VARIABLE] : []),
    ...(clientSecret === '' ? [CLIENT_SECRET_VARIABLE] : []),
  ];
  if (missing.length > 0) throw new MissingCredentialsError(missing);
  const unusable = [
    ...(UNUSABLE.test(clientId) ? [CLIENT_ID_VARIABLE] : []),
    ...(UNUSABLE.test(clientSecret) ? [CLIENT_SECRET_VARIABLE] : []),
  ];
  if (unusable.length > 0) throw new UnusableCredentialsError(unusable);
  return {
    parameters: { [CLIENT_ID_PARAMETER]: clientId, [CLIENT_SECRET_PARAMETER]: clientSecret },
    secrets: [clientId, clientSecret],
  };
}

/** Replaces every occurrence of the given secret values (and their URL/JSON-escaped forms) with `***`. */
export function createScrubber(secrets: readonly string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue; // too short to scrub without mangling ordinary text
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  const needles = [...forms].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (text) => text;
  return (text) => needles.reduce((acc, needle) => acc.split(needle).join('***'), text);
}
