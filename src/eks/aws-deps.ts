/**
 * The adapters of the EKS functions, created in one place: Organizations (scope), STS (member
 * credentials, once per account), Account (enabled regions), EKS per account and region, DynamoDB
 * (runs table), CodeBuild in the HOME region (runs) and SQS (spreading discovery). Every client
 * honours the SDK's own endpoint settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).
 *
 * Member-account clients make ONE attempt per call (`maxAttempts: 1`): throttling is retried by the
 * adaptive fan-out, which also lowers that account's concurrency; SDK retries on top would multiply.
 */
import { AccountClient } from '@aws-sdk/client-account';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AccountCredentials, StsRoleAssumer, type CredentialProvider } from '../aws/account-credentials.js';
import {
  AccountApiEnabledRegions,
  StaticEnabledRegions,
  type EnabledRegions,
} from '../aws/account-regions.js';
import { OrganizationsDirectory } from '../aws/organizations-directory.js';
import { ScopeCache } from '../aws/scope-cache.js';
import { PARTITIONS } from '../config/partitions.js';
import { RunsTableBuildCapacity, ServiceQuotasReader, type BuildCapacity } from './build-capacity.js';
import type { EksFunctionSettings } from './run-contract.js';
import { SdkClusterApi, type ClusterApi } from './cluster-api.js';
import { SqsDiscoveryQueue, type DiscoveryQueue } from './discovery-queue.js';
import { DynamoRunsTable, type RunStateTable, type RunsTable } from './runs-table.js';
import { CodeBuildStarter, RunStarter } from './start-run.js';

/** What the wiring needs of the functions' environment (read by src/handlers/shared/eks-environment.ts). */
export interface EksWiringSettings {
  readonly settings: EksFunctionSettings;
  readonly runsTable: string;
  readonly deployerProject: string;
  readonly discoveryQueueUrl?: string;
}

/** Everything the discover and event cores need, wired. */
export interface EksServices {
  readonly credentials: AccountCredentials;
  readonly enabledRegions: EnabledRegions;
  readonly clusterApi: (accountId: string, region: string, credentials: CredentialProvider) => ClusterApi;
  readonly table: RunsTable & RunStateTable;
  readonly runs: RunStarter;
  readonly scope: ScopeCache;
  readonly queue?: DiscoveryQueue;
  /** Paces a sweep's builds to the CodeBuild quota (or `rollout.concurrentBuilds`). */
  readonly capacity: BuildCapacity;
}

/** Home-account clients, created once per module (warm invocations reuse them). */
export interface EksHomeClients {
  readonly sts: STSClient;
  readonly organizations: OrganizationsClient;
  readonly dynamo: DynamoDBClient;
  readonly codeBuild: CodeBuildClient;
  readonly sqs: SQSClient;
  /** Reads the CodeBuild concurrent-build quota (when `rollout.concurrentBuilds` does not set it). */
  readonly serviceQuotas: ServiceQuotasClient;
}

export function createEksHomeClients(homeRegion: string): EksHomeClients {
  return {
    sts: new STSClient({ region: homeRegion }),
    // Organizations allows a few calls per second per account: give it room to back off.
    organizations: new OrganizationsClient({ region: homeRegion, maxAttempts: 10, retryMode: 'adaptive' }),
    dynamo: new DynamoDBClient({ region: homeRegion }),
    codeBuild: new CodeBuildClient({ region: homeRegion }), // the project exists only here
    sqs: new SQSClient({ region: homeRegion }),
    serviceQuotas: new ServiceQuotasClient({ region: homeRegion }),
  };
}

export function createEksServices(
  env: EksWiringSettings,
  home: EksHomeClients,
  sessionName: string,
): EksServices {
  const { settings } = env;
  const table = new DynamoRunsTable(
    DynamoDBDocumentClient.from(home.dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    env.runsTable,
  );
  const credentials = new AccountCredentials(new StsRoleAssumer(home.sts), {
    roleArn: (account) => `arn:${settings.partition}:iam::${account}:role/${settings.executionRoleName}`,
    sessionName,
  });
  // Clients are made when an account's work needs them and dropped after it (not cached: 1,000
  // accounts × 17 regions of cached clients would not fit a Lambda); they share the account's
  // credential provider, so the role is still assumed once per account.
  return {
    credentials,
    table,
    enabledRegions:
      settings.partition === 'aws-us-gov'
        ? new StaticEnabledRegions(PARTITIONS['aws-us-gov'].regions)
        : new AccountApiEnabledRegions(
            (_accountId, provider) =>
              new AccountClient({ region: settings.homeRegion, credentials: provider, maxAttempts: 1 }),
          ),
    clusterApi: (_accountId, region, provider) =>
      new SdkClusterApi(new EKSClient({ region, credentials: provider, maxAttempts: 1 })),
    runs: new RunStarter(table, new CodeBuildStarter(home.codeBuild, env.deployerProject), {
      partition: settings.partition,
      executionRoleName: settings.executionRoleName,
      lockTtlSeconds: settings.lockTtlSeconds,
    }),
    scope: new ScopeCache(new OrganizationsDirectory(home.organizations), {
      targets: settings.targets,
      excludeAccounts: settings.excludeAccounts,
    }),
    capacity: new RunsTableBuildCapacity(table, new ServiceQuotasReader(home.serviceQuotas), {
      ...(settings.concurrentBuilds !== undefined ? { override: settings.concurrentBuilds } : {}),
    }),
    ...(env.discoveryQueueUrl ? { queue: new SqsDiscoveryQueue(home.sqs, env.discoveryQueueUrl) } : {}),
  };
}
