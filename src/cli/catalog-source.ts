import { CatalogInputError } from '../catalog/errors.js';
import type { KnownImages, RegistrySource } from '../catalog/source.js';
import { OciRegistryClient } from '../registry/client.js';
import { OciRegistrySource } from '../registry/oci-source.js';

/** Environment variables holding registry credentials (never taken from the command line). */
export const USERNAME_ENV = 'FALCON_ORG_REGISTRY_USERNAME';
export const PASSWORD_ENV = 'FALCON_ORG_REGISTRY_PASSWORD';

export interface SourceSettings {
  readonly pageSize?: number;
  readonly env: NodeJS.ProcessEnv;
}

/** Builds the source for a `<registry>` argument; injectable so tests can scan fakes. */
export type SourceFactory = (argument: string, settings: SourceSettings) => Promise<RegistrySource>;

export type RegistryArgument =
  | { readonly kind: 'oci'; readonly url: string }
  | { readonly kind: 'ecr'; readonly account: string; readonly region: string };

const USAGE = 'expected http(s)://host[:port] or ecr://<12-digit account>/<region>';

/** Parses `http(s)://host[:port]` or `ecr://<account>/<region>`; the registry id is the canonical form. */
export function parseRegistryArgument(argument: string): RegistryArgument & { readonly id: string } {
  const value = argument.trim();
  const ecr = /^ecr:\/\/([^/]*)\/([^/]*)\/?$/i.exec(value);
  if (ecr) {
    const [, account = '', region = ''] = ecr;
    if (!/^\d{12}$/.test(account) || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
      throw new CatalogInputError(`registry '${value}' is not valid: ${USAGE}`);
    }
    return { kind: 'ecr', account, region, id: `ecr://${account}/${region}` };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CatalogInputError(`registry '${value}' is not valid: ${USAGE}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CatalogInputError(`registry '${value}' is not valid: ${USAGE}`);
  }
  if (url.username || url.password) {
    throw new CatalogInputError(
      `put registry credentials in ${USERNAME_ENV} and ${PASSWORD_ENV}, not in the registry URL`,
    );
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new CatalogInputError(`registry '${url.protocol}//${url.host}…' must not have a path or query: ${USAGE}`);
  }
  const id = `${url.protocol}//${url.host}`;
  return { kind: 'oci', url: id, id };
}

/** The registry id a `--registry` filter means, written the way scans record it. */
export function registryId(argument: string): string {
  return parseRegistryArgument(argument).id;
}

function credentialsFrom(env: NodeJS.ProcessEnv): { username: string; password: string } | undefined {
  const username = env[USERNAME_ENV];
  const password = env[PASSWORD_ENV];
  if (!username && !password) return undefined;
  if (!username || !password) {
    throw new CatalogInputError(`set both ${USERNAME_ENV} and ${PASSWORD_ENV}, or neither`);
  }
  return { username, password };
}

/**
 * Wraps a source built with a `knownDigest` callback so it asks the catalog: the engine hands each
 * listImages call what the store knows, and the source skips the manifest GET for digests it knows.
 */
export function askingCatalog(build: (knownDigest: (digest: string) => boolean) => RegistrySource): RegistrySource {
  let describe: KnownImages['describe'] | undefined;
  const inner = build((digest) => describe?.(digest) !== undefined);
  return {
    registry: inner.registry,
    listRepositories: (signal) => inner.listRepositories(signal),
    listImages: (repository, signal, known) => {
      if (known) describe = known.describe;
      return inner.listImages(repository, signal, known);
    },
  };
}

export const createRegistrySource: SourceFactory = (argument, settings) => {
  const parsed = parseRegistryArgument(argument);
  if (parsed.kind === 'ecr') {
    return Promise.reject(new CatalogInputError('ecr:// registries are not supported by this build yet'));
  }
  const credentials = credentialsFrom(settings.env);
  const client = new OciRegistryClient({ url: parsed.url, ...(credentials ? { credentials } : {}) });
  return Promise.resolve(
    askingCatalog(
      (knownDigest) =>
        new OciRegistrySource({
          client,
          knownDigest,
          ...(settings.pageSize === undefined ? {} : { pageSize: settings.pageSize }),
        }),
    ),
  );
};
