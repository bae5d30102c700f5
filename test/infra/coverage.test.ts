import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { readCoverageEnvironment } from '../../src/coverage/publish-environment.js';
import { buildApp } from '../../src/infra/app.js';
import { Coverage } from '../../src/infra/features/coverage.js';
import { COVERAGE_READ_ACTIONS } from '../../src/infra/features/coverage/read-role.js';
import { STACKSET_METADATA_KEY } from '../../src/infra/metadata.js';
import { nagFindings } from '../../src/infra/nag.js';
import { synthesize } from '../../src/infra/synth.js';
import { readPlan } from '../../src/plan/plan.js';
import { renderPlan } from '../../src/plan/render.js';
import { handlerNames } from '../../scripts/bundle-lambdas.mjs';
import { EksProtection } from '../../src/infra/features/eks-protection.js';
import { dummyLambdaDir, tempDir, testConfig, withDummyDeployer } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}
interface TemplateJson {
  readonly Parameters?: Record<string, Record<string, unknown>>;
  readonly Resources: Record<string, Resource>;
}
interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
  readonly Principal?: unknown;
}

function coverage(overrides: Record<string, unknown> = {}) {
  const lambdaDir = withDummyDeployer(dummyLambdaDir(...handlerNames(), 'coverage'));
  dirs.push(lambdaDir);
  const base = { coverage: { enabled: true, ...((overrides['coverage'] as object | undefined) ?? {}) } };
  const config = testConfig({ ...overrides, ...base });
  const { rootStack, organization } = buildApp(config, { outdir: dir('coverage'), lambdaDir });
  const feature = organization.node.tryFindChild('Coverage');
  if (!(feature instanceof Coverage)) throw new Error('Coverage not created');
  const root = rootStack.resolve(Template.fromStack(rootStack).toJSON()) as TemplateJson;
  const member = feature.stackSet.memberTemplate as unknown as TemplateJson;
  return { config, feature, rootStack, organization, root, member };
}

