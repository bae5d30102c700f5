import { ECRClient, type ECRClientConfig } from '@aws-sdk/client-ecr';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';

import { partitionOfRegion } from '../config/partitions.js';

/** Credentials (or a provider of them) as an ECR client takes them. */
export type EcrCredentials = NonNullable<ECRClientConfig['credentials']>;

export interface EcrClientsOptions {
  /**
   * Role to assume in each account, with `{accountId}` and `{partition}` placeholders, e.g.
   * `arn:{partition}:iam::{accountId}:role/FalconOrgCatalogReader`. Absent: the default credential
   * chain is used for every account (fine for the caller's own account).
   */
  readonly roleArnPattern?: string;
  /** @default 'falcon-org-catalog' */
  readonly roleSessionName?: string;
  /** Builds one ECR client; injected in tests. Endpoint settings (AWS_ENDPOINT_URL_ECR) apply by default. */
  readonly createClient?: (config: { region: string; credentials?: EcrCredentials }) => ECRClient;
  /** Builds the assume-role credential provider; injected in tests. @default fromTemporaryCredentials */
  readonly assumeRole?: (roleArn: string, sessionName: string, region: string) => EcrCredentials;
}

/** AWS partition of a region (`aws`, `aws-us-gov`, `aws-cn`) for building role ARNs. */
export function partitionFor(region: string): string {
  return partitionOfRegion(region) ?? (region.startsWith('cn-') ? 'aws-cn' : 'aws');
}

/** The role ARN for an account from a pattern with `{accountId}` and `{partition}`. */
export function roleArnFor(pattern: string, accountId: string, region: string): string {
  return pattern.replaceAll('{accountId}', accountId).replaceAll('{partition}', partitionFor(region));
}

/**
 * ECR clients, one per account × region, and credentials, one provider per account (assumed
 * role, cached and refreshed by the SDK), shared by every EcrRegistrySource of a run.
 */
export class EcrClients {
  private readonly clients = new Map<string, ECRClient>();
  private readonly credentials = new Map<string, EcrCredentials>();

  constructor(private readonly options: EcrClientsOptions = {}) {}

  /** The role assumed for an account, if a pattern is configured. */
  roleArn(accountId: string, region: string): string | undefined {
    return this.options.roleArnPattern
      ? roleArnFor(this.options.roleArnPattern, accountId, region)
      : undefined;
  }

  client(accountId: string, region: string): ECRClient {
    const key = `${accountId}/${region}`;
    let client = this.clients.get(key);
    if (!client) {
      const credentials = this.credentialsFor(accountId, region);
      const config = { region, ...(credentials ? { credentials } : {}) };
      client = this.options.createClient ? this.options.createClient(config) : new ECRClient(config);
      this.clients.set(key, client);
    }
    return client;
  }

  /** Releases the clients' sockets. */
  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private credentialsFor(accountId: string, region: string): EcrCredentials | undefined {
    const roleArn = this.roleArn(accountId, region);
    if (!roleArn) return undefined;
    let provider = this.credentials.get(accountId);
    if (!provider) {
      const session = this.options.roleSessionName ?? 'falcon-org-catalog';
      provider = this.options.assumeRole
        ? this.options.assumeRole(roleArn, session, region)
        : fromTemporaryCredentials({
            params: { RoleArn: roleArn, RoleSessionName: session },
            clientConfig: { region },
          });
      this.credentials.set(accountId, provider);
    }
    return provider;
  }
}
