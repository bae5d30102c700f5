import type { RegistryProbe } from '../catalog/events/probe.js';
import type { RegistrySource } from '../catalog/source.js';
import type { RegistryCredentials } from './auth.js';
import { OciRegistryClient, type OciClientOptions } from './client.js';
import { EcrClients } from './ecr-clients.js';
import { EcrRegistrySource } from './ecr-source.js';
import { OciRegistrySource, type OciSourceOptions } from './oci-source.js';
import { parseRegistryArgument } from './registry-argument.js';

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
export function createRegistrySource(
  argument: string,
  options: RegistrySourceOptions = {},
): RegistrySource & RegistryProbe {
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
