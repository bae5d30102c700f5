import type { RegistrySource } from '../catalog/source.js';
import type { RegistryCredentials } from './auth.js';
import { OciRegistryClient, type OciClientOptions } from './client.js';
import { EcrClients } from './ecr-clients.js';
import { EcrRegistrySource } from './ecr-source.js';
import { RegistryArgumentError } from './errors.js';
import { OciRegistrySource, type OciSourceOptions } from './oci-source.js';

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

/** Basic credentials for OCI registries from FALCON_ORG_REGISTRY_USERNAME and FALCON_ORG_REGISTRY_PASSWORD. */
export function registryCredentialsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): RegistryCredentials | undefined {
  const username = env.FALCON_ORG_REGISTRY_USERNAME;
  const password = env.FALCON_ORG_REGISTRY_PASSWORD;
  return username && password ? { username, password } : undefined;
}

export interface RegistrySourceOptions {
  /** OCI: credentials for basic auth or the token service. */
  readonly credentials?: RegistryCredentials;
  /** OCI: client settings (timeouts, retry, fetch). */
  readonly client?: Omit<OciClientOptions, 'url' | 'credentials'>;
  /** OCI: page size, concurrency, manifest mode, knownDigest. */
  readonly oci?: Omit<OciSourceOptions, 'client'>;
  /** ECR: shared clients and cross-account credentials. @default new EcrClients() (default credential chain) */
  readonly ecrClients?: EcrClients;
}

/**
 * Turns a CLI `<registry>` argument into a RegistrySource.
 *
 * @example
 * const source = createRegistrySource('http://127.0.0.1:5000', { credentials: registryCredentialsFromEnv() });
 * const ecr = createRegistrySource('ecr://123456789012/eu-west-1', { ecrClients: new EcrClients({ roleArnPattern }) });
 */
export function createRegistrySource(argument: string, options: RegistrySourceOptions = {}): RegistrySource {
  const target = parseRegistryArgument(argument);
  if (target.kind === 'ecr') {
    return options.ecrClients
      ? new EcrRegistrySource({ ...target, clients: options.ecrClients })
      : new EcrRegistrySource({ ...target, clients: new EcrClients(), ownsClients: true });
  }
  const client = new OciRegistryClient({
    ...options.client,
    url: target.url,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return new OciRegistrySource({ ...options.oci, client });
}