function resourcesOf(template: TemplateJson, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function only(template: TemplateJson, type: string, prefix = ''): Resource & { id: string } {
  const found = resourcesOf(template, type).filter(([id]) => id.startsWith(prefix));
  expect(
    found.map(([id]) => id),
    `${type} ${prefix}`,
  ).toHaveLength(1);
  const [id, resource] = found[0] ?? ['', { Type: type, Properties: {} }];
  return { id, ...resource };
}

function statementsOf(role: Resource): Statement[] {
  const policies = role.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[];
  expect(policies).toHaveLength(1);
  return policies[0]?.PolicyDocument.Statement ?? [];
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const actionsOf = (s: Statement | undefined) => [s?.Action ?? []].flat();

describe('coverage: member read role (StackSet)', () => {
  it('is one account-scope StackSet in the home region, owned by "coverage"', () => {
    const { root } = coverage();
    const stackSets = resourcesOf(root, 'AWS::CloudFormation::StackSet').filter(
      ([, r]) => r.Properties['StackSetName'] === 'fo-test-coverage-read',
    );
    expect(stackSets).toHaveLength(1);
    const props = stackSets[0]?.[1].Properties ?? {};
    expect(props['StackInstancesGroup']).toEqual([
      {
        DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-11111111', 'ou-ab12-22222222'] },
        Regions: ['eu-central-1'],
      },
    ]);
    const meta = (stackSets[0]?.[1] as { Metadata?: Record<string, unknown> }).Metadata;
    expect(meta?.[STACKSET_METADATA_KEY]).toMatchObject({ feature: 'coverage', scope: 'account' });
  });

  it('is trusted by the home function role alone, passed as the only StackSet parameter', () => {
    // Prepare / Act
    const { root, member, feature, rootStack } = coverage();
    // Assess: the member template
    const role = only(member, 'AWS::IAM::Role');
    expect(Object.keys(member.Resources)).toEqual([role.id]);
    expect(role.Properties['RoleName']).toBe('fo-test-coverage-read');
    expect(role.Properties['ManagedPolicyArns']).toBeUndefined();
    expect(role.Properties['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: { Ref: 'CoverageFunctionRoleArn' } } },
      ],
    });
    expect(member.Parameters?.['CoverageFunctionRoleArn']).toMatchObject({ Type: 'String' });
    // Assess: the root side fills it with the function's execution role
    const stackSet = Object.values(root.Resources).find(
      (r) => r.Properties['StackSetName'] === 'fo-test-coverage-read',
    );
    const functionRoleId = rootStack.getLogicalId(feature.function.role.node.defaultChild as CfnElement);
    expect(stackSet?.Properties['Parameters']).toEqual([
      { ParameterKey: 'CoverageFunctionRoleArn', ParameterValue: { 'Fn::GetAtt': [functionRoleId, 'Arn'] } },
    ]);
    const executionRole = root.Resources[functionRoleId];
    expect(executionRole?.Properties['AssumeRolePolicyDocument']).toMatchObject({
      Statement: [{ Principal: { Service: 'lambda.amazonaws.com' } }],
    });
    // CloudFormation names it: a replaced role gets a new ARN, so member trust policies follow.
    expect(executionRole?.Properties['RoleName']).toBeUndefined();
  });

  it('adds the configured reader roles, and nothing else, to the trust policy', () => {
    const reader = 'arn:aws:iam::999999999999:role/SecurityAudit';
    const { member } = coverage({ coverage: { readerRoleArns: [reader] } });
    const role = only(member, 'AWS::IAM::Role');
    const trust = role.Properties['AssumeRolePolicyDocument'] as { Statement: Statement[] };
    expect(trust.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: { Ref: 'CoverageFunctionRoleArn' } } },
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: reader } },
    ]);
  });

  it('allows exactly the read actions of the readers, the ownership record alone scoped', () => {
    const { member } = coverage();
    const statements = statementsOf(only(member, 'AWS::IAM::Role'));
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(statements.map((s) => [s.Sid, actionsOf(s).sort(), s.Resource])).toEqual([
      [
        'ListAndDescribe',
        [
          'account:ListRegions',
          'ec2:DescribeInstances',
          'eks:ListClusters',
          'ssm:DescribeAutomationExecutions',
          'ssm:DescribeInstanceAssociationsStatus',
          'ssm:DescribeInstanceInformation',
          'ssm:ListAssociations',
          'ssm:ListResourceComplianceSummaries',
        ],
        '*',
      ],
      [
        'ReadEcrOwnershipRecord',
        ['ssm:GetParameter'],
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':ssm:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':parameter/fo-test/ecr-connections/ownership',
            ],
          ],
        },
      ],
    ]);
    const all = statements.flatMap(actionsOf);
    expect(all.some((a) => /(Put|Create|Delete|Update|Send|Start|\*)/.test(a.split(':')[1] ?? ''))).toBe(
      false,
    );
    expect(new Set(all)).toEqual(
      new Set([...COVERAGE_READ_ACTIONS.accountWide, ...COVERAGE_READ_ACTIONS.ownershipRecord]),
    );
  });

  it('matches the calls the readers make, read from their source', () => {
    // Each SDK command the member-side readers import is one IAM action (service prefix + command name).
    const commands = (file: string): string[] => {
      const text = readFileSync(file, 'utf8');
      return [...text.matchAll(/import\s*{([^}]*)}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)].flatMap(
        ([, names, service]) =>
          (names ?? '')
            .split(',')
            .map((n) => n.trim())
            .filter((n) => /^[A-Z]\w*Command$/.test(n))
            .map((n) => `${service}:${n.replace(/Command$/, '')}`),
      );
    };
    const readers = readFileSync('src/coverage/aws-readers.ts', 'utf8');
    // The ownership record is only loaded (SsmOwnershipStore.load: one GetParameter), never saved.
    expect(readers).toMatch(/new SsmOwnershipStore\([^)]*\)\.load\(\)/);
    const used = new Set([
      ...commands('src/coverage/aws-readers.ts'),
      ...commands('src/aws/account-regions.ts'),
      'ssm:GetParameter',
    ]);
    const { member } = coverage();
    const granted = new Set(statementsOf(only(member, 'AWS::IAM::Role')).flatMap(actionsOf));
    expect(granted).toEqual(used);
  });
});

