import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeployerRunSettings } from '../../src/cluster/settings.js';
import { readEksEnvironment } from '../../src/handlers/shared/eks-environment.js';
import { EKS_FUNCTION_ENV, PROJECT_ENV, type EksFunctionSettings } from '../../src/eks/run-contract.js';
import { buildApp } from '../../src/infra/app.js';
import { MissingDeployerBundleError, MissingLambdaBundleError } from '../../src/infra/errors.js';
import { EksProtection } from '../../src/infra/features/eks-protection.js';
import { DEPLOYER_COMMAND } from '../../src/infra/features/eks/deployer-project.js';
import { DENIED_START_BUILD_OVERRIDES } from '../../src/infra/features/eks/start-build-policy.js';
import { runEnvironment } from '../../src/eks/start-run.js';
import { nagFindings } from '../../src/infra/nag.js';
import { OrgStackSet } from '../../src/infra/org-stackset.js';
import { rootRetainedOf } from '../../src/plan/after-destroy.js';
import { dummyLambdaDir, tempDir, testConfig, withDummyDeployer } from './helpers.js';
import { resolveJoin, type CfnValue } from './eks-template.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Lambda bundles of the two EKS functions and a deployer bundle next to them (content does not matter). */
function bundles(): string {
  const lambdaDir = withDummyDeployer(dummyLambdaDir('eks-discover', 'eks-event', 'coverage'));
  dirs.push(lambdaDir, `${lambdaDir}/..`);
  return lambdaDir;
}

function eksApp(eks: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
  const outdir = tempDir('eks');
  dirs.push(outdir);
  const config = testConfig({
    ...overrides,
    // The SSM feature is off; its regions only have to belong to the partition.
    features: {
      ssmDistributor: { enabled: false, regions: [homeRegionOf(overrides)] },
      eksProtection: { enabled: true, ...eks },
    },
  });
  const { rootStack, organization } = buildApp(config, { outdir, lambdaDir: bundles() });
  const feature = organization.node.tryFindChild('EksProtection');
  if (!(feature instanceof EksProtection)) throw new Error('EksProtection not created');
  return {
    config,
    rootStack,
    organization,
    feature,
    root: Template.fromStack(rootStack),
    roles: Template.fromJSON(feature.rolesStackSet.memberTemplate),
    rules: Template.fromJSON(feature.rulesStackSet.memberTemplate),
  };
}

function homeRegionOf(overrides: Record<string, unknown>): string {
  return (overrides['aws'] as { homeRegion?: string } | undefined)?.homeRegion ?? 'eu-central-1';
}

type App = ReturnType<typeof eksApp>;
let plain: App;
let full: App;
beforeAll(() => {
  plain = eksApp();
  full = eksApp(
    {
      regions: ['eu-central-1', 'eu-west-1', 'us-east-1'],
      discoverEnabledRegions: true,
      createOrganizationTrail: true,
      lockTtlMinutes: 90,
      minKubernetesVersion: '1.29',
      deployer: { allowListEgress: true, mirrorImages: { enabled: true } },
    },
    { resourcePrefix: 'fo-full' },
  );
}, 120_000);

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DependsOn?: string[];
}

function resources(template: Template, type: string): [string, CfnResource][] {
  return Object.entries(template.findResources(type) as Record<string, CfnResource>);
}

function one(template: Template, type: string, idPrefix = ''): [string, CfnResource] {
  const found = resources(template, type).filter(([id]) => id.includes(idPrefix));
  expect(
    found.map(([id]) => id),
    `${type} ${idPrefix}`,
  ).toHaveLength(1);
  return found[0];
}

function inlineStatements(role: CfnResource): Record<string, unknown>[] {
  const policies = role.Properties['Policies'] as {
    PolicyDocument: { Statement: Record<string, unknown>[] };
  }[];
  expect(policies).toHaveLength(1);
  return policies[0]?.PolicyDocument.Statement ?? [];
}

function statement(role: CfnResource, sid: string): Record<string, unknown> {
  const found = inlineStatements(role).filter((s) => s['Sid'] === sid);
  expect(found, sid).toHaveLength(1);
  return found[0] ?? {};
}

const partitionArn = (...parts: unknown[]) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...parts]],
});

/** The CloudFormation values a test deploy would give the pseudo parameters and the home account parameter. */
const REFS: Record<string, string> = {
  'AWS::AccountId': '123456789012',
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-central-1',
  HomeAccountId: '123456789012',
};

