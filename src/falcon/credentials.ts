/*
 * The one place Falcon API client credentials are resolved and read, for every feature and every entry
 * point (deploy, the Lambda handlers, the deployer, `status`, pre-flight):
 * - which client a feature uses: its own (`falcon.clients.<feature>`) or the shared one
 *   (`falcon.credentials`), and where that client comes from (environment variables or a secret);
 * - the environment variable and root stack parameter names of each client;
 * - the JSON a credentials secret holds, checked, with errors that name the missing key and the fix.
 *
 * Designed to grow into several Falcon tenants (CIDs) per organization: everything here works on a
 * `FalconClientSettings` (the credential part of one tenant), not on the whole configuration, so a
 * later `falcon.tenants[]` entry (targets → cloud, CID, credentials, clients) resolves the same way.
 */
import { isFalconCloud, FALCON_CLOUD_NAMES, type FalconCloud } from '../config/clouds.js';
import type { ConfigWarning } from '../config/warnings.js';
import { FalconCredentialsError } from './errors.js';
import {
  FALCON_CLIENT_FEATURES,
  FEATURE_SCOPES,
  WRITE_SCOPES,
  type FalconClientFeature,
  type FalconScope,
} from './scopes.js';

/** Names of a client's ID and secret (environment variables, or root stack parameters). */
export interface ClientNames {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** The shared client's environment variables (also what the deployer's CodeBuild project is given). */
export const SHARED_CLIENT_VARIABLES: ClientNames = {
  clientId: 'FALCON_CLIENT_ID',
  clientSecret: 'FALCON_CLIENT_SECRET',
};

/** Each feature's own client, when `falcon.clients.<feature>.source` is "environment". */
export const FEATURE_CLIENT_VARIABLES: Readonly<Record<FalconClientFeature, ClientNames>> = {
  ssmDistributor: { clientId: 'FALCON_SSM_CLIENT_ID', clientSecret: 'FALCON_SSM_CLIENT_SECRET' },
  eksProtection: { clientId: 'FALCON_EKS_CLIENT_ID', clientSecret: 'FALCON_EKS_CLIENT_SECRET' },
  ecrConnections: { clientId: 'FALCON_ECR_CLIENT_ID', clientSecret: 'FALCON_ECR_CLIENT_SECRET' },
  coverage: { clientId: 'FALCON_COVERAGE_CLIENT_ID', clientSecret: 'FALCON_COVERAGE_CLIENT_SECRET' },
};

/** The root stack's NoEcho parameters of the shared client (source "environment"). */
export const SHARED_CLIENT_PARAMETERS: ClientNames = {
  clientId: 'FalconClientId',
  clientSecret: 'FalconClientSecret',
};

const FEATURE_PARAMETER_PREFIX: Readonly<Record<FalconClientFeature, string>> = {
  ssmDistributor: 'FalconSsm',
  eksProtection: 'FalconEks',
  ecrConnections: 'FalconEcr',
  coverage: 'FalconCoverage',
};

/** Where one API client comes from (the shape of `falcon.credentials` and `falcon.clients.<feature>`). */
export interface FalconClientSetting {
  readonly source: 'environment' | 'secretsManager';
  readonly secretArn?: string | undefined;
}

/** The credential settings of one Falcon tenant: the shared client and the features' own. */
export interface FalconClientSettings {
  readonly credentials: FalconClientSetting;
  readonly clients?: Readonly<Partial<Record<FalconClientFeature, FalconClientSetting | undefined>>>;
}

/** Which client a feature uses and where it comes from. */
export interface ResolvedFalconClient {
  readonly feature: FalconClientFeature;
  /** True when the feature uses the shared client (`falcon.credentials`, or the very same secret). */
  readonly shared: boolean;
  readonly source: FalconClientSetting['source'];
  readonly secretArn?: string;
  /** The environment variables read with source "environment". */
  readonly variables: ClientNames;
  /** The root stack's NoEcho parameters that carry it with source "environment". */
  readonly parameters: ClientNames;
  /** The configuration path of the setting it was resolved from, for messages. */
  readonly setting: string;
  /** Two features with the same key use the same client. */
  readonly key: string;
  /** What this feature needs the client to be allowed. */
  readonly scopes: readonly FalconScope[];
}

/**
 * The client a feature uses: its own when `falcon.clients.<feature>` is set, otherwise the shared one.
 * `path` names the settings in messages (`falcon` today; a tenant entry later).
 */
