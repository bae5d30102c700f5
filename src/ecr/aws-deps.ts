import { AccountClient } from '@aws-sdk/client-account';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { PartitionName } from '../config/partitions.js';
import { createFalconClient, type FalconClientOptions } from '../falcon/client.js';
import type { FalconEventListener } from '../falcon/events.js';
import type { EcrConnectDeps } from './connect.js';
import { regionDirectoryFor } from './regions.js';
import { SecretsManagerReader } from './secrets.js';
import { SsmOwnershipStore } from './ssm-ownership-store.js';

/** The AWS SDK clients the ECR reconcile uses; create once, pass around. */
export interface EcrAwsClients {
  readonly secretsManager: SecretsManagerClient;
  readonly ssm: SSMClient;
  /** Created on first use (only when every enabled region must be discovered). */
  readonly account: () => AccountClient;
}

/**
 * Clients with the SDK's default configuration: region and credentials from the Lambda environment, and
 * endpoints from the SDK's own settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SSM, …), never hard-coded.
 */
export function createEcrAwsClients(): EcrAwsClients {
  let account: AccountClient | undefined;
  return {
    secretsManager: new SecretsManagerClient({}),
    ssm: new SSMClient({}),
    account: () => (account ??= new AccountClient({})),
  };
}

/** Wires the adapters: Secrets Manager, the SSM ownership record, region discovery and the Falcon client. */
export function createEcrConnectDeps(
  clients: EcrAwsClients,
  ownershipParameterName: string,
  partition: PartitionName,
  onFalconEvent: FalconEventListener,
  /** Timeouts, retry policy, clock or fetch for the Falcon client (tests, tuning). */
  falconOptions: Partial<Omit<FalconClientOptions, 'credentials' | 'cloud' | 'baseUrl'>> = {},
): EcrConnectDeps {
  return {
    secrets: new SecretsManagerReader(clients.secretsManager),
    ownership: new SsmOwnershipStore(clients.ssm, ownershipParameterName),
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