describe('EKS Protection: member execution role (per account)', () => {
  it('is trusted by exactly the three home roles of the feature, by ARN, and never by an account root', () => {
    const [, role] = one(plain.roles, 'AWS::IAM::Role');
    expect(role.Properties['RoleName']).toBe('fo-test-eks-execution');
    const trust = role.Properties['AssumeRolePolicyDocument'] as { Statement: Record<string, unknown>[] };
    expect(trust.Statement).toEqual(
      ['fo-test-eks-discover', 'fo-test-eks-event', 'fo-test-eks-deployer'].map((name) => ({
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { AWS: partitionArn(':iam::', { Ref: 'HomeAccountId' }, `:role/${name}`) },
      })),
    );
    const principals = trust.Statement.map((s) =>
      resolveJoin((s['Principal'] as { AWS: CfnValue }).AWS, REFS),
    );
    expect(principals).toEqual([
      'arn:aws:iam::123456789012:role/fo-test-eks-discover',
      'arn:aws:iam::123456789012:role/fo-test-eks-event',
      'arn:aws:iam::123456789012:role/fo-test-eks-deployer',
    ]);
    for (const p of principals) expect(p).not.toMatch(/:root$/);
    // The home roles really carry those names.
    for (const name of ['fo-test-eks-discover', 'fo-test-eks-event', 'fo-test-eks-deployer']) {
      plain.root.hasResourceProperties('AWS::IAM::Role', { RoleName: name });
    }
  });

  it('may read clusters and compute, and manage only its own access entry', () => {
    const [, role] = one(plain.roles, 'AWS::IAM::Role');
    const cluster = partitionArn(':eks:*:', { Ref: 'AWS::AccountId' }, ':cluster/*');
    expect(statement(role, 'ListClusters')).toMatchObject({ Action: 'eks:ListClusters', Resource: '*' });
    expect(statement(role, 'ReadClusters')).toMatchObject({
      Action: ['eks:DescribeCluster', 'eks:ListNodegroups', 'eks:ListFargateProfiles'],
      Resource: cluster,
    });
    expect(statement(role, 'ReadCompute')).toMatchObject({
      Action: ['eks:DescribeNodegroup', 'eks:DescribeFargateProfile'],
      Resource: [
        partitionArn(':eks:*:', { Ref: 'AWS::AccountId' }, ':nodegroup/*/*/*'),
        partitionArn(':eks:*:', { Ref: 'AWS::AccountId' }, ':fargateprofile/*/*/*'),
      ],
    });
    const create = statement(role, 'CreateOwnAccessEntry');
    expect(create).toMatchObject({ Action: 'eks:CreateAccessEntry', Resource: cluster });
    const principalArn = (create['Condition'] as { StringEquals: Record<string, CfnValue> }).StringEquals[
      'eks:principalArn'
    ];
    expect(resolveJoin(principalArn, REFS)).toBe('arn:aws:iam::123456789012:role/fo-test-eks-execution');
    const manage = statement(role, 'ManageOwnAccessEntry');
    expect(manage['Action']).toEqual([
      'eks:DescribeAccessEntry',
      'eks:DeleteAccessEntry',
      'eks:AssociateAccessPolicy',
      'eks:DisassociateAccessPolicy',
      'eks:ListAssociatedAccessPolicies',
    ]);
    expect(resolveJoin(manage['Resource'] as CfnValue, REFS)).toBe(
      'arn:aws:eks:*:123456789012:access-entry/*/role/123456789012/fo-test-eks-execution/*',
    );
    // Off by default: no allow-list widening, no region listing.
    const actions = inlineStatements(role).flatMap((s) => [s['Action']].flat());
    expect(actions).not.toContain('eks:UpdateClusterConfig');
    expect(actions).not.toContain('account:ListRegions');
    expect(plain.roles.findResources('AWS::IAM::Policy')).toEqual({});
  });

  it('may widen allow-lists and list regions only when configured to', () => {
    const [, role] = one(full.roles, 'AWS::IAM::Role');
    expect(statement(role, 'WidenEndpointAllowListForARun')).toMatchObject({
      Action: ['eks:UpdateClusterConfig', 'eks:DescribeUpdate'],
      Resource: partitionArn(':eks:*:', { Ref: 'AWS::AccountId' }, ':cluster/*'),
    });
    expect(statement(role, 'ListClusters')['Action']).toEqual([
      'eks:ListClusters',
      'account:ListRegions',
      'ec2:DescribeRegions',
    ]);
  });

  it('is one StackSet instance per account in the home region, created after the home roles it trusts', () => {
    expect(plain.feature.rolesStackSet.regions).toEqual(['eu-central-1']);
    const [id, stackSet] = one(plain.root, 'AWS::CloudFormation::StackSet', 'RolesStackSet');
    expect(stackSet.Properties['Parameters']).toEqual([
      { ParameterKey: 'HomeAccountId', ParameterValue: { Ref: 'AWS::AccountId' } },
    ]);
    const roleIds = ['DiscoverExecutionRole', 'EventExecutionRole', 'DeployerRole'].map(
      (p) => one(plain.root, 'AWS::IAM::Role', p)[0],
    );
    expect(stackSet.DependsOn).toEqual(expect.arrayContaining(roleIds));
    expect(id).toContain('EksProtection');
  });
});

