import { AccountClient } from '@aws-sdk/client-account';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SecretsManagerReader } from '../aws/secrets.js';
import type { PartitionName } from '../config/partitions.js';
import { createFalconClient, type FalconClientOptions } from '../falcon/client.js';
import type { FalconEventListener } from '../falcon/events.js';
import type { EcrConnectDeps } from './connect.js';
import { regionDirectoryFor } from './regions.js';
import { AwsAccountLeftovers } from './leftovers.js';
import { SsmOwnershipStore } from './ssm-ownership-store.js';
import { leaseParameterName, SsmRunLease } from './ssm-run-lease.js';

/** The AWS SDK clients the ECR reconcile uses; create once, pass around. */
export interface EcrAwsClients {
  readonly secretsManager: SecretsManagerClient;
  readonly ssm: SSMClient;
  /** Created on first use (only when every enabled region must be discovered). */
  readonly account: () => AccountClient;
  /** Created on first use (only a purging Delete removes the function's log group). */
  readonly logs: () => CloudWatchLogsClient;
}

/** Where the handler keeps its state in the account. */
export interface EcrStateNames {
  readonly ownershipParameterName: string;
  /** The function's log group (removed by a purging Delete); none: it is left alone. */
  readonly logGroupName?: string;
}

/**
 * Clients with the SDK's default configuration: region and credentials from the Lambda environment, and
 * endpoints from the SDK's own settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SSM, …), never hard-coded.
 */
export function createEcrAwsClients(): EcrAwsClients {
  let account: AccountClient | undefined;
  let logs: CloudWatchLogsClient | undefined;
  return {
    secretsManager: new SecretsManagerClient({}),
    ssm: new SSMClient({}),
    account: () => (account ??= new AccountClient({})),
    logs: () => (logs ??= new CloudWatchLogsClient({})),
  };
}

/**
 * Wires the adapters: Secrets Manager, the SSM ownership record and run lease, region discovery, the
 * leftovers a purge removes, and the Falcon client.
 */
export function createEcrConnectDeps(
  clients: EcrAwsClients,
  names: EcrStateNames,
  partition: PartitionName,
  onFalconEvent: FalconEventListener,
  /** Timeouts, retry policy, clock or fetch for the Falcon client (tests, tuning). */
  falconOptions: Partial<Omit<FalconClientOptions, 'credentials' | 'cloud' | 'baseUrl'>> = {},
): EcrConnectDeps {
  return {
    secrets: new SecretsManagerReader(clients.secretsManager),
    ownership: new SsmOwnershipStore(clients.ssm, names.ownershipParameterName),
    lease: new SsmRunLease(clients.ssm, leaseParameterName(names.ownershipParameterName)),
    leftovers: new AwsAccountLeftovers(
      clients.ssm,
      clients.logs,
      leaseParameterName(names.ownershipParameterName),
      names.logGroupName,
    ),
    regionDirectory: regionDirectoryFor(partition, clients.account),
    createFalcon: (credentials) =>
      createFalconClient({
        cloud: credentials.cloud,
        ...(credentials.baseUrl ? { baseUrl: credentials.baseUrl } : {}),
        credentials: { clientId: credentials.clientId, clientSecret: credentials.clientSecret },
        onEvent: onFalconEvent,
        ...falconOptions,
      }),
  };
}
