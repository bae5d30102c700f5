import { CatalogInputError } from '../catalog/errors.js';
import type { RegistryProbe } from '../catalog/events/probe.js';
import type { RegistrySource } from '../catalog/source.js';
import {
  parseRegistryArgument,
  registryCredentialsFromEnv,
  REGISTRY_PASSWORD_ENV as PASSWORD_ENV,
  REGISTRY_USERNAME_ENV as USERNAME_ENV,
} from '../registry/registry-argument.js';

export interface SourceSettings {
  readonly pageSize?: number;
  readonly env: NodeJS.ProcessEnv;
}

/** Builds the source for a `<registry>` argument; injectable so tests can scan fakes. */
export type SourceFactory = (argument: string, settings: SourceSettings) => Promise<RegistrySource>;

/** The registry id a `--registry` argument means, written the way scans record it. */
export function registryId(argument: string): string {
  const target = parseRegistryArgument(argument);
  return target.kind === 'oci' ? target.url : `ecr://${target.accountId}/${target.region}`;
}

/** The CLI's source factory: OCI registries (basic/bearer credentials from the environment) and ECR. */
export const createRegistrySource: SourceFactory = (argument, settings) => buildSource(argument, settings);

/** The same registry as a source that also answers the lookups applying its events may need. */
export function createRegistryProbe(
  argument: string,
  env: NodeJS.ProcessEnv,
): Promise<RegistrySource & RegistryProbe> {
  return buildSource(argument, { env });
}

async function buildSource(
  argument: string,
  settings: SourceSettings,
): Promise<RegistrySource & RegistryProbe> {
  const env = settings.env;
  if (Boolean(env[USERNAME_ENV]) !== Boolean(env[PASSWORD_ENV])) {
    throw new CatalogInputError(`set both ${USERNAME_ENV} and ${PASSWORD_ENV}, or neither`);
  }
  // Loaded on use: the sources bring the AWS SDK's ECR client, which no other command needs.
  const { createRegistrySource: buildRegistrySource } = await import('../registry/registry-source.js');
  const credentials = registryCredentialsFromEnv(env);
  // The engine hands each listImages call what the catalog knows (KnownImages), so a warm scan
  // skips the manifest GET of every digest already catalogued without any extra wiring here.
  return buildRegistrySource(argument, {
    ...(credentials ? { credentials } : {}),
    oci: settings.pageSize === undefined ? {} : { pageSize: settings.pageSize },
  });
}
