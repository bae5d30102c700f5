/**
 * The coverage readers over HTTP: the real SDK clients against the AWS stand-in (test/fakes/aws),
 * reached through the SDK's own AWS_ENDPOINT_URL. What is checked here is what only the wire shows:
 * the documented request and answer shapes of association compliance, how many tries a throttled call
 * costs, and how many connections the clients of many accounts open.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StaticEnabledRegions } from '../../src/aws/account-regions.js';
import { createCoverageDeps } from '../../src/coverage/aws-deps.js';
import { buildCoverageReport, CALL_ATTEMPTS } from '../../src/coverage/build.js';
import type { CoverageDeps } from '../../src/coverage/model.js';
import type { FalconClient } from '../../src/falcon/client.js';
import type { ModelInstance, ModelRegion } from '../fakes/aws/model.js';
import { plainOrg, type PlainAccount } from '../fakes/aws/plain-org.js';
import { AwsStandIn } from '../fakes/aws/server.js';

const HOME = 'us-east-1';
const ASSOCIATION = {
  id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  name: 'falcon-org-falcon-sensor',
  status: 'Success',
};
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];

function region(instances: ModelInstance[]): ModelRegion {
  return { instances, association: ASSOCIATION, clusters: [] };
}

function member(n: number, regions: Record<string, ModelRegion>): PlainAccount {
  return { id: String(200000000000 + n), name: `member-${n}`, parent: 'r-ab12', regions };
}

const FIRST = member(0, {
  'us-east-1': region([
    { id: 'i-0000000000000000a', ssm: 'Online', association: 'Success' },
    { id: 'i-0000000000000000b', ssm: 'Online', association: 'Failed' },
    // This association succeeded; another one on the instance failed: the summary says NON_COMPLIANT.
    { id: 'i-0000000000000000c', ssm: 'Online', association: 'Success', otherAssociationFailed: true },
    { id: 'i-0000000000000000d', ssm: 'Online', association: 'Pending' },
    { id: 'i-0000000000000000e', ssm: 'Online' },
    { id: 'i-0000000000000000f' },
  ]),
});
const OTHERS = Array.from({ length: 19 }, (_, i) =>
  member(
    i + 1,
    Object.fromEntries(
      REGIONS.map((r) => [
        r,
        region([{ id: `i-${String(i).padStart(17, '1')}`, ssm: 'Online', association: 'Success' }]),
      ]),
    ),
  ),
);

const model = plainOrg({ accounts: [FIRST, ...OTHERS] });
let aws: AwsStandIn;
const saved = { ...process.env };

beforeAll(async () => {
  aws = await AwsStandIn.start(model);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: 'AKIDHOMEEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'test-only',
    AWS_REGION: HOME,
  });
});
afterAll(async () => {
  process.env = saved;
  await aws.close();
});
beforeEach(() => aws.reset());

function deps(): CoverageDeps {
  return createCoverageDeps({
    partition: 'aws',
    homeRegion: HOME,
    readRoleName: 'falcon-org-coverage-read',
    ownershipParameterName: '/falcon-org/ecr-connections/ownership',
    organizations: new OrganizationsClient({ region: HOME }),
    sts: new STSClient({ region: HOME }),
    falcon: { api: {}, registryConnections: {}, close: () => Promise.resolve() } as unknown as FalconClient,
    enabledRegions: new StaticEnabledRegions(REGIONS),
  });
}

describe('association compliance, read as the API reference documents it', () => {
  it('one ListResourceComplianceSummaries page for the region, then one status call per NON_COMPLIANT instance', async () => {
    const reader = await deps().readers.open({ id: FIRST.id });
    const compliance = await reader.associationCompliance('us-east-1', ASSOCIATION.id);
    expect([...compliance].sort((a, b) => a.instanceId.localeCompare(b.instanceId))).toEqual([
      { instanceId: 'i-0000000000000000a', status: 'COMPLIANT' },
      { instanceId: 'i-0000000000000000b', status: 'NON_COMPLIANT' },
      // Another association failed there, not this one.
      { instanceId: 'i-0000000000000000c', status: 'COMPLIANT' },
    ]);
    expect(aws.count('ssm.ListResourceComplianceSummaries')).toBe(1);
    expect(aws.count('ssm.DescribeInstanceAssociationsStatus')).toBe(2);
    // The per-resource call documented for one resource ID at a time is not used.
    expect(aws.count('ssm.ListComplianceItems')).toBe(0);
  });

  it('follows the summaries across pages (50 a page)', async () => {
    const many: ModelInstance[] = Array.from({ length: 120 }, (_, i) => ({
      id: `i-${String(i).padStart(17, '0')}`,
      ssm: 'Online',
      association: 'Success',
    }));
    model.accounts.set('300000000000', {
      id: '300000000000',
      name: 'big',
      parent: 'ou-none',
      regions: { 'us-east-1': region(many) },
    });
    try {
      const reader = await deps().readers.open({ id: '300000000000' });
      expect(await reader.associationCompliance('us-east-1', ASSOCIATION.id)).toHaveLength(120);
      expect(aws.count('ssm.ListResourceComplianceSummaries')).toBe(3);
    } finally {
      model.accounts.delete('300000000000');
    }
  });
});

describe('retries in one layer', () => {
  it(`a call that is throttled every time is tried ${CALL_ATTEMPTS} times, not SDK attempts × budget attempts`, async () => {
    aws.throttles.set('ec2.DescribeInstances', Infinity);
    const report = await buildCoverageReport(
      { ...deps(), falconHosts: { hostsInAccount: () => Promise.resolve([]) } },
      {
        scope: { partition: 'aws', homeRegion: HOME, targets: ['r-ab12'], excludeAccounts: [] },
        features: { ssmDistributor: ['us-east-1'] },
        associationName: ASSOCIATION.name,
        deploymentId: 'falcon-org',
        accounts: [FIRST.id],
      },
    );
    expect(aws.count('ec2.DescribeInstances', FIRST.id)).toBe(CALL_ATTEMPTS);
    expect(report.cells[0]?.state).toBe('unknown');
    expect(report.cells[0]?.reasons[0]?.text).toContain('still throttled');
  }, 60_000);

  it('each SDK client makes one attempt: the throttled answer goes to the budget that retries it', async () => {
    aws.throttles.clear();
    aws.denials.clear();
    aws.throttles.set('ssm.DescribeInstanceInformation', 2);
    const reader = await deps().readers.open({ id: FIRST.id });
    await expect(reader.managedInstances('us-east-1')).rejects.toMatchObject({ name: 'ThrottlingException' });
    // One SDK attempt per call: the throttled answer reaches the caller (whose budget retries it).
    expect(aws.count('ssm.DescribeInstanceInformation')).toBe(1);
  });
});

describe('connections', () => {
  it('the clients of every account and region share one keep-alive pool', async () => {
    const report = await buildCoverageReport(
      { ...deps(), falconHosts: { hostsInAccount: () => Promise.resolve([]) } },
      {
        scope: { partition: 'aws', homeRegion: HOME, targets: ['r-ab12'], excludeAccounts: [] },
        features: { ssmDistributor: REGIONS, eksProtection: REGIONS },
        associationName: ASSOCIATION.name,
        deploymentId: 'falcon-org',
        concurrency: 4,
      },
    );
    // The 20 accounts read, and the stand-in's management account (outside its listing) listed as excluded.
    expect(report.accounts.filter((a) => a.excluded !== true)).toHaveLength(20);
    expect(report.accounts.filter((a) => a.excluded === true).map((a) => a.id)).toEqual(['999999999999']);
    // 20 accounts × 3 regions × 2 services of clients (120 with their own pools before); the shared pool
    // opens what the concurrency needs.
    expect(aws.total).toBeGreaterThan(200);
    expect(aws.connections).toBeLessThan(40);
  }, 60_000);
});
