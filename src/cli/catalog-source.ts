import { CatalogInputError } from '../catalog/errors.js';
import type { RegistrySource } from '../catalog/source.js';
import {
  createRegistrySource as buildRegistrySource,
  parseRegistryArgument,
  registryCredentialsFromEnv,
} from '../registry/registry-argument.js';

/** Environment variables holding registry credentials (never taken from the command line). */
export const USERNAME_ENV = 'FALCON_ORG_REGISTRY_USERNAME';
export const PASSWORD_ENV = 'FALCON_ORG_REGISTRY_PASSWORD';

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
export const createRegistrySource: SourceFactory = (argument, settings) => {
  const env = settings.env;
  if (Boolean(env[USERNAME_ENV]) !== Boolean(env[PASSWORD_ENV])) {
    return Promise.reject(new CatalogInputError(`set both ${USERNAME_ENV} and ${PASSWORD_ENV}, or neither`));
  }
  try {
    parseRegistryArgument(argument);
    const credentials = registryCredentialsFromEnv(env);
    // The engine hands each listImages call what the catalog knows (KnownImages), so a warm scan
    // skips the manifest GET of every digest already catalogued without any extra wiring here.
    return Promise.resolve(
      buildRegistrySource(argument, {
        ...(credentials ? { credentials } : {}),
        oci: settings.pageSize === undefined ? {} : { pageSize: settings.pageSize },
      }),
    );
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
};