describe('EKS Protection: member forwarding rule (per account and region)', () => {
  it('matches CreateCluster and CreateFargateProfile management events from EKS', () => {
    const [, rule] = one(plain.rules, 'AWS::Events::Rule');
    expect(rule.Properties['EventPattern']).toEqual({
      source: ['aws.eks'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { eventSource: ['eks.amazonaws.com'], eventName: ['CreateCluster', 'CreateFargateProfile'] },
    });
    expect(rule.Properties['EventBusName']).toBeUndefined(); // the account's default bus
  });

  it('forwards to the central bus of the home account and region with its own role, allowed only that bus', () => {
    const [, rule] = one(plain.rules, 'AWS::Events::Rule');
    const [roleId, role] = one(plain.rules, 'AWS::IAM::Role');
    const centralBus = 'arn:aws:events:eu-central-1:123456789012:event-bus/fo-test-eks-events';
    const targets = rule.Properties['Targets'] as Record<string, CfnValue>[];
    expect(targets).toHaveLength(1);
    expect(resolveJoin(targets[0]?.['Arn'], REFS)).toBe(centralBus);
    expect(targets[0]?.['RoleArn']).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(role.Properties['RoleName']).toBeUndefined(); // one per region: CloudFormation names it
    expect(rule.Properties['Name']).toBe('fo-test-eks-forward-cluster-events');
    const trust = (role.Properties['AssumeRolePolicyDocument'] as { Statement: Record<string, CfnValue>[] })
      .Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({
      Action: 'sts:AssumeRole',
      Principal: { Service: 'events.amazonaws.com' },
    });
    // EventBridge may use the role only for this rule of this account (no confused deputy).
    const condition = (trust[0]?.['Condition'] as { StringEquals: Record<string, CfnValue> }).StringEquals;
    expect(Object.keys(condition).sort()).toEqual(['aws:SourceAccount', 'aws:SourceArn']);
    expect(resolveJoin(condition['aws:SourceAccount'], REFS)).toBe('123456789012');
    expect(resolveJoin(condition['aws:SourceArn'], REFS)).toBe(
      'arn:aws:events:eu-central-1:123456789012:rule/fo-test-eks-forward-cluster-events',
    );
    const put = statement(role, 'PutOnCentralBus');
    expect(put['Action']).toBe('events:PutEvents');
    expect(resolveJoin(put['Resource'] as CfnValue, REFS)).toBe(centralBus);
    expect(plain.rules.findResources('AWS::IAM::Policy')).toEqual({});
  });

  it('is deployed to the configured EKS regions (default: the home region)', () => {
    expect(plain.feature.rulesStackSet.regions).toEqual(['eu-central-1']);
    expect(full.feature.rulesStackSet.regions).toEqual(['eu-central-1', 'eu-west-1', 'us-east-1']);
    const [, stackSet] = one(full.root, 'AWS::CloudFormation::StackSet', 'RulesStackSet');
    expect(stackSet.Properties['StackInstancesGroup']).toMatchObject([
      { Regions: ['eu-central-1', 'eu-west-1', 'us-east-1'] },
    ]);
  });
});

describe('EKS Protection: home account', () => {
  it('has a central bus whose policy admits PutEvents only from principals of the organization', () => {
    const [busId, bus] = one(plain.root, 'AWS::Events::EventBus');
    expect(bus.Properties['Name']).toBe('fo-test-eks-events');
    const [, policy] = one(plain.root, 'AWS::Events::EventBusPolicy');
    expect(policy.Properties['EventBusName']).toEqual({ Ref: busId });
    expect(policy.Properties['Statement']).toEqual({
      Sid: 'OrganizationPrincipalsPutEvents',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': [busId, 'Arn'] },
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
    });
  });

  it('routes cluster events from the bus to eks-event with retries and an encrypted dead-letter queue', () => {
    const [busId] = one(plain.root, 'AWS::Events::EventBus');
    const [functionId, fn] = one(plain.root, 'AWS::Lambda::Function', 'EventFunction');
    expect(fn.Properties['FunctionName']).toBe('fo-test-eks-event');
    const [dlqId, dlq] = one(plain.root, 'AWS::SQS::Queue', 'EventDeadLetters');
    const [, rule] = one(plain.root, 'AWS::Events::Rule', 'ClusterEvents');
    expect(rule.Properties).toMatchObject({
      EventBusName: { Ref: busId },
      EventPattern: {
        source: ['aws.eks'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['eks.amazonaws.com'], eventName: ['CreateCluster', 'CreateFargateProfile'] },
      },
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
        },
      ],
    });
    expect(dlq.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    // Only the rule may send to it (besides the function's own failed async invocations), only over TLS.
    plain.root.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: {
              ArnEquals: {
                'aws:SourceArn': {
                  'Fn::GetAtt': [one(plain.root, 'AWS::Events::Rule', 'ClusterEvents')[0], 'Arn'],
                },
              },
            },
          }),
        ]),
      },
    });
    expect(fn.Properties['DeadLetterConfig']).toEqual({ TargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] } });
  });

  it('runs eks-discover from its work queue with batch item failures, and parks poison messages in a DLQ', () => {
    const [functionId, fn] = one(plain.root, 'AWS::Lambda::Function', 'DiscoverFunction');
    expect(fn.Properties['FunctionName']).toBe('fo-test-eks-discover');
    const [queueId, queue] = one(plain.root, 'AWS::SQS::Queue', 'DiscoveryQueue');
    const [dlqId, dlq] = one(plain.root, 'AWS::SQS::Queue', 'DiscoveryDeadLetters');
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 },
    });
    expect(dlq.Properties['SqsManagedSseEnabled']).toBe(true);
    // A message stays invisible while the longest invocation could still be working on it.
    expect(queue.Properties['VisibilityTimeout']).toBeGreaterThanOrEqual(
      6 * (fn.Properties['Timeout'] as number),
    );
    const [, mapping] = one(plain.root, 'AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: functionId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it('runs eks-discover on the configured schedule and once at deploy time, after the member StackSets', () => {
    const [functionId] = one(plain.root, 'AWS::Lambda::Function', 'DiscoverFunction');
    const [, schedule] = one(plain.root, 'AWS::Events::Rule', 'DiscoverySchedule');
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 day)',
      Targets: [{ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] } }],
    });
    const [, discovery] = one(plain.root, 'Custom::FalconEksDiscovery');
    expect(discovery.Properties['ServiceToken']).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
    expect(discovery.Properties['ConfigHash']).toMatch(/^[0-9a-f]{16}$/);
    const rolesId = one(plain.root, 'AWS::CloudFormation::StackSet', 'RolesStackSet')[0];
    const rulesId = one(plain.root, 'AWS::CloudFormation::StackSet', 'RulesStackSet')[0];
    const projectId = one(plain.root, 'AWS::CodeBuild::Project')[0];
    const tableId = one(plain.root, 'AWS::DynamoDB::Table')[0];
    expect(discovery.DependsOn).toEqual(expect.arrayContaining([rolesId, rulesId, projectId, tableId]));
    // A settings change re-runs discovery: the hash follows the configuration.
    const [, fullDiscovery] = one(full.root, 'Custom::FalconEksDiscovery');
    expect(fullDiscovery.Properties['ConfigHash']).not.toBe(discovery.Properties['ConfigHash']);
  });

  it('keeps the runs table on demand, encrypted, with point-in-time recovery, keyed by pk', () => {
    const [, table] = one(plain.root, 'AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('gives both functions exactly the environment of the run contract', () => {
    const tableId = one(plain.root, 'AWS::DynamoDB::Table')[0];
    const projectId = one(plain.root, 'AWS::CodeBuild::Project')[0];
    const queueId = one(plain.root, 'AWS::SQS::Queue', 'DiscoveryQueue')[0];
    for (const prefix of ['DiscoverFunction', 'EventFunction']) {
      const [, fn] = one(plain.root, 'AWS::Lambda::Function', prefix);
      const variables = (fn.Properties['Environment'] as { Variables: Record<string, CfnValue> }).Variables;
      // Without coverage there is no report to read (the closed loop needs coverage.enabled).
      expect(Object.keys(variables).sort()).toEqual(
        Object.values(EKS_FUNCTION_ENV)
          .filter((v) => v !== EKS_FUNCTION_ENV.coverageReportBucket)
          .sort(),
      );
      expect(variables[EKS_FUNCTION_ENV.runsTable]).toEqual({ Ref: tableId });
      expect(variables[EKS_FUNCTION_ENV.deployerProject]).toEqual({ Ref: projectId });
      expect(variables[EKS_FUNCTION_ENV.discoveryQueueUrl]).toEqual({ Ref: queueId });
      const settings = JSON.parse(
        resolveJoin(variables[EKS_FUNCTION_ENV.settings], REFS),
      ) as EksFunctionSettings;
      expect(settings).toEqual({
        partition: 'aws',
        homeAccountId: '123456789012',
        homeRegion: 'eu-central-1',
        targets: ['ou-ab12-11111111', 'ou-ab12-22222222'],
        excludeAccounts: [],
        regions: ['eu-central-1'],
        executionRoleName: 'fo-test-eks-execution',
        concurrency: 50,
        lockTtlSeconds: 7200,
        retry: { firstMinutes: 60, maxMinutes: 1440 },
      } satisfies EksFunctionSettings);
      // The deployer's own settings: both sides compute a cluster's desired state from the same JSON.
      const [, project] = one(plain.root, 'AWS::CodeBuild::Project');
      const projectVariables = (
        project.Properties['Environment'] as { EnvironmentVariables: { Name: string; Value: CfnValue }[] }
      ).EnvironmentVariables;
      const projectSettings = projectVariables.find((v) => v.Name === PROJECT_ENV.settings)?.Value;
      expect(projectSettings).toBeDefined();
      expect(variables[EKS_FUNCTION_ENV.deployerSettings]).toEqual(projectSettings);
    }
    const [, fullFn] = one(full.root, 'AWS::Lambda::Function', 'DiscoverFunction');
    const fullVariables = (fullFn.Properties['Environment'] as { Variables: Record<string, CfnValue> })
      .Variables;
    const fullSettings = JSON.parse(
      resolveJoin(fullVariables[EKS_FUNCTION_ENV.settings], REFS),
    ) as EksFunctionSettings;
    expect(fullSettings).toMatchObject({ minKubernetesVersion: '1.29' });
    expect(fullSettings).toMatchObject({
      regions: 'enabled',
      lockTtlSeconds: 5400,
      executionRoleName: 'fo-full-eks-execution',
    });
  });

  it('sets an environment the functions accept', () => {
    for (const app of [plain, full]) {
      const [, fn] = one(app.root, 'AWS::Lambda::Function', 'EventFunction');
      const variables = (fn.Properties['Environment'] as { Variables: Record<string, CfnValue> }).Variables;
      const refs = { ...REFS, ...logicalIdsAsValues(app) };
      const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolveJoin(v, refs)]));
      const read = readEksEnvironment(env);
      expect(read.runsTable).toBe(one(app.root, 'AWS::DynamoDB::Table')[0]);
      expect(read.deployerProject).toBe(one(app.root, 'AWS::CodeBuild::Project')[0]);
      expect(read.discoveryQueueUrl).toBe(one(app.root, 'AWS::SQS::Queue', 'DiscoveryQueue')[0]);
      expect(read.settings.executionRoleName).toBe(`${app.config.resourcePrefix}-eks-execution`);
    }
  });

  it('lets discovery read the latest coverage report, and only that, when coverage reports EKS (the closed loop)', () => {
    const looped = eksApp({}, { coverage: { enabled: true } });
    const bucketId = one(looped.root, 'AWS::S3::Bucket', 'CoverageReports')[0];
    const [, discover] = one(looped.root, 'AWS::IAM::Role', 'DiscoverExecutionRole');
    const [, event] = one(looped.root, 'AWS::IAM::Role', 'EventExecutionRole');
    const read = inlineStatements(discover).find((s) => s.Sid === 'ReadCoverageReport');
    expect(read).toEqual({
      Sid: 'ReadCoverageReport',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: [
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/latest.json']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/reports/*/accounts/*']] },
      ],
    });
    expect(inlineStatements(event).map((s) => s.Sid)).not.toContain('ReadCoverageReport');
    const [, fn] = one(looped.root, 'AWS::Lambda::Function', 'DiscoverFunction');
    const variables = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(variables[EKS_FUNCTION_ENV.coverageReportBucket]).toEqual({ Ref: bucketId });
    // Coverage without EKS in its features: nothing to read.
    const other = eksApp({}, { coverage: { enabled: true, features: ['ssmDistributor'] } });
    const [, fn2] = one(other.root, 'AWS::Lambda::Function', 'DiscoverFunction');
    const vars2 = (fn2.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(vars2[EKS_FUNCTION_ENV.coverageReportBucket]).toBeUndefined();
  });

  it('does not let discovery read Service Quotas when rollout.concurrentBuilds sets the pace', () => {
    const paced = eksApp({ rollout: { concurrentBuilds: 40 } });
    const [, discover] = one(paced.root, 'AWS::IAM::Role', 'DiscoverExecutionRole');
    const sids = inlineStatements(discover).map((s) => s.Sid);
    expect(sids).toContain('CountRunsInFlight');
    expect(sids).not.toContain('ReadCodeBuildQuota');
    const [, fn] = one(paced.root, 'AWS::Lambda::Function', 'DiscoverFunction');
    const variables = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.stringify(variables[EKS_FUNCTION_ENV.settings])).toContain('concurrentBuilds');
  });

  it('gives each home function role exactly what it uses, in the role itself', () => {
    const [, discover] = one(plain.root, 'AWS::IAM::Role', 'DiscoverExecutionRole');
    const [, event] = one(plain.root, 'AWS::IAM::Role', 'EventExecutionRole');
    const tableId = one(plain.root, 'AWS::DynamoDB::Table')[0];
    const projectId = one(plain.root, 'AWS::CodeBuild::Project')[0];
    const queueId = one(plain.root, 'AWS::SQS::Queue', 'DiscoveryQueue')[0];
    const eventDlqId = one(plain.root, 'AWS::SQS::Queue', 'EventDeadLetters')[0];
    const common = {
      AssumeMemberExecutionRole: {
        Action: 'sts:AssumeRole',
        Resource: partitionArn(':iam::*:role/fo-test-eks-execution'),
        // Only roles in accounts of the organization, never a same-named role elsewhere.
        Condition: { StringEquals: { 'aws:ResourceOrgID': plain.config.organization.id } },
      },
      ReadOrganizationStructure: {
        Action: ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'],
        Resource: '*',
      },
      KeepRunsTable: {
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      },
      StartDeployerRuns: { Action: 'codebuild:StartBuild', Resource: { 'Fn::GetAtt': [projectId, 'Arn'] } },
    };
    const bySid = (role: CfnResource) =>
      Object.fromEntries(
        inlineStatements(role).map(({ Sid, Effect: _effect, ...rest }) => [Sid as string, rest]),
      );
    const discoverStatements = bySid(discover);
    const eventStatements = bySid(event);
    // The denies that keep StartBuild to the run variables are asserted in their own test.
    const allows = (statements: Record<string, unknown>) =>
      Object.keys(statements).filter(
        (sid) => !/^(NoOverride|OnlyRunVariables|OnlyTheExecutionRole|NoReferenceIn)/.test(sid),
      );
    expect(allows(discoverStatements).sort()).toEqual(
      [
        ...Object.keys(common),
        'CountRunsInFlight',
        'ReadCodeBuildQuota',
        'SpreadDiscoveryWork',
        'WriteOwnLogs',
      ].sort(),
    );
    // Pacing (issue 15 point 2): discovery counts the runs in flight and reads the CodeBuild quota.
    expect(discoverStatements['CountRunsInFlight']).toEqual({
      Action: 'dynamodb:Scan',
      Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
    });
    expect(discoverStatements['ReadCodeBuildQuota']).toEqual({
      Action: ['servicequotas:GetServiceQuota', 'servicequotas:GetAWSDefaultServiceQuota'],
      Resource: '*',
    });
    expect(allows(eventStatements).sort()).toEqual(
      [...Object.keys(common), 'QueueFollowUps', 'SendFailedEventsToDeadLetterQueue', 'WriteOwnLogs'].sort(),
    );
    expect(discoverStatements).toMatchObject(common);
    expect(eventStatements).toMatchObject(common);
    expect(discoverStatements['SpreadDiscoveryWork']).toMatchObject({
      Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
    expect(eventStatements['QueueFollowUps']).toEqual({
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': [one(plain.root, 'AWS::SQS::Queue', 'DiscoveryQueue')[0], 'Arn'] },
    });
    expect(eventStatements['SendFailedEventsToDeadLetterQueue']).toEqual({
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': [eventDlqId, 'Arn'] },
    });
    // Nothing is attached on the side: no AWS::IAM::Policy names one of the feature's roles.
    const featureRoleIds = resources(plain.root, 'AWS::IAM::Role')
      .filter(([id]) => id.includes('EksProtection'))
      .map(([id]) => id);
    expect(featureRoleIds).toHaveLength(3);
    for (const [, policy] of resources(plain.root, 'AWS::IAM::Policy')) {
      for (const role of policy.Properties['Roles'] as { Ref: string }[]) {
        expect(featureRoleIds).not.toContain(role.Ref);
      }
    }
  });
});

