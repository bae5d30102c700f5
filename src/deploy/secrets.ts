import type { ResolvedConfig } from '../config/load.js';
import { clientsInUse, FEATURE_CLIENT_VARIABLES, SHARED_CLIENT_VARIABLES } from '../falcon/credentials.js';
import { MissingCredentialsError, UnusableCredentialsError } from './errors.js';

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
 * Reads from the environment every Falcon API client the deployed features take from there (the
 * shared `falcon.credentials` and each `falcon.clients.<feature>` with source "environment") and turns
 * them into root stack parameters. A client from Secrets Manager is not read: the stack resolves the
 * existing secret itself.
 */
export function rootParameters(config: ResolvedConfig, env: NodeJS.ProcessEnv): RootParameters {
  const parameters: Record<string, string> = {};
  const secrets: string[] = [];
  const seen = new Set<string>();
  for (const client of clientsInUse(config)) {
    if (client.source !== 'environment' || seen.has(client.key)) continue;
    seen.add(client.key);
    const { variables } = client;
    const clientId = env[variables.clientId]?.trim() ?? '';
    const clientSecret = env[variables.clientSecret]?.trim() ?? '';
    const missing = [
      ...(clientId === '' ? [variables.clientId] : []),
      ...(clientSecret === '' ? [variables.clientSecret] : []),
    ];
    if (missing.length > 0) throw new MissingCredentialsError(missing, client.setting);
    const unusable = [
      ...(UNUSABLE.test(clientId) ? [variables.clientId] : []),
      ...(UNUSABLE.test(clientSecret) ? [variables.clientSecret] : []),
    ];
    if (unusable.length > 0) throw new UnusableCredentialsError(unusable);
    parameters[client.parameters.clientId] = clientId;
    parameters[client.parameters.clientSecret] = clientSecret;
    secrets.push(clientId, clientSecret);
  }
  return { parameters, secrets };
}

/** The values of every Falcon client variable set in the environment (trimmed as deploy trims them), to scrub. */
export function clientValuesInEnvironment(env: NodeJS.ProcessEnv): string[] {
  return [SHARED_CLIENT_VARIABLES, ...Object.values(FEATURE_CLIENT_VARIABLES)]
    .flatMap((v) => [env[v.clientId], env[v.clientSecret]])
    .map((v) => v?.trim() ?? '')
    .filter((v) => v !== '');
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