describe('coverage: home function, bucket, schedule and metrics', () => {
  it('keeps reports in a versioned, encrypted, TLS-only, private bucket with lifecycle for dated copies', () => {
    const { root } = coverage({ coverage: { retentionDays: 30 } });
    const buckets = resourcesOf(root, 'AWS::S3::Bucket').filter(([id]) =>
      id.startsWith('FalconOrganizationCoverage'),
    );
    expect(buckets).toHaveLength(1);
    const [bucketId, bucket] = buckets[0] ?? ['', { Type: '', Properties: {} }];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties['BucketName']).toBeUndefined();
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const rules = (bucket.Properties['LifecycleConfiguration'] as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toEqual([
      expect.objectContaining({
        Id: 'ExpireDatedReports',
        Prefix: 'reports/',
        ExpirationInDays: 30,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        Status: 'Enabled',
      }),
      expect.objectContaining({
        Id: 'ExpireReplacedLatest',
        Prefix: 'latest.',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        Status: 'Enabled',
      }),
    ]);
    expect(rules[1]?.['ExpirationInDays']).toBeUndefined();
    const policy = Object.values(root.Resources).find(
      (r) =>
        r.Type === 'AWS::S3::BucketPolicy' &&
        JSON.stringify(r.Properties['Bucket']) === JSON.stringify({ Ref: bucketId }),
    );
    const statements = (policy?.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement;
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]);
    // status --latest finds the bucket through this parameter
    const parameter = only(root, 'AWS::SSM::Parameter', 'FalconOrganizationCoverage');
    expect(parameter.Properties).toMatchObject({
      Name: '/fo-test/coverage/report-bucket',
      Value: { Ref: bucketId },
    });
  });

  it('runs the coverage function on the configured schedule with the settings the handler reads', () => {
    const { root, feature, rootStack } = coverage({
      coverage: {
        schedule: 'cron(0 6 * * ? *)',
        concurrency: 24,
        hostStaleAfterHours: 48,
        metricNamespace: 'Sec/Falcon',
      },
      features: { ecrConnections: { enabled: true } },
    });
    const fn = only(root, 'AWS::Lambda::Function', 'FalconOrganizationCoverageFunction');
    expect(fn.Properties).toMatchObject({
      FunctionName: 'fo-test-coverage',
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Timeout: 900,
      MemorySize: 1024,
      // The items spool, the summary and the heatmap are files in /tmp.
      EphemeralStorage: { Size: 2048 },
    });
    const rule = only(root, 'AWS::Events::Rule', 'FalconOrganizationCoverage');
    expect(rule.Properties['ScheduleExpression']).toBe('cron(0 6 * * ? *)');
    expect(rule.Properties['Targets']).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [fn.id, 'Arn'] } }),
    ]);
    const permissions = resourcesOf(root, 'AWS::Lambda::Permission').map(([, r]) => r.Properties);
    expect(permissions).toContainEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fn.id, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [rule.id, 'Arn'] },
    });
    // The environment is exactly what the handler parses.
    const variables = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    const bucketId = rootStack.getLogicalId(feature.reports.bucket.node.defaultChild as CfnElement);
    expect(variables['FALCON_ORG_COVERAGE_BUCKET']).toEqual({ Ref: bucketId });
    expect(variables['NODE_OPTIONS']).toBe('--max-old-space-size=768');
    expect(variables['FALCON_SECRET_ARN']).toEqual({
      Ref: expect.stringMatching(/^FalconOrganizationCredentialsSecret/) as unknown,
    });
    const env = readCoverageEnvironment({
      ...(variables as Record<string, string>),
      FALCON_ORG_COVERAGE_BUCKET: 'bucket',
      FALCON_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:999999999999:secret:x',
    });
    expect(env.metricNamespace).toBe('Sec/Falcon');
    expect(env.runsTable).toBeUndefined();
    expect(env.settings).toEqual({
      partition: 'aws',
      homeRegion: 'eu-central-1',
      targets: ['ou-ab12-11111111', 'ou-ab12-22222222'],
      excludeAccounts: [],
      features: { ssmDistributor: ['eu-central-1', 'eu-west-1'], ecrConnections: 'enabled' },
      falcon: { cloud: 'eu-1' },
      associationName: 'fo-test-falcon-sensor',
      deploymentId: 'fo-test',
      readRoleName: 'fo-test-coverage-read',
      ownershipParameterName: '/fo-test/ecr-connections/ownership',
      concurrency: 24,
      hostStaleAfterHours: 48,
      // OUs targeted from the management account: it is listed as excluded, with why.
      managementAccount: 'not-targeted',
    });
  });

  it('lets the function write the three report objects, assume the read role by name and publish metrics in its namespace only', () => {
    const { root, feature, rootStack, config } = coverage({ coverage: { metricNamespace: 'Sec/Falcon' } });
    const roleId = rootStack.getLogicalId(feature.function.role.node.defaultChild as CfnElement);
    const bucketId = rootStack.getLogicalId(feature.reports.bucket.node.defaultChild as CfnElement);
    const statements = statementsOf(root.Resources[roleId] ?? { Type: '', Properties: {} });
    const bySid: Record<string, Statement> = Object.fromEntries(statements.map((s) => [s.Sid ?? '', s]));
    expect(Object.keys(bySid)).toEqual([
      'ReadFalconCredentials',
      'ReadOrganizationScope',
      'AssumeCoverageReadRoles',
      'WriteReports',
      'PublishCoverageMetrics',
      'SendFailedEventsToDeadLetterQueue',
      'WriteOwnLogs',
    ]);
    expect(bySid['PublishCoverageMetrics']).toEqual({
      Sid: 'PublishCoverageMetrics',
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'Sec/Falcon' } },
    });
    const object = (key: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${key}`]] });
    expect(bySid['WriteReports']).toMatchObject({
      Action: 's3:PutObject',
      Resource: [object('latest.json'), object('latest.html'), object('reports/*')],
    });
    // By name in any account, but only in accounts of this organization: never a same-named role an
    // outsider created in their own account.
    expect(bySid['AssumeCoverageReadRoles']).toEqual({
      Sid: 'AssumeCoverageReadRoles',
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/fo-test-coverage-read']],
      },
      Condition: { StringEquals: { 'aws:ResourceOrgID': config.organization.id } },
    });
    expect(bySid['ReadFalconCredentials']).toMatchObject({
      Action: 'secretsmanager:GetSecretValue',
      Resource: { Ref: expect.stringMatching(/^FalconOrganizationCredentialsSecret/) as unknown },
    });
    // The scope's listing, and which account is the management account (listed even when not in scope).
    expect(actionsOf(bySid['ReadOrganizationScope']).sort()).toEqual([
      'organizations:DescribeAccount',
      'organizations:DescribeOrganization',
      'organizations:ListAccountsForParent',
      'organizations:ListOrganizationalUnitsForParent',
    ]);
    // Nothing grants reading or deleting reports, or any other namespace.
    const all = statements.flatMap(actionsOf);
    expect(all.filter((a) => a.startsWith('s3:'))).toEqual(['s3:PutObject']);
  });

  it('reads the EKS runs table (one scan) only when EKS protection is deployed and reported', () => {
    // Prepare / Act
    const eks = coverage({ features: { eksProtection: { enabled: true } } });
    // Assess
    const protection = eks.organization.node.tryFindChild('EksProtection');
    if (!(protection instanceof EksProtection)) throw new Error('EksProtection not created');
    const tableId = eks.rootStack.getLogicalId(protection.runsTable.table.node.defaultChild as CfnElement);
    const roleId = eks.rootStack.getLogicalId(eks.feature.function.role.node.defaultChild as CfnElement);
    const statements = statementsOf(eks.root.Resources[roleId] ?? { Type: '', Properties: {} });
    const runs = statements.find((s) => s.Sid === 'ReadEksRuns');
    expect(runs).toMatchObject({ Action: 'dynamodb:Scan', Resource: { 'Fn::GetAtt': [tableId, 'Arn'] } });
    const fn = only(eks.root, 'AWS::Lambda::Function', 'FalconOrganizationCoverageFunction');
    const variables = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(variables['FALCON_ORG_RUNS_TABLE']).toEqual({ Ref: tableId });
    const env = readCoverageEnvironment({
      ...(variables as Record<string, string>),
      FALCON_ORG_COVERAGE_BUCKET: 'bucket',
      FALCON_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:999999999999:secret:x',
      FALCON_ORG_RUNS_TABLE: 'runs',
    });
    expect(env.settings.features.eksProtection).toEqual(['eu-central-1']);

    // EKS reported but not deployed: every cluster is "not deployed", and there is no table to read.
    const notDeployed = coverage({ coverage: { features: ['ssmDistributor', 'eksProtection'] } });
    const role2 = notDeployed.rootStack.getLogicalId(
      notDeployed.feature.function.role.node.defaultChild as CfnElement,
    );
    const statements2 = statementsOf(notDeployed.root.Resources[role2] ?? { Type: '', Properties: {} });
    expect(statements2.map((s) => s.Sid)).not.toContain('ReadEksRuns');
  });

  it('passes cdk-nag in the root stack and the member stack', () => {
    const { rootStack, feature } = coverage({ coverage: { features: ['ssmDistributor', 'eksProtection'] } });
    expect(nagFindings(feature, 'error')).toEqual([]);
    expect(nagFindings(feature.stackSet.memberStack, 'error')).toEqual([]);
    expect(nagFindings(rootStack, 'error').filter((f) => f.includes('/Coverage/'))).toEqual([]);
  });

  it('synthesizes with the root and member templates written next to each other', () => {
    const lambdaDir = withDummyDeployer(dummyLambdaDir(...handlerNames(), 'coverage'));
    dirs.push(lambdaDir);
    const outdir = dir('synth');
    const result = synthesize(testConfig({ coverage: { enabled: true } }), { outdir, lambdaDir });
    expect(result.stackSetTemplateFiles).toContain('fo-test-coverage-read.stackset.template.json');
    const member = JSON.parse(
      readFileSync(join(outdir, 'fo-test-coverage-read.stackset.template.json'), 'utf8'),
    ) as TemplateJson;
    expect(Object.values(member.Resources).map((r) => r.Type)).toEqual(['AWS::IAM::Role']);
    // plan lists it after the features, and counts its role in every account
    const plan = readPlan(outdir, result.rootTemplateFile, {
      name: result.rootStackName,
      homeRegion: 'eu-central-1',
    });
    const coverage = plan.features.find((f) => f.name === 'coverage');
    expect(coverage).toMatchObject({ status: 'deployed', resourcesPerAccount: 1 });
    expect(coverage?.stackSets.map((x) => [x.name, x.scope, x.regions])).toEqual([
      ['fo-test-coverage-read', 'account', ['eu-central-1']],
    ]);
    expect(plan.totals.resourcesPerAccount).toBe(sum(plan.features.map((f) => f.resourcesPerAccount)));
    expect(renderPlan(plan)).toContain('Feature coverage: deployed');
  });

  it('deploys nothing when disabled', () => {
    const lambdaDir = dummyLambdaDir('ecr-connect');
    dirs.push(lambdaDir);
    const { organization, rootStack } = buildApp(testConfig(), { outdir: dir('off'), lambdaDir });
    expect(organization.node.tryFindChild('Coverage')).toBeUndefined();
    expect(JSON.stringify(Template.fromStack(rootStack).toJSON())).not.toContain('coverage');
  });

  it('refuses to deploy a report with nothing to report, naming the fix', () => {
    expect(() => coverage({ features: { ssmDistributor: { enabled: false } } })).toThrow(ConfigError);
    expect(() => coverage({ features: { ssmDistributor: { enabled: false } } })).toThrow(
      /coverage\.enabled: expected at least one feature to report/,
    );
  });

  it('is invoked with no asynchronous retries; a failed run goes to a dead-letter queue with an alarm', () => {
    const { root } = coverage();
    const invokeConfig = only(root, 'AWS::Lambda::EventInvokeConfig');
    expect(invokeConfig.Properties['MaximumRetryAttempts']).toBe(0);
    const fn = resourcesOf(root, 'AWS::Lambda::Function').find(([id]) => id.includes('CoverageFunction'));
    expect(fn?.[1].Properties['DeadLetterConfig']).toBeDefined();
    const alarms = resourcesOf(root, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    const coverageAlarm = alarms.find((a) =>
      JSON.stringify(a['Dimensions']).includes('CoverageFunctionDeadLetters'),
    );
    expect(coverageAlarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(coverageAlarm?.['AlarmActions']).toBeUndefined();
  });

  it('alarms on every dead-letter queue (EKS events, EKS discovery, coverage) and notifies the configured topic', () => {
    const topicArn = 'arn:aws:sns:us-east-1:111122223333:falcon-org-alarms';
    const { root } = coverage({
      alarms: { topicArn },
      features: { eksProtection: { enabled: true, regions: ['us-east-1'] } },
    });
    const alarms = resourcesOf(root, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    const queues = alarms.map((a) => JSON.stringify(a['Dimensions']));
    expect(queues.filter((q) => q.includes('EventDeadLetters'))).toHaveLength(1);
    expect(queues.filter((q) => q.includes('DiscoveryDeadLetters'))).toHaveLength(1);
    expect(queues.filter((q) => q.includes('CoverageFunctionDeadLetters'))).toHaveLength(1);
    expect(alarms).toHaveLength(3);
    for (const a of alarms) {
      expect(a['AlarmActions']).toEqual([topicArn]);
      expect(a['OKActions']).toEqual([topicArn]);
    }
  });
});