/**
 * A StartBuild request as IAM sees it: the CodeBuild condition keys its overrides set (the keys of
 * the CodeBuild condition-key reference), each present only when the request sets that override.
 */
interface StartBuildRequest {
  readonly buildspecOverride?: string;
  readonly imageOverride?: string;
  readonly privilegedModeOverride?: boolean;
  readonly environmentTypeOverride?: string;
  readonly computeTypeOverride?: string;
  readonly serviceRoleOverride?: string;
  readonly sourceLocationOverride?: string;
  readonly logsConfigOverride?: object;
  readonly registryCredentialOverride?: object;
  readonly environmentVariablesOverride?: readonly { name: string; value: string }[];
}

function contextOf(request: StartBuildRequest): Map<string, string | string[]> {
  const context = new Map<string, string | string[]>();
  if (request.buildspecOverride !== undefined) context.set('codebuild:source.buildspec', 'true');
  if (request.imageOverride !== undefined) context.set('codebuild:environment.image', request.imageOverride);
  if (request.privilegedModeOverride !== undefined)
    context.set('codebuild:environment.privilegedMode', String(request.privilegedModeOverride));
  if (request.environmentTypeOverride !== undefined)
    context.set('codebuild:environment.type', request.environmentTypeOverride);
  if (request.computeTypeOverride !== undefined)
    context.set('codebuild:environment.computeType', request.computeTypeOverride);
  if (request.serviceRoleOverride !== undefined)
    context.set('codebuild:serviceRole', request.serviceRoleOverride);
  if (request.sourceLocationOverride !== undefined)
    context.set('codebuild:source.location', request.sourceLocationOverride);
  if (request.logsConfigOverride !== undefined) context.set('codebuild:logsConfig', 'true');
  if (request.registryCredentialOverride !== undefined)
    context.set('codebuild:environment.registryCredential', 'true');
  const vars = request.environmentVariablesOverride ?? [];
  if (vars.length > 0) {
    context.set(
      'codebuild:environment.environmentVariables.name',
      vars.map((v) => v.name),
    );
    for (const v of vars) context.set(`codebuild:environment.environmentVariables/${v.name}.value`, v.value);
  }
  return context;
}