export function resolveFalconClient(
  settings: FalconClientSettings,
  feature: FalconClientFeature,
  path = 'falcon',
): ResolvedFalconClient {
  const own = settings.clients?.[feature];
  const sharedArn = sharedSecretArn(settings.credentials);
  const scopes = FEATURE_SCOPES[feature];
  if (own === undefined || (own.source === 'secretsManager' && own.secretArn === sharedArn)) {
    return {
      feature,
      shared: true,
      source: settings.credentials.source,
      ...(sharedArn !== undefined ? { secretArn: sharedArn } : {}),
      variables: SHARED_CLIENT_VARIABLES,
      parameters: SHARED_CLIENT_PARAMETERS,
      setting: `${path}.credentials`,
      key: sharedArn !== undefined ? `secret:${sharedArn}` : 'environment:shared',
      scopes,
    };
  }
  const prefix = FEATURE_PARAMETER_PREFIX[feature];
  return {
    feature,
    shared: false,
    source: own.source,
    ...(own.source === 'secretsManager' && own.secretArn !== undefined ? { secretArn: own.secretArn } : {}),
    variables: FEATURE_CLIENT_VARIABLES[feature],
    parameters: { clientId: `${prefix}ClientId`, clientSecret: `${prefix}ClientSecret` },
    setting: `${path}.clients.${feature}`,
    key:
      own.source === 'secretsManager' && own.secretArn !== undefined
        ? `secret:${own.secretArn}`
        : `environment:${feature}`,
    scopes,
  };
}

function sharedSecretArn(setting: FalconClientSetting): string | undefined {
  return setting.source === 'secretsManager' ? setting.secretArn : undefined;
}

/** The configuration as far as client resolution reads it. */
export interface FalconClientUse {
  readonly falcon: FalconClientSettings;
  readonly features: Readonly<
    Record<Exclude<FalconClientFeature, 'coverage'>, { readonly enabled: boolean }>
  >;
  readonly coverage: { readonly enabled: boolean };
}

/** The clients the deployed features use, one entry per feature that calls Falcon once deployed. */
export function clientsInUse(config: FalconClientUse): ResolvedFalconClient[] {
  return FALCON_CLIENT_FEATURES.filter((f) =>
    f === 'coverage' ? config.coverage.enabled : config.features[f].enabled,
  ).map((f) => resolveFalconClient(config.falcon, f));
}

/**
 * What `validate` and `plan` warn about: a client that would be copied onto clusters and can do more
 * than the operator needs (the shared fallback, or a client another feature uses with write scopes).
 */
export function credentialWarnings(config: FalconClientUse): ConfigWarning[] {
  if (!config.features.eksProtection.enabled) return [];
  const cluster = resolveFalconClient(config.falcon, 'eksProtection');
  const fix =
    `give the clusters their own API client with only ${FEATURE_SCOPES.eksProtection.join(' and ')} ` +
    '(falcon.clients.eksProtection)';
  if (cluster.shared) {
    return [
      {
        path: 'features.eksProtection',
        message:
          'copies the shared Falcon API client (falcon.credentials) into a Secret on every cluster ' +
          '(namespace falcon-operator): anyone who can read Secrets there holds the client every feature ' +
          `uses; ${fix}`,
      },
    ];
  }
  const writers = FALCON_CLIENT_FEATURES.filter(
    (f) =>
      f !== 'eksProtection' &&
      FEATURE_SCOPES[f].some((s) => WRITE_SCOPES.includes(s)) &&
      resolveFalconClient(config.falcon, f).key === cluster.key,
  );
  return writers.map((f) => ({
    path: cluster.setting,
    message:
      `is also the client of ${f}, which needs ` +
      `${FEATURE_SCOPES[f].filter((s) => WRITE_SCOPES.includes(s)).join(', ')}: a client with write scopes ` +
      `would be copied into every cluster; ${fix}`,
  }));
}

/** A Falcon API client as read from its secret or the environment. */
export interface FalconClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Present when the secret names it (the secrets this project creates do). */
  readonly cloud?: FalconCloud;
  /** Explicit API base URL, when the secret names one. */
  readonly baseUrl?: string;
}

export interface ParseSecretOptions {
  /** The secret must name its cloud (`Cloud`): the member-account secrets this project creates do. */
  readonly requireCloud?: boolean;
  /** The configuration setting that names the secret, for the fix in messages. */
  readonly setting?: string;
}

/**
 * Parses a credentials secret: `{"ClientId", "ClientSecret"}` and optionally `"Cloud"` and `"BaseUrl"`.
 * Errors name the secret, the key and the fix, never a value.
 */
