import { CatalogInputError } from '../catalog/errors.js';
import type { KnownImages, RegistrySource } from '../catalog/source.js';
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

/**
 * Wraps a source built with a `knownDigest` callback so it asks the catalog: the engine hands each
 * listImages call what the store knows, and the source skips the manifest GET of a digest it knows.
 */
export function askingCatalog(
  build: (knownDigest: (digest: string) => boolean) => RegistrySource,
): RegistrySource {
  let describe: KnownImages['describe'] | undefined;
  const inner = build((digest) => describe?.(digest) !== undefined);
  return {
    registry: inner.registry,
    listRepositories: (signal) => inner.listRepositories(signal),
    listImages: (repository, signal, known) => {
      // The same registry-wide lookup is handed to every call of a scan.
      if (known) describe = (digest) => known.describe(digest);
      return inner.listImages(repository, signal, known);
    },
  };
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
    return Promise.resolve(
      askingCatalog((knownDigest) =>
        buildRegistrySource(argument, {
          ...(credentials ? { credentials } : {}),
          oci: { knownDigest, ...(settings.pageSize === undefined ? {} : { pageSize: settings.pageSize }) },
        }),
      ),
    );
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
};