const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** The IAM condition operators the policy uses, evaluated as IAM does (missing keys included). */
function conditionHolds(
  operator: string,
  key: string,
  expected: CfnValue,
  context: Map<string, string | string[]>,
): boolean {
  const want = (Array.isArray(expected) ? expected : [expected]).map(String);
  const actual = context.get(key);
  const values = actual === undefined ? [] : Array.isArray(actual) ? actual : [actual];
  switch (operator) {
    case 'Null':
      return (actual === undefined) === (want[0] === 'true');
    case 'StringEquals':
      return values.length > 0 && values.every((v) => want.includes(v));
    case 'StringLike':
      return values.length > 0 && values.some((v) => want.some((w) => glob(w).test(v)));
    case 'StringNotLike': // a negated operator: true when the key is missing
      return values.length === 0 || values.every((v) => !want.some((w) => glob(w).test(v)));
    case 'ForAnyValue:StringNotEquals':
      return values.some((v) => !want.includes(v));
    default:
      throw new Error(`the test does not know the operator ${operator}`);
  }
}

/** allowed / denied for codebuild:StartBuild on the project, from one role's inline statements. */
function startBuildDecision(
  role: CfnResource,
  request: StartBuildRequest,
): 'allowed' | 'denied' | 'not allowed' {
  const context = contextOf(request);
  const applies = (s: Record<string, unknown>) =>
    [s['Action']].flat().includes('codebuild:StartBuild') &&
    Object.entries((s['Condition'] ?? {}) as Record<string, Record<string, CfnValue>>).every(([op, keys]) =>
      Object.entries(keys).every(([key, value]) => conditionHolds(op, key, value, context)),
    );
  const statements = inlineStatements(role).filter(applies);
  if (statements.some((s) => s['Effect'] === 'Deny')) return 'denied';
  return statements.some((s) => s['Effect'] === 'Allow') ? 'allowed' : 'not allowed';
}

