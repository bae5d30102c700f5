import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createClient } from '../aws/clients.js';
import { SecretsManagerReader } from '../aws/secrets.js';
import type { ResolvedConfig } from '../config/load.js';
import { ecrNames, ROOT_STACK_OUTPUTS, rootStackName } from '../config/names.js';
import { readFalconClient, resolveFalconClient } from '../falcon/credentials.js';
import { createFalconClient, type FalconClient } from '../falcon/index.js';
import { createCoverageDeps } from './aws-deps.js';
import { rootStackOutputs } from './deployed.js';
import { CoverageError } from './errors.js';
import type { CoverageDeps } from './model.js';
import type { StatusRequest } from './options.js';
import type { CoverageFunctionSettings } from './publish-environment.js';
import { coverageSettings } from './settings.js';

export { coverageOptionsFor, type StatusRequest } from './options.js';

const runsTableNotFound = (why: string): string =>
  `the EKS runs table was not found (${why}), so the clusters' run results were not read: pass --runs-table <name> (the DynamoDB runs table of EKS protection, home account)`;

/** The settings the scheduled function would get for this configuration. */
export function settingsFor(config: ResolvedConfig): Promise<CoverageFunctionSettings> {
  return Promise.resolve(coverageSettings(config));
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
  // EKS protection reported: the runs table named with --runs-table, else the root stack's output.
  const wantsRuns = settings.features.eksProtection !== undefined;
  let tableName = request.runsTable !== undefined && request.runsTable !== '' ? request.runsTable : undefined;
  let notFound = 'not given';
  if (wantsRuns && tableName === undefined && config.features.eksProtection.enabled) {
    const cfn = createClient(CloudFormationClient, { region });
    const stack = rootStackName(config);
    const found = await rootStackOutputs(cfn, stack);
    cfn.destroy();
    if ('outputs' in found) {
      tableName = found.outputs[ROOT_STACK_OUTPUTS.runsTable];
      if (tableName === undefined)
        notFound = `root stack ${stack} has no output ${ROOT_STACK_OUTPUTS.runsTable}`;
    } else {
      notFound = found.unreadable;
    }
  }
  const runsTable =
    tableName !== undefined && wantsRuns
      ? {
          doc: DynamoDBDocumentClient.from(createClient(DynamoDBClient, { region })),
          tableName,
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
      ? {
          ...deps0,
          runsTable: { list: () => Promise.reject(new CoverageError(runsTableNotFound(notFound))) },
        }
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
