/**
 * The organization every coverage test reads: one account per situation, and the Falcon tenant and
 * EKS runs table that go with it.
 *
 * | account | us-east-1 | us-west-2 |
 * |---|---|---|
 * | 111111111111 prod | SSM partial (protected, installed-not-reporting, not SSM-managed); ECR owned + connected; EKS one protected (its node web-1 reports), one ineligible | SSM protected; ECR paused (disconnected); no clusters |
 * | 222222222222 dev (nested OU) | SSM all not SSM-managed; ECR no connection; EKS not deployed | no instances; ECR someone else's connection |
 * | 333333333333 locked | coverage role not assumable → unknown | unknown |
 * | 444444444444 suspended, 555555555555 excluded | not in scope | |
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { STSClient } from '@aws-sdk/client-sts';
import { createCoverageDeps } from '../../src/coverage/aws-deps.js';
import type { CoverageDeps, CoverageOptions } from '../../src/coverage/model.js';
import { DynamoRunsTable } from '../../src/eks/runs-table.js';
import type { RunResult } from '../../src/eks/run-contract.js';
import type { FalconClient } from '../../src/falcon/index.js';
import { FakeDynamoTable } from '../eks/fake-dynamo.js';
import type { FakeFalconServer } from '../fakes/falcon-server.js';
import { clientFor } from '../falcon/helpers.js';
import {
  ASSOCIATION_NAME,
  DEPLOYMENT_ID,
  FakeOrganization,
  HOME_REGION,
  OWNERSHIP_PARAMETER,
  PARTITION,
  READ_ROLE,
} from './org-harness.js';

export const PROD = '111111111111';
export const DEV = '222222222222';
export const LOCKED = '333333333333';
export const SUSPENDED = '444444444444';
export const EXCLUDED = '555555555555';
export const ROOT = 'r-ab12';
export const OU = 'ou-ab12-11111111';
export const NESTED_OU = 'ou-ab12-22222222';
export const REGIONS = ['us-east-1', 'us-west-2'];
export const NOW = new Date('2026-11-29T12:00:00Z');
export const RUNS_TABLE = 'falcon-org-eks-runs';
/** Falcon's ID of prod-eks (`k8s_cluster_id` of its nodes). */
export const PROD_EKS_FALCON_ID = '5a1e0c2f7b3d4e8f9a0b1c2d3e4f5a6b';

export interface Fixture {
  readonly org: FakeOrganization;
  readonly runs: FakeDynamoTable;
  readonly falcon: FalconClient;
  readonly deps: CoverageDeps;
  readonly options: CoverageOptions;
  /** IDs of the seeded registry connections. */
  readonly connections: Readonly<Record<string, string>>;
  restore(): void;
}

function runResult(
  account: string,
  region: string,
  cluster: string,
  outcome: RunResult['outcome'],
): RunResult {
  return {
    runId: `run-${cluster}`,
    accountId: account,
    region,
    cluster,
    mode: 'install',
    outcome,
    components: [
      { name: 'operator', version: '1.5.0', status: 'applied' },
      { name: 'FalconNodeSensor', status: 'applied' },
    ],
    startedAt: '2026-11-29T10:00:00Z',
    finishedAt: '2026-11-29T10:05:00Z',
    durationsMs: { apply: 5000 },
  };
}