describe('EKS Protection: who can start a deployer run with what', () => {
  const runVariables = (over: Record<string, string> = {}) =>
    Object.entries({
      ...runEnvironment({
        accountId: '111122223333',
        region: 'eu-west-1',
        cluster: 'prod',
        compute: 'nodes',
        executionRoleArn: 'arn:aws:iam::111122223333:role/fo-test-eks-execution',
        runId: '6f1c2d3e-aaaa-bbbb-cccc-123456789012',
        mode: 'install',
      }),
      ...over,
    }).map(([name, value]) => ({ name, value }));

  it('lets both home functions start a run with the run variables, and nothing else overridden', () => {
    for (const id of ['DiscoverExecutionRole', 'EventExecutionRole']) {
      const [, role] = one(plain.root, 'AWS::IAM::Role', id);
      const ok = { environmentVariablesOverride: runVariables() };
      expect(startBuildDecision(role, ok), id).toBe('allowed');
      const refused: [string, StartBuildRequest][] = [
        ['buildspec', { ...ok, buildspecOverride: 'version: 0.2\nphases: {build: {commands: [env]}}' }],
        ['image', { ...ok, imageOverride: 'attacker/image:latest' }],
        ['privileged mode', { ...ok, privilegedModeOverride: true }],
        ['environment type', { ...ok, environmentTypeOverride: 'LINUX_GPU_CONTAINER' }],
        ['compute type', { ...ok, computeTypeOverride: 'BUILD_GENERAL1_2XLARGE' }],
        ['service role', { ...ok, serviceRoleOverride: 'arn:aws:iam::123456789012:role/admin' }],
        ['source', { ...ok, sourceLocationOverride: 'attacker-bucket/x.zip' }],
        ['logs', { ...ok, logsConfigOverride: { s3Logs: { status: 'ENABLED' } } }],
        ['registry credential', { ...ok, registryCredentialOverride: {} }],
        [
          'a project variable (the settings, with a Falcon base URL elsewhere)',
          {
            environmentVariablesOverride: [
              ...runVariables(),
              { name: 'FALCON_ORG_DEPLOYER_SETTINGS', value: '{}' },
            ],
          },
        ],
        [
          'the Falcon secret variable',
          { environmentVariablesOverride: [...runVariables(), { name: 'FALCON_CLIENT_SECRET', value: 'x' }] },
        ],
        [
          'a secret reference in a run variable',
          {
            environmentVariablesOverride: runVariables({
              FALCON_ORG_CLUSTER_NAME:
                'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon:ClientSecret',
            }),
          },
        ],
        [
          'another role to assume',
          {
            environmentVariablesOverride: runVariables({
              FALCON_ORG_EXECUTION_ROLE_ARN: 'arn:aws:iam::111122223333:role/OrganizationAccountAccessRole',
            }),
          },
        ],
      ];
      for (const [what, request] of refused)
        expect(startBuildDecision(role, request), `${id}: ${what}`).toBe('denied');
    }
  });

  it('keeps each home role inside the 10,240 characters IAM allows a role’s inline policies', () => {
    for (const id of ['DiscoverExecutionRole', 'EventExecutionRole']) {
      const [, role] = one(plain.root, 'AWS::IAM::Role', id);
      const size = JSON.stringify(role.Properties['Policies']).replace(/\s/g, '').length;
      expect(size, id).toBeLessThan(7_000);
    }
  });

  it('denies every documented StartBuild override key', () => {
    const [, role] = one(plain.root, 'AWS::IAM::Role', 'DiscoverExecutionRole');
    const denied = inlineStatements(role)
      .filter((s) => s['Effect'] === 'Deny')
      .flatMap((s) => Object.keys((s['Condition'] as { Null?: Record<string, string> }).Null ?? {}));
    expect(new Set(denied)).toEqual(new Set(DENIED_START_BUILD_OVERRIDES));
  });
});