export function parseFalconClientSecret(
  text: string,
  secretId: string,
  options: ParseSecretOptions = {},
): FalconClientCredentials {
  const keys =
    options.requireCloud === true ? '"ClientId", "ClientSecret", "Cloud"' : '"ClientId", "ClientSecret"';
  const fix =
    `store the API client as a JSON object with ${keys} in it ` +
    `(aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string file://client.json)` +
    (options.setting !== undefined
      ? `, or point ${options.setting}.secretArn at the secret that holds it`
      : '');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new FalconCredentialsError(`secret ${secretId} is not JSON; ${fix}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FalconCredentialsError(`secret ${secretId} is not a JSON object; ${fix}`);
  }
  const obj = raw as Record<string, unknown>;
  const required =
    options.requireCloud === true ? ['ClientId', 'ClientSecret', 'Cloud'] : ['ClientId', 'ClientSecret'];
  const missing = required.filter((k) => typeof obj[k] !== 'string' || obj[k].trim() === '');
  if (missing.length > 0) {
    throw new FalconCredentialsError(
      `secret ${secretId} lacks ${missing.map((k) => `"${k}"`).join(', ')} (expected non-empty strings); ${fix}`,
    );
  }
  let cloud: FalconCloud | undefined;
  if (typeof obj.Cloud === 'string' && obj.Cloud.trim() !== '') {
    const named = obj.Cloud.trim().toLowerCase();
    if (!isFalconCloud(named)) {
      throw new FalconCredentialsError(
        `secret ${secretId} has an unknown "Cloud"; expected one of ${FALCON_CLOUD_NAMES.join(', ')}`,
      );
    }
    cloud = named;
  }
  let baseUrl: string | undefined;
  if (obj.BaseUrl !== undefined && obj.BaseUrl !== '') {
    if (typeof obj.BaseUrl !== 'string' || !/^https?:\/\/[^\s/]+/.test(obj.BaseUrl)) {
      throw new FalconCredentialsError(
        `secret ${secretId} has an invalid "BaseUrl"; expected an http(s) URL`,
      );
    }
    baseUrl = obj.BaseUrl.replace(/\/+$/, '');
  }
  return {
    clientId: (obj.ClientId as string).trim(),
    clientSecret: (obj.ClientSecret as string).trim(),
    ...(cloud !== undefined ? { cloud } : {}),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
  };
}

/** As parseFalconClientSecret, for secrets that must name their cloud (the member-account secrets). */
export function parseFalconClientSecretWithCloud(
  text: string,
  secretId: string,
  options: Omit<ParseSecretOptions, 'requireCloud'> = {},
): FalconClientCredentials & { readonly cloud: FalconCloud } {
  const client = parseFalconClientSecret(text, secretId, { ...options, requireCloud: true });
  const { cloud } = client;
  // requireCloud has checked it; this only tells the type checker.
  if (cloud === undefined) throw new FalconCredentialsError(`secret ${secretId} lacks "Cloud"`);
  return { ...client, cloud };
}

/** Reads a client from environment variables; the error names every variable not set and the fix. */
export function clientFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  variables: ClientNames,
  why: string,
): FalconClientCredentials {
  const clientId = env[variables.clientId]?.trim() ?? '';
  const clientSecret = env[variables.clientSecret]?.trim() ?? '';
  const missing = [
    ...(clientId === '' ? [variables.clientId] : []),
    ...(clientSecret === '' ? [variables.clientSecret] : []),
  ];
  if (missing.length > 0) {
    throw new FalconCredentialsError(
      `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set; ${why}`,
    );
  }
  return { clientId, clientSecret };
}

/** Reads a secret's string value (implemented by SecretsManagerReader, src/aws/secrets.ts). */
export interface SecretReader {
  getSecretString(secretId: string): Promise<string>;
}

/** Reads the client a feature uses, from the environment or from its secret. */
export async function readFalconClient(
  client: ResolvedFalconClient,
  sources: {
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly secrets: () => SecretReader;
  },
): Promise<FalconClientCredentials> {
  if (client.source === 'environment') {
    return clientFromEnvironment(
      sources.env,
      client.variables,
      `${client.setting}.source is "environment": export the ID and secret of the Falcon API client ` +
        `${client.feature} uses (scopes ${client.scopes.join(', ')})`,
    );
  }
  if (client.secretArn === undefined) {
    throw new FalconCredentialsError(
      `${client.setting}.secretArn is not set; name the secret that holds the client`,
    );
  }
  return parseFalconClientSecret(
    await sources.secrets().getSecretString(client.secretArn),
    client.secretArn,
    {
      setting: client.setting,
    },
  );
}