export async function buildFixture(fake: FakeFalconServer): Promise<Fixture> {
  const org = new FakeOrganization();
  fake.hosts.now = () => NOW;
  // prod, at the root, is the management account (read like the others: the root is targeted).
  org.managementAccountId = PROD;
  org.ous.set(ROOT, [OU]);
  org.ous.set(OU, [NESTED_OU]);

  // Falcon: registry connections and hosts.
  const prodEast = fake.addConnection({
    url: `https://${PROD}.dkr.ecr.us-east-1.amazonaws.com`,
    alias: 'falcon-org',
  });
  prodEast.state = 'enabled';
  const prodWest = fake.addConnection({
    url: `https://${PROD}.dkr.ecr.us-west-2.amazonaws.com`,
    alias: 'falcon-org',
  });
  prodWest.state = 'paused';
  const devWest = fake.addConnection({
    url: `https://${DEV}.dkr.ecr.us-west-2.amazonaws.com`,
    alias: 'someone else',
  });
  devWest.state = 'enabled';
  // web-1 is also the one EC2 node of prod-eks: Falcon gives its cluster's Falcon ID, never a name.
  fake.hosts.add({
    instance_id: 'i-0a000000000000001',
    service_provider_account_id: PROD,
    hostname: 'web-1',
    zone_group: 'us-east-1a',
    k8s_cluster_id: PROD_EKS_FALCON_ID,
    k8s_cluster_version: '1.31',
  });
  fake.hosts.add({
    instance_id: 'i-0a000000000000004',
    service_provider_account_id: PROD,
    hostname: 'api-1',
    zone_group: 'us-west-2b',
  });
  // A node of prod-eks that was replaced: Falcon still lists it, but its instance no longer runs.
  fake.hosts.add({
    instance_id: 'i-0a0000000000000e1',
    service_provider_account_id: PROD,
    hostname: 'node-1',
    k8s_cluster_id: PROD_EKS_FALCON_ID,
  });
  // The same instance ID in another account must not count for prod.
  fake.hosts.add({
    instance_id: 'i-0a000000000000002',
    service_provider_account_id: '999999999999',
    hostname: 'elsewhere',
  });

  org.addAccount({
    id: PROD,
    name: 'prod',
    parent: ROOT,
    regions: {
      'us-east-1': {
        association: { id: 'assoc-prod-east', status: 'Success' },
        instances: [
          {
            id: 'i-0a000000000000001',
            name: 'web-1',
            ssm: 'Online',
            compliance: 'COMPLIANT',
            eksCluster: 'prod-eks',
          },
          { id: 'i-0a000000000000002', name: 'web-2', ssm: 'Online', compliance: 'COMPLIANT' },
          { id: 'i-0a000000000000003', name: 'batch-1' },
        ],
        clusters: ['prod-eks', 'legacy'],
      },
      'us-west-2': {
        association: { id: 'assoc-prod-west', status: 'Success' },
        instances: [{ id: 'i-0a000000000000004', name: 'api-1', ssm: 'Online', compliance: 'COMPLIANT' }],
        clusters: [],
      },
    },
    ownership: {
      version: 1,
      deploymentId: DEPLOYMENT_ID,
      accountId: PROD,
      connections: { 'us-east-1': prodEast.id, 'us-west-2': prodWest.id },
      pending: [],
    },
  });
  org.addAccount({
    id: DEV,
    name: 'dev',
    parent: NESTED_OU,
    regions: {
      'us-east-1': {
        association: { id: 'assoc-dev-east', status: 'Success' },
        instances: [{ id: 'i-0b000000000000001', name: 'dev-box' }],
        clusters: ['dev-eks'],
      },
      'us-west-2': { association: { id: 'assoc-dev-west', status: 'Success' }, instances: [], clusters: [] },
    },
  });
  org.addAccount({
    id: LOCKED,
    name: 'locked',
    parent: OU,
    assumable: false,
    regions: { 'us-east-1': { instances: [], clusters: [] }, 'us-west-2': { instances: [], clusters: [] } },
  });
  org.addAccount({ id: SUSPENDED, name: 'gone', parent: OU, state: 'SUSPENDED', regions: {} });
  org.addAccount({ id: EXCLUDED, name: 'sandbox', parent: ROOT, regions: {} });

  // EKS runs table, written the way discovery and the deployer write it.
  const runs = new FakeDynamoTable(RUNS_TABLE);
  const table = new DynamoRunsTable(runs.client, RUNS_TABLE, { now: () => NOW.getTime() });
  const prodEks = { accountId: PROD, region: 'us-east-1', cluster: 'prod-eks' };
  await table.recordVerdict(prodEks, {
    kind: 'eligible',
    code: 'eligible',
    reason: 'API access, public endpoint, nodes',
  });
  await table.takeLock(prodEks, 'run-prod-eks', 900);
  await table.releaseLock(runResult(PROD, 'us-east-1', 'prod-eks', 'protected'));
  await table.recordVerdict(
    { accountId: PROD, region: 'us-east-1', cluster: 'legacy' },
    {
      kind: 'ineligible',
      code: 'config-map-auth',
      reason: 'The cluster only accepts aws-auth ConfigMap authentication; switch it to API_AND_CONFIG_MAP.',
    },
  );

  const { client: falcon } = clientFor(fake);
  const deps = createCoverageDeps({
    partition: PARTITION,
    homeRegion: HOME_REGION,
    readRoleName: READ_ROLE,
    ownershipParameterName: OWNERSHIP_PARAMETER,
    organizations: new OrganizationsClient({ region: HOME_REGION }),
    sts: new STSClient({ region: HOME_REGION }),
    falcon,
    runsTable: { doc: runs.client, tableName: RUNS_TABLE },
    now: () => NOW,
  });
  const options: CoverageOptions = {
    scope: { partition: PARTITION, homeRegion: HOME_REGION, targets: [ROOT], excludeAccounts: [EXCLUDED] },
    features: { ssmDistributor: REGIONS, ecrConnections: 'enabled', eksProtection: REGIONS },
    associationName: ASSOCIATION_NAME,
    deploymentId: DEPLOYMENT_ID,
    concurrency: 2,
  };
  return {
    org,
    runs,
    falcon,
    deps,
    options,
    connections: { prodEast: prodEast.id, prodWest: prodWest.id, devWest: devWest.id },
    restore: () => {
      org.restore();
      runs.reset();
    },
  };
}
