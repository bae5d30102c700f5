import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  type Trail,
} from '@aws-sdk/client-cloudtrail';
import { CloudFormationClient, DescribeOrganizationsAccessCommand } from '@aws-sdk/client-cloudformation';
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import {
  checkOrganizationTrail,
  type OrganizationTrailExpectation,
} from '../../src/aws/organization-trail.js';
import { runPreflight } from '../../src/aws/preflight.js';

const cloudTrail = mockClient(CloudTrailClient);

afterEach(() => {
  cloudTrail.reset();
});

const client = () => new CloudTrailClient({ region: 'us-east-1' });
const expectation: OrganizationTrailExpectation = {
  regions: ['us-east-1', 'us-west-2'],
  createdByDeployment: false,
  schedule: 'rate(1 day)',
};

const ORG_TRAIL: Trail = {
  Name: 'org-trail',
  TrailARN: 'arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail',
  HomeRegion: 'us-east-1',
  IsOrganizationTrail: true,
  IsMultiRegionTrail: true,
};

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

describe('organization trail pre-flight check', () => {
  it('is satisfied by a multi-region organization trail logging all management events', async () => {
    // Prepare: a shadow of the management account's organization trail and a local trail.
    cloudTrail.on(DescribeTrailsCommand).resolves({
      trailList: [{ Name: 'local', IsOrganizationTrail: false, IsMultiRegionTrail: true }, ORG_TRAIL],
    });
    cloudTrail
      .on(GetEventSelectorsCommand, { TrailName: ORG_TRAIL.TrailARN })
      .resolves({ EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }] });
    // Act
    const finding = await checkOrganizationTrail(client(), expectation);
    // Assess
    expect(finding).toEqual({
      check: 'organizationTrail',
      severity: 'ok',
      message: 'organization trail org-trail logs EKS management events in us-east-1, us-west-2',
    });
    expect(cloudTrail.commandCalls(DescribeTrailsCommand)[0]?.args[0].input).toEqual({
      includeShadowTrails: true,
    });
    // The local trail is not an organization trail: its selectors are not even read.
    expect(cloudTrail.commandCalls(GetEventSelectorsCommand)).toHaveLength(1);
  });

  it('warns, naming the fix and the schedule new clusters then wait for, when there is no organization trail', async () => {
    cloudTrail.on(DescribeTrailsCommand).resolves({
      trailList: [{ Name: 'local', IsOrganizationTrail: false, IsMultiRegionTrail: true }],
    });
    const finding = await checkOrganizationTrail(client(), expectation);
    expect(finding.severity).toBe('warning');
    expect(finding.message).toMatch(
      /^no organization trail logs write management events of EKS in us-east-1, us-west-2/,
    );
    expect(finding.message).toContain('scheduled discovery (rate(1 day))');
    expect(finding.message).toContain('features.eksProtection.createOrganizationTrail: true');
  });

  it.each([
    [
      'read-only management events',
      { EventSelectors: [{ ReadWriteType: 'ReadOnly' as const, IncludeManagementEvents: true }] },
    ],
    [
      'data events only',
      { EventSelectors: [{ ReadWriteType: 'All' as const, IncludeManagementEvents: false }] },
    ],
    [
      'advanced selectors for read-only management events',
      {
        AdvancedEventSelectors: [
          {
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Management'] },
              { Field: 'readOnly', Equals: ['true'] },
            ],
          },
        ],
      },
    ],
    [
      'advanced selectors excluding EKS',
      {
        AdvancedEventSelectors: [
          {
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Management'] },
              { Field: 'eventSource', NotEquals: ['eks.amazonaws.com'] },
            ],
          },
        ],
      },
    ],
    [
      'advanced selectors for data events only',
      { AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }] }] },
    ],
  ])('warns when the organization trail logs %s', async (_, selectors) => {
    cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: [ORG_TRAIL] });
    cloudTrail.on(GetEventSelectorsCommand).resolves(selectors);
    const finding = await checkOrganizationTrail(client(), expectation);
    expect(finding.severity).toBe('warning');
    expect(finding.message).toMatch(/^no organization trail logs/);
  });

  it('accepts advanced selectors that log write management events', async () => {
    cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: [ORG_TRAIL] });
    cloudTrail.on(GetEventSelectorsCommand).resolves({
      AdvancedEventSelectors: [
        {
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'readOnly', Equals: ['false'] },
          ],
        },
      ],
    });
    expect((await checkOrganizationTrail(client(), expectation)).severity).toBe('ok');
  });

  it('counts a single-region organization trail only for its own region', async () => {
    const single = { ...ORG_TRAIL, IsMultiRegionTrail: false };
    cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: [single] });
    cloudTrail.on(GetEventSelectorsCommand).resolves({ EventSelectors: [{ ReadWriteType: 'WriteOnly' }] });
    expect((await checkOrganizationTrail(client(), expectation)).severity).toBe('warning');
    expect(
      (await checkOrganizationTrail(client(), { ...expectation, regions: ['us-east-1'] })).severity,
    ).toBe('ok');
  });

  it('reports what it could not verify instead of guessing', async () => {
    cloudTrail.on(DescribeTrailsCommand).rejects(awsError('AccessDeniedException', 'not allowed'));
    const denied = await checkOrganizationTrail(client(), expectation);
    expect(denied).toEqual({
      check: 'organizationTrail',
      severity: 'warning',
      message:
        'could not list trails (cloudtrail:DescribeTrails: AccessDeniedException: not allowed); not verified',
    });
    cloudTrail.reset();
    cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: [ORG_TRAIL] });
    cloudTrail.on(GetEventSelectorsCommand).rejects(awsError('AccessDeniedException', 'no selectors'));
    const unreadable = await checkOrganizationTrail(client(), expectation);
    expect(unreadable.severity).toBe('warning');
    expect(unreadable.message).toMatch(
      /could not read the event selectors of organization trail\(s\) org-trail .*not verified/,
    );
  });

  it('asks nothing when the deployment creates the trail itself', async () => {
    const finding = await checkOrganizationTrail(client(), { ...expectation, createdByDeployment: true });
    expect(finding.severity).toBe('ok');
    expect(cloudTrail.calls()).toHaveLength(0);
  });

  it('is part of the deploy pre-flight when EKS Protection is enabled, with the home clients', async () => {
    // Prepare: an otherwise healthy management account without an organization trail.
    const sts = mockClient(STSClient);
    const ssm = mockClient(SSMClient);
    const cfn = mockClient(CloudFormationClient);
    const org = mockClient(OrganizationsClient);
    try {
      sts
        .on(GetCallerIdentityCommand)
        .resolves({ Account: '111111111111', Arn: 'arn:aws:iam::111111111111:role/Admin' });
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '30' } });
      org
        .on(DescribeOrganizationCommand)
        .resolves({ Organization: { Id: 'o-abcdefghij', MasterAccountId: '111111111111' } });
      cfn.on(DescribeOrganizationsAccessCommand).resolves({ Status: 'ENABLED' });
      cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: [] });
      // Act
      const result = await runPreflight(createHomeClients({ region: 'us-east-1' }), {
        partition: 'aws',
        homeRegion: 'us-east-1',
        accountType: 'management',
        organizationId: 'o-abcdefghij',
        organizationTrail: expectation,
      });
      // Assess: a warning, not an error; the deploy goes on.
      const trail = result.findings.filter((f) => f.check === 'organizationTrail');
      expect(trail.map((f) => f.severity)).toEqual(['warning']);
      expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
    } finally {
      sts.restore();
      ssm.restore();
      cfn.restore();
      org.restore();
    }
  });
});