describe('EKS Protection: what the stack leaves behind', () => {
  it('keeps the function and deployer logs by default and removes them for destroy --purge', () => {
    const logGroups = (template: Template) =>
      Object.entries(
        template.findResources('AWS::Logs::LogGroup') as Record<string, { DeletionPolicy?: string }>,
      )
        .filter(([id]) => id.includes('EksProtection'))
        .map(([, r]) => r.DeletionPolicy);
    expect(logGroups(plain.root)).toEqual(['Retain', 'Retain', 'Retain']);
    const config = testConfig({
      features: { ssmDistributor: { enabled: false }, eksProtection: { enabled: true } },
    });
    const outdir = tempDir('eks-purge');
    dirs.push(outdir);
    const { rootStack } = buildApp(config, { outdir, lambdaDir: bundles(), purgeOnDelete: true });
    expect(logGroups(Template.fromStack(rootStack))).toEqual(['Delete', 'Delete', 'Delete']);
  }, 60_000);

  it('keeps the runs table (the record of which clusters Falcon was installed on) and the audit bucket of the trail, and removes the queues and bus', () => {
    const policies = (type: string) =>
      Object.values(full.root.findResources(type) as Record<string, { DeletionPolicy?: string }>).map(
        (r) => r.DeletionPolicy,
      );
    expect(policies('AWS::DynamoDB::Table')).toEqual(['Retain']);
    // A name CloudFormation chooses: deploying again after destroy creates a new table.
    expect(one(full.root, 'AWS::DynamoDB::Table')[1].Properties['TableName']).toBeUndefined();
    // plan says so.
    const [tableId] = one(full.root, 'AWS::DynamoDB::Table');
    expect(
      rootRetainedOf(
        full.root.toJSON()['Resources'] as Record<string, { Type: string; DeletionPolicy?: string }>,
      ),
    ).toEqual([
      expect.stringMatching(
        new RegExp(`^AWS::DynamoDB::Table ${tableId} in the home account \\(the EKS runs table\\): retained`),
      ),
    ]);
    expect(policies('AWS::SQS::Queue')).toEqual(['Delete', 'Delete', 'Delete']);
    expect(policies('AWS::Events::EventBus')).toEqual(['Delete']);
    const [, trailBucket] = one(full.root, 'AWS::S3::Bucket', 'OrganizationTrail');
    expect((trailBucket as CfnResource & { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
    // Names CloudFormation chooses for what is kept, so creating the stack again never collides.
    expect(trailBucket.Properties['BucketName']).toBeUndefined();
    for (const [id, group] of resources(full.root, 'AWS::Logs::LogGroup')) {
      if (id.includes('EksProtection')) expect(group.Properties['LogGroupName']).toBeUndefined();
    }
  });
});

describe('EKS Protection: the deployer project', () => {
  it('runs only `node` on the bundled deployer from the artifact bucket', () => {
    const [, project] = one(plain.root, 'AWS::CodeBuild::Project');
    const source = project.Properties['Source'] as { Type: string; Location: CfnValue; BuildSpec: string };
    expect(source.Type).toBe('S3');
    const location = resolveJoin(source.Location, { ...REFS, [artifactsBucketId()]: 'artifacts' }, true);
    expect(location).toMatch(/^artifacts\/deployer\/bundle\/<SourceObjectKeys\[0\]>$/);
    const buildSpec = JSON.parse(source.BuildSpec) as {
      phases: Record<string, { commands?: string[]; 'runtime-versions'?: unknown }>;
    };
    const commands = Object.values(buildSpec.phases).flatMap((p) => p.commands ?? []);
    expect(commands).toEqual([DEPLOYER_COMMAND]);
    expect(DEPLOYER_COMMAND).toBe('node index.mjs');
    expect(buildSpec.phases['install']).toEqual({ 'runtime-versions': { nodejs: 20 } });
    expect(project.Properties['Name']).toBe('fo-test-eks-deployer');
    expect(project.Properties['Environment']).toMatchObject({ PrivilegedMode: false });
  });

  it('ships a new deployer bundle under a new key, so the next runs use it and discovery re-runs', () => {
    const deployment = (app: App) =>
      resources(app.root, 'Custom::CDKBucketDeployment').find(
        ([, r]) => r.Properties['DestinationBucketKeyPrefix'] === 'deployer/bundle/',
      )?.[1].Properties;
    expect(deployment(plain)).toMatchObject({ Extract: false, Prune: false });
    const lambdaDir = bundles();
    writeFileSync(join(lambdaDir, '..', 'deployer', 'index.mjs'), "console.log('deployer v2');\n");
    const outdir = tempDir('eks-v2');
    dirs.push(outdir);
    const config = testConfig({
      features: { ssmDistributor: { enabled: false }, eksProtection: { enabled: true } },
    });
    const { rootStack } = buildApp(config, { outdir, lambdaDir });
    const v2 = Template.fromStack(rootStack);
    const keys = (t: Template) =>
      JSON.stringify(
        resources(t, 'Custom::CDKBucketDeployment').find(
          ([, r]) => r.Properties['DestinationBucketKeyPrefix'] === 'deployer/bundle/',
        )?.[1].Properties['SourceObjectKeys'],
      );
    expect(keys(v2)).not.toBe(keys(plain.root));
    // The discovery custom resource carries the bundle's key: a new bundle is an update, so discovery runs again.
    const [, discovery] = one(v2, 'Custom::FalconEksDiscovery');
    expect(JSON.stringify(discovery.Properties['DeployerKey'])).toContain('DeployEksDeployer');
  }, 60_000);

  it('gets the Falcon credentials as Secrets Manager references to the central secret, never as plaintext', () => {
    const [, project] = one(plain.root, 'AWS::CodeBuild::Project');
    const [secretId] = one(plain.root, 'AWS::SecretsManager::Secret');
    const variables = (
      project.Properties['Environment'] as { EnvironmentVariables: Record<string, unknown>[] }
    ).EnvironmentVariables;
    const byName = Object.fromEntries(variables.map((v) => [v['Name'] as string, v]));
    expect(Object.keys(byName).sort()).toEqual(Object.values(PROJECT_ENV).sort());
    expect(byName[PROJECT_ENV.clientId]).toEqual({
      Name: PROJECT_ENV.clientId,
      Type: 'SECRETS_MANAGER',
      Value: { 'Fn::Join': ['', [{ Ref: secretId }, ':ClientId']] },
    });
    expect(byName[PROJECT_ENV.clientSecret]).toEqual({
      Name: PROJECT_ENV.clientSecret,
      Type: 'SECRETS_MANAGER',
      Value: { 'Fn::Join': ['', [{ Ref: secretId }, ':ClientSecret']] },
    });
    expect(byName[PROJECT_ENV.runsTable]).toMatchObject({ Type: 'PLAINTEXT' });
    expect(byName[PROJECT_ENV.settings]).toMatchObject({ Type: 'PLAINTEXT' });
    // No credential parameter reaches any plaintext variable.
    for (const v of variables.filter((x) => x['Type'] === 'PLAINTEXT')) {
      expect(JSON.stringify(v)).not.toMatch(/FalconClient(Id|Secret)/);
    }
  });

  it('uses the existing secret by ARN when credentials come from Secrets Manager', () => {
    const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-AbCdEf';
    const app = eksApp({}, { falcon: { credentials: { source: 'secretsManager', secretArn: arn } } });
    const [, project] = one(app.root, 'AWS::CodeBuild::Project');
    const variables = (
      project.Properties['Environment'] as { EnvironmentVariables: Record<string, unknown>[] }
    ).EnvironmentVariables;
    expect(variables.filter((v) => v['Type'] === 'SECRETS_MANAGER').map((v) => v['Value'])).toEqual([
      `${arn}:ClientId`,
      `${arn}:ClientSecret`,
    ]);
    const [, role] = one(app.root, 'AWS::IAM::Role', 'DeployerRole');
    expect(statement(role, 'ReadFalconCredentials')).toMatchObject({
      Action: 'secretsmanager:GetSecretValue',
      Resource: arn,
    });
  }, 60_000);

  it('passes settings the deployer accepts', () => {
    const [, project] = one(full.root, 'AWS::CodeBuild::Project');
    const variables = (
      project.Properties['Environment'] as { EnvironmentVariables: Record<string, CfnValue>[] }
    ).EnvironmentVariables;
    const raw = variables.find((v) => v['Name'] === PROJECT_ENV.settings)?.['Value'] as CfnValue;
    const settings = parseDeployerRunSettings(
      resolveJoin(raw, { ...REFS, [artifactsBucketId(full)]: 'artifacts' }),
    );
    expect(settings).toMatchObject({
      partition: 'aws',
      homeAccountId: '123456789012',
      homeRegion: 'eu-central-1',
      falcon: { cloud: 'eu-1' },
      operator: {
        manifestBucket: 'artifacts',
        manifestKey: `deployer/operator/${settings.operator.version}/falcon-operator.yaml`,
      },
      nodeSensor: { backend: 'bpf' },
      allowListEgress: true,
      mirrorImages: { enabled: true, pullOrganizationId: expect.stringMatching(/^o-/) as unknown },
    });
  });

  it('ends every build, queue time included, before its run lock expires', () => {
    const [, project] = one(plain.root, 'AWS::CodeBuild::Project');
    const minutes =
      (project.Properties['TimeoutInMinutes'] as number) +
      (project.Properties['QueuedTimeoutInMinutes'] as number);
    expect(minutes).toBeLessThan(120);
    const [, fullProject] = one(full.root, 'AWS::CodeBuild::Project');
    const fullMinutes =
      (fullProject.Properties['TimeoutInMinutes'] as number) +
      (fullProject.Properties['QueuedTimeoutInMinutes'] as number);
    expect(fullMinutes).toBeLessThan(90);
  });

  it('has a role that may do exactly what a run does, and ECR only when mirroring', () => {
    const [, role] = one(plain.root, 'AWS::IAM::Role', 'DeployerRole');
    expect(role.Properties['RoleName']).toBe('fo-test-eks-deployer');
    expect(role.Properties['AssumeRolePolicyDocument']).toMatchObject({
      Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'codebuild.amazonaws.com' } }],
    });
    const sids = inlineStatements(role).map((s) => s['Sid']);
    expect(sids).toEqual([
      'AssumeMemberExecutionRole',
      'WriteRunResult',
      'ReadBundleAndManifest',
      'LocateArtifactsBucket',
      'ReadFalconCredentials',
      'WriteOwnLogs',
    ]);
    expect(statement(role, 'AssumeMemberExecutionRole')['Resource']).toEqual(
      partitionArn(':iam::*:role/fo-test-eks-execution'),
    );
    expect(statement(role, 'AssumeMemberExecutionRole')['Condition']).toEqual({
      StringEquals: { 'aws:ResourceOrgID': plain.config.organization.id },
    });
    expect(statement(role, 'ReadBundleAndManifest')['Resource']).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [artifactsBucketId(), 'Arn'] }, '/deployer/*']],
    });
    const [, fullRole] = one(full.root, 'AWS::IAM::Role', 'DeployerRole');
    // Member nodes pull the mirrored images cross-account: the run sets an organization pull policy.
    expect(statement(fullRole, 'MirrorFalconImages')['Action']).toContain('ecr:SetRepositoryPolicy');
    expect(statement(fullRole, 'MirrorFalconImages')['Resource']).toEqual(
      partitionArn(
        ':ecr:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ':repository/falcon-org/crowdstrike/*',
      ),
    );
    expect(statement(fullRole, 'LogInToHomeRegistry')).toMatchObject({
      Action: 'ecr:GetAuthorizationToken',
      Resource: '*',
    });
  });
});

describe('EKS Protection: organization trail', () => {
  it('is not created unless configured', () => {
    expect(plain.root.findResources('AWS::CloudTrail::Trail')).toEqual({});
  });

  it('logs write management events of every region of the organization into an encrypted, TLS-only bucket', () => {
    const [, trail] = one(full.root, 'AWS::CloudTrail::Trail');
    const [bucketId, bucket] = one(full.root, 'AWS::S3::Bucket', 'OrganizationTrail');
    expect(trail.Properties).toMatchObject({
      TrailName: 'fo-full-organization',
      IsOrganizationTrail: true,
      IsMultiRegionTrail: true,
      IsLogging: true,
      S3BucketName: { Ref: bucketId },
      EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'WriteOnly' }],
    });
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    full.root.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Action: 's3:GetBucketAcl', Principal: { Service: 'cloudtrail.amazonaws.com' } }),
          Match.objectLike({
            Action: 's3:PutObject',
            Principal: { Service: 'cloudtrail.amazonaws.com' },
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/AWSLogs/o-a1b2c3d4e5/*']] },
          }),
        ]),
      },
    });
  });
});

describe('EKS Protection: cdk-nag and missing bundles', () => {
  it.each([
    ['defaults', () => plain],
    ['trail, mirroring, allow-list widening, enabled regions', () => full],
  ])('reports no unacknowledged findings on the root and member stacks (%s)', (_, app) => {
    const { rootStack, organization } = app();
    const members = organization.node
      .findAll()
      .filter((c): c is OrgStackSet => c instanceof OrgStackSet)
      .map((s) => s.memberStack);
    expect(members.map((m) => m.stackName).sort()).toEqual(
      expect.arrayContaining([`${rootStack.stackName}-eks-roles`, `${rootStack.stackName}-eks-rules`]),
    );
    for (const stack of [rootStack, ...members]) {
      expect(nagFindings(stack, 'error'), stack.stackName).toEqual([]);
      expect(nagFindings(stack, 'warning'), stack.stackName).toEqual([]);
    }
    const reasons = [rootStack, ...members]
      .flatMap((s) => s.node.findAll())
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.values(m.data as Record<string, { reason?: string } | string>));
    expect(reasons.length).toBeGreaterThan(5);
    for (const r of reasons) expect(JSON.stringify(r).length).toBeGreaterThan(40);
  });

  it('synthesizes for GovCloud with the partition in every ARN and no unacknowledged findings', () => {
    const gov = eksApp(
      { regions: ['us-gov-west-1', 'us-gov-east-1'] },
      { aws: { partition: 'aws-us-gov', homeRegion: 'us-gov-west-1' }, falcon: { cloud: 'us-gov-1' } },
    );
    expect(gov.feature.rulesStackSet.regions).toEqual(['us-gov-west-1', 'us-gov-east-1']);
    const [, rule] = one(gov.rules, 'AWS::Events::Rule');
    const target = (rule.Properties['Targets'] as Record<string, CfnValue>[])[0]?.['Arn'];
    expect(resolveJoin(target, { ...REFS, 'AWS::Partition': 'aws-us-gov' })).toBe(
      'arn:aws-us-gov:events:us-gov-west-1:123456789012:event-bus/fo-test-eks-events',
    );
    const members = gov.organization.node
      .findAll()
      .filter((c): c is OrgStackSet => c instanceof OrgStackSet)
      .map((s) => s.memberStack);
    for (const stack of [gov.rootStack, ...members]) {
      expect(nagFindings(stack, 'error'), stack.stackName).toEqual([]);
      expect(nagFindings(stack, 'warning'), stack.stackName).toEqual([]);
    }
  }, 60_000);

  it('fails synth with the build hint when the deployer bundle is missing, instead of deploying a broken project', () => {
    const config = testConfig({ features: { eksProtection: { enabled: true } } });
    const lambdaDir = dummyLambdaDir('eks-discover', 'eks-event');
    dirs.push(lambdaDir);
    const build = () => buildApp(config, { outdir: tempDir('eks-missing'), lambdaDir });
    expect(build).toThrow(MissingDeployerBundleError);
    expect(build).toThrow(
      /EKS deployer bundle is missing \(expected .*deployer\/index\.mjs\); run "npm run build"/,
    );
  });

  it('fails synth with the build hint when an EKS function bundle is missing', () => {
    const config = testConfig({ features: { eksProtection: { enabled: true } } });
    const lambdaDir = withDummyDeployer(dummyLambdaDir('eks-event'));
    dirs.push(lambdaDir);
    expect(() => buildApp(config, { outdir: tempDir('eks-missing'), lambdaDir })).toThrow(
      MissingLambdaBundleError,
    );
  });
});

/** Every logical ID of the root template as the value of its Ref (a stand-in for the deployed name). */
function logicalIdsAsValues(app: App): Record<string, string> {
  return Object.fromEntries(Object.keys(app.root.toJSON()['Resources'] as object).map((id) => [id, id]));
}

function artifactsBucketId(app: App = plain): string {
  return one(app.root, 'AWS::S3::Bucket', 'Artifacts')[0];
}
