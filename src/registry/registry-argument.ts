import type { RegistryCredentials } from './auth.js';
import { RegistryArgumentError } from './errors.js';

export type RegistryTarget =
  | { readonly kind: 'oci'; readonly url: string }
  | { readonly kind: 'ecr'; readonly accountId: string; readonly region: string };

const FORMS =
  'accepted forms: http(s)://host[:port] for an OCI registry, ecr://<12-digit account>/<region> for ECR';
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** Parses a CLI `<registry>` argument; throws RegistryArgumentError (a UserInputError) naming it and the accepted forms. */
export function parseRegistryArgument(argument: string): RegistryTarget {
  const bad = (why: string): RegistryArgumentError =>
    new RegistryArgumentError(`registry "${redactArgument(argument)}": ${why}; ${FORMS}`);
  const ecr = /^ecr:\/\/([^/]*)\/([^/]*)\/?$/.exec(argument.trim());
  if (ecr) {
    const [, accountId = '', region = ''] = ecr;
    if (!/^\d{12}$/.test(accountId)) throw bad(`"${accountId}" is not a 12-digit account id`);
    if (!REGION.test(region)) throw bad(`"${region}" is not an AWS region`);
    return { kind: 'ecr', accountId, region };
  }
  if (/^ecr:/i.test(argument.trim())) throw bad('an ECR registry is written ecr://<account>/<region>');
  let url: URL;
  try {
    url = new URL(argument.trim());
  } catch {
    throw bad('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw bad(`scheme ${url.protocol} is not supported`);
  if (url.username || url.password) {
    throw bad(
      'credentials do not belong in the URL (set FALCON_ORG_REGISTRY_USERNAME / FALCON_ORG_REGISTRY_PASSWORD)',
    );
  }
  if ((url.pathname !== '/' && url.pathname !== '/v2/' && url.pathname !== '/v2') || url.search || url.hash) {
    throw bad('a registry URL has no path, query or fragment');
  }
  return { kind: 'oci', url: `${url.protocol}//${url.host}` };
}

/** Removes anything that looks like userinfo before echoing an argument back. */
function redactArgument(argument: string): string {
  return argument.replace(/\/\/[^/@]*@/, '//***@');
}

/** Environment variables holding OCI registry credentials (never taken from the command line). */
export const REGISTRY_USERNAME_ENV = 'FALCON_ORG_REGISTRY_USERNAME';
export const REGISTRY_PASSWORD_ENV = 'FALCON_ORG_REGISTRY_PASSWORD';

/** Basic credentials for OCI registries from FALCON_ORG_REGISTRY_USERNAME and FALCON_ORG_REGISTRY_PASSWORD. */
export function registryCredentialsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): RegistryCredentials | undefined {
  const username = env[REGISTRY_USERNAME_ENV];
  const password = env[REGISTRY_PASSWORD_ENV];
  return username && password ? { username, password } : undefined;
}
