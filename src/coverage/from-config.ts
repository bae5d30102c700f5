import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createClient } from '../aws/clients.js';
import { SecretsManagerReader } from '../aws/secrets.js';
import { UserInputError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import { readFalconClient, resolveFalconClient } from '../falcon/credentials.js';
import { createFalconClient, type FalconClient } from '../falcon/index.js';
import { createCoverageDeps } from './aws-deps.js';
import { CoverageError } from './errors.js';
import { COVERAGE_FEATURES, type CoverageDeps, type CoverageFeature, type CoverageOptions } from './model.js';
import type { CoverageFunctionSettings } from './publish-environment.js';

const RUNS_TABLE_NOT_GIVEN =
  "the EKS runs table was not given, so the clusters' run results were not read: pass --runs-table <name> (the DynamoDB runs table of EKS protection, home account)";

/** What `falcon-org status` was asked for, besides the configuration. */
export interface StatusRequest {
  readonly features?: readonly string[];
  readonly accounts?: readonly string[];
  /** Name of the EKS runs table (the root stack's output). */
  readonly runsTable?: string;
}

/**
 * The report options for a configuration: the same settings the scheduled function is given
 * (src/infra/features/coverage.ts `coverageSettings`), narrowed by `--feature` and `--account`.
 * Throws UserInputError naming the flag and the fix.
 */
export function coverageOptionsFor(
  settings: CoverageFunctionSettings,
  request: StatusRequest,
): CoverageOptions {
  const reported = COVERAGE_FEATURES.filter((f) => settings.features[f] !== undefined);
  let features = reported;
  if (request.features !== undefined && request.features.length > 0) {
    const unknown = request.features.filter((f) => !(COVERAGE_FEATURES as readonly string[]).includes(f));
    if (unknown.length > 0) {
      throw new UserInputError(
        `--feature ${unknown.join(', ')}: expected one of ${COVERAGE_FEATURES.join(', ')}`,
      );
    }
    const off = request.features.filter((f) => !(reported as readonly string[]).includes(f));
    if (off.length > 0) {
      throw new UserInputError(
        `--feature ${off.join(', ')}: not enabled in this configuration (features.<name>.enabled, or coverage.features); reported: ${reported.join(', ') || 'none'}`,
      );
    }
    features = reported.filter((f) => request.features?.includes(f) === true);
  }
  if (features.length === 0) {
    throw new UserInputError(
      'no feature to report: enable at least one of features.ssmDistributor, eksProtection, ecrConnections',
    );
  }
  const badAccounts = (request.accounts ?? []).filter((a) => !/^\d{12}$/.test(a));
  if (badAccounts.length > 0) {
    throw new UserInputError(`--account ${badAccounts.join(', ')}: expected a 12-digit AWS account ID`);
  }
  const picked: Partial<Record<CoverageFeature, CoverageFunctionSettings['features'][CoverageFeature]>> = {};
  for (const f of features) picked[f] = settings.features[f];
  return {
    scope: {
      partition: settings.partition,
      homeRegion: settings.homeRegion,
      targets: settings.targets,
      excludeAccounts: settings.excludeAccounts,
    },
    features: picked,
    associationName: settings.associationName,
    deploymentId: settings.deploymentId,
    concurrency: settings.concurrency,
    hostStaleAfterHours: settings.hostStaleAfterHours,
    ...(request.accounts !== undefined && request.accounts.length > 0 ? { accounts: request.accounts } : {}),
  };
}

/** The settings the scheduled function would get for this configuration. */
export async function settingsFor(config: ResolvedConfig): Promise<CoverageFunctionSettings> {
  // Loaded on use: the infrastructure modules pull in aws-cdk-lib.
  const { coverageSettings } = await import('../infra/features/coverage.js');
  const { coverageNames } = await import('../infra/features/coverage/names.js');
  return coverageSettings(config, coverageNames(config));
}

/**
 * Real adapters for a person at a terminal: the default AWS credential chain in the home region
 * (it must be allowed to assume the coverage role: coverage.readerRoleArns), the Falcon API with the
 * configured credentials.
 */
export async function createCoverageDepsFor(
  config: ResolvedConfig,
  settings: CoverageFunctionSettings,
  request: StatusRequest,
  env: NodeJS.ProcessEnv,
): Promise<{ deps: CoverageDeps; close: () => Promise<void> }> {
  const region = config.aws.homeRegion;
  const falcon = await falconClientFor(config, env);
  const { ecrNames } = await import('../infra/features/ecr/names.js');
  const runsTable =
    request.runsTable !== undefined &&
    request.runsTable !== '' &&
    settings.features.eksProtection !== undefined
      ? {
          doc: DynamoDBDocumentClient.from(createClient(DynamoDBClient, { region })),
          tableName: request.runsTable,
        }
      : undefined;
  const deps0 = createCoverageDeps({
    partition: settings.partition,
    homeRegion: region,
    readRoleName: settings.readRoleName,
    ownershipParameterName: ecrNames(config).ownershipParameter,
    organizations: createClient(OrganizationsClient, { region, maxAttempts: 10 }),
    sts: createClient(STSClient, { region }),
    falcon,
    ...(runsTable !== undefined ? { runsTable } : {}),
  });
  // EKS protection is deployed but its runs table was not named: the clusters' results are unread
  // (unknown), not "not deployed" (unprotected).
  const deps: CoverageDeps =
    runsTable === undefined &&
    settings.features.eksProtection !== undefined &&
    config.features.eksProtection.enabled
      ? { ...deps0, runsTable: { list: () => Promise.reject(new CoverageError(RUNS_TABLE_NOT_GIVEN)) } }
      : deps0;
  return { deps, close: () => falcon.close() };
}

/** The coverage client (`falcon.clients.coverage`, else `falcon.credentials`), from the environment or its secret. */
async function falconClientFor(config: ResolvedConfig, env: NodeJS.ProcessEnv): Promise<FalconClient> {
  const { clientId, clientSecret } = await readFalconClient(resolveFalconClient(config.falcon, 'coverage'), {
    env,
    secrets: () =>
      new SecretsManagerReader(createClient(SecretsManagerClient, { region: config.aws.homeRegion })),
  });
  return createFalconClient({
    baseUrl: config.derived.falconBaseUrl,
    cloud: config.falcon.cloud,
    credentials: { clientId, clientSecret },
  });
}
