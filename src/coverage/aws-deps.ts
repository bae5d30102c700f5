import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AccountCredentials, StsRoleAssumer } from '../aws/account-credentials.js';
import type { EnabledRegions } from '../aws/account-regions.js';
import { OrganizationsDirectory } from '../aws/organizations-directory.js';
import { DynamoRunsTable } from '../eks/runs-table.js';
import type { FalconClient } from '../falcon/client.js';
import { FalconHosts } from '../falcon/hosts.js';
import { AwsAccountReaders } from './aws-readers.js';
import { FalconHostsAdapter, RegistryConnectionsAdapter } from './falcon-ports.js';
import type { CoverageDeps } from './model.js';

export interface CoverageWiring {
  readonly partition: string;
  readonly homeRegion: string;
  /** Name of the read-only coverage role in every member account. */
  readonly readRoleName: string;
  /** The ECR ownership parameter (src/infra/features/ecr/names.ts). */
  readonly ownershipParameterName: string;
  /** Shows in each member account's CloudTrail. @default "falcon-org-coverage" */
  readonly sessionName?: string;
  readonly organizations: OrganizationsClient;
  /** STS in the home region (regional endpoint). */
  readonly sts: STSClient;
  readonly falcon: FalconClient;
  /** The EKS runs table, when EKS protection is deployed. */
  readonly runsTable?: { readonly doc: DynamoDBDocumentClient; readonly tableName: string };
  /** For GovCloud or tests: a fixed region list instead of account:ListRegions. */
  readonly enabledRegions?: EnabledRegions;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * Wires the coverage ports: Organizations (scope), the coverage role per account (AWS SDK v3), the
 * Falcon hosts and registry-connection APIs, and the runs table. The CLI and the scheduled function
 * both call this, then `buildCoverageReport`.
 */
export function createCoverageDeps(w: CoverageWiring): CoverageDeps {
  const credentials = new AccountCredentials(new StsRoleAssumer(w.sts), {
    roleArn: (account) => `arn:${w.partition}:iam::${account}:role/${w.readRoleName}`,
    sessionName: w.sessionName ?? 'falcon-org-coverage',
  });
  return {
    directory: new OrganizationsDirectory(w.organizations),
    readers: new AwsAccountReaders(credentials, {
      homeRegion: w.homeRegion,
      ownershipParameterName: w.ownershipParameterName,
      ...(w.enabledRegions !== undefined ? { enabledRegions: w.enabledRegions } : {}),
    }),
    falconHosts: new FalconHostsAdapter(new FalconHosts(w.falcon.api)),
    registries: new RegistryConnectionsAdapter(w.falcon.registryConnections),
    ...(w.runsTable !== undefined
      ? { runsTable: new DynamoRunsTable(w.runsTable.doc, w.runsTable.tableName) }
      : {}),
    now: w.now ?? (() => new Date()),
  };
}
