import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { PARTITIONS } from '../../src/config/partitions.js';
import { readEcrEnvironment } from '../../src/ecr/environment.js';
import { parseProperties } from '../../src/ecr/properties.js';
import { isScheduledEvent } from '../../src/handlers/shared/lambda.js';
import { buildApp } from '../../src/infra/app.js';
import {
  CUSTOM_RESOURCE_SERVICE_TIMEOUT,
  ECR_CONNECTIONS_RESOURCE_TYPE,
  EcrConnections,
} from '../../src/infra/features/ecr-connections.js';
import { STACKSET_METADATA_KEY } from '../../src/infra/metadata.js';
import { nagFindings } from '../../src/infra/nag.js';
import { synthesize } from '../../src/infra/synth.js';
import { dummyLambdaDir, filesUnder, tempDir, testConfig } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

/**
 * A lambda directory with a stub `ecr-connect/index.mjs`: the templates only reference the bundle's
 * location (bucket and content-hashed key), so its content does not matter for these tests.
 */
function lambdaDir(): string {
  const d = dummyLambdaDir('ecr-connect');
  dirs.push(d);
  return d;
}

const ECR_ON = { features: { ecrConnections: { enabled: true } } };

/** A GovCloud (US) deployment with a government Falcon cloud. */
const GOVCLOUD = {
  aws: { partition: 'aws-us-gov', homeRegion: 'us-gov-west-1' },
  falcon: { cloud: 'us-gov-1' },
  features: {
    ssmDistributor: { enabled: false, regions: ['us-gov-west-1'] },
    ecrConnections: { enabled: true, regions: ['us-gov-west-1', 'us-gov-east-1'] },
  },
};

function withEcr(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const features = (overrides['features'] ?? {}) as Record<string, Record<string, unknown>>;
  return {
    ...overrides,
    features: { ...features, ecrConnections: { enabled: true, ...(features['ecrConnections'] ?? {}) } },
  };
}

function ecrFeature(overrides: Record<string, unknown> = {}, options: { purgeOnDelete?: boolean } = {}) {
  const { rootStack, organization } = buildApp(testConfig(withEcr(overrides)), {
    outdir: dir('ecr'),
    lambdaDir: lambdaDir(),
    ...options,
  });
  const feature = organization.node.tryFindChild('EcrConnections');
  if (!(feature instanceof EcrConnections)) throw new Error('EcrConnections not created');
  const member = feature.stackSet.memberTemplate as unknown as MemberTemplate;
  return { feature, rootStack, organization, member, template: Template.fromJSON(member) };
}

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DependsOn?: string[];
}
interface MemberTemplate {
  readonly Parameters: Record<string, Record<string, unknown>>;
  readonly Resources: Record<string, Resource>;
}

/** The single resource of a type, with its logical ID; fails when there is not exactly one. */
function only(member: MemberTemplate, type: string): Resource & { readonly id: string } {
  const found = Object.entries(member.Resources).filter(([, r]) => r.Type === type);
  expect(
    found.map(([id]) => id),
    type,
  ).toHaveLength(1);
  const [id, resource] = found[0];
  return { id, ...resource };
}

function idOf(member: MemberTemplate, type: string, prefix: string): string {
  const ids = Object.entries(member.Resources)
    .filter(([id, r]) => r.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
  expect(ids, `${type} ${prefix}`).toHaveLength(1);
  return ids[0];
}

const partitionArn = (...parts: unknown[]) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...parts]],
});

function connectionRole(member: MemberTemplate) {
  const roles = Object.values(member.Resources).filter(
    (r) => r.Type === 'AWS::IAM::Role' && typeof r.Properties['RoleName'] === 'string',
  );
  expect(roles).toHaveLength(1);
  return roles[0];
}

function executionRole(member: MemberTemplate) {
  return member.Resources[idOf(member, 'AWS::IAM::Role', 'ConnectExecutionRole')];
}

function executionStatements(member: MemberTemplate): unknown[] {
  const policies = executionRole(member).Properties['Policies'] as {
    PolicyDocument: { Statement: unknown[] };
  }[];
  expect(policies).toHaveLength(1);
  return policies[0].PolicyDocument.Statement;
}

describe('ECR Registry Connections: the StackSet (root stack)', () => {
  it('deploys one instance per account in the home region to the configured targets', () => {
    // Prepare / Act
    const { feature, rootStack } = ecrFeature({ organization: { excludeAccounts: ['111111111111'] } });
    const root = Template.fromStack(rootStack);
    // Assess
    expect(feature.stackSet.regions).toEqual(['eu-central-1']);
    root.hasResource('AWS::CloudFormation::StackSet', {
      Properties: {
        StackSetName: 'fo-test-ecr-connections',
        PermissionModel: 'SERVICE_MANAGED',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        StackInstancesGroup: [
          {
            DeploymentTargets: {
              OrganizationalUnitIds: ['ou-ab12-11111111', 'ou-ab12-22222222'],
              AccountFilterType: 'DIFFERENCE',
              Accounts: ['111111111111'],
            },
            Regions: ['eu-central-1'],
          },
        ],
      },
      Metadata: {
        [STACKSET_METADATA_KEY]: {
          feature: 'ecrConnections',
          scope: 'account',
          regions: ['eu-central-1'],
          templateFile: 'fo-test-ecr-connections.stackset.template.json',
        },
      },
    });
  });

  it('passes the credentials as NoEcho parameters and the code location from the artifact bucket', () => {
    const { feature, rootStack, organization, member } = ecrFeature();
    const root = Template.fromStack(rootStack);
    const resources = root.toJSON()['Resources'] as Record<string, Resource>;
    const stackSet = resources[rootStack.getLogicalId(feature.stackSet.stackSet)];
    const params = stackSet.Properties['Parameters'] as { ParameterKey: string; ParameterValue: unknown }[];
    const byKey = Object.fromEntries(params.map((p) => [p.ParameterKey, p.ParameterValue]));
    expect(Object.keys(byKey).sort()).toEqual([
      'FalconClientId',
      'FalconClientSecret',
      'LambdaCodeBucket',
      'LambdaCodeKey',
    ]);
    expect(byKey['FalconClientId']).toEqual({ Ref: 'FalconClientId' });
    expect(byKey['FalconClientSecret']).toEqual({ Ref: 'FalconClientSecret' });
    const code = organization.artifacts.codeFor('ecr-connect');
    expect(byKey['LambdaCodeBucket']).toEqual(rootStack.resolve(code.bucketName));
    expect(byKey['LambdaCodeKey']).toEqual(rootStack.resolve(code.key));
    root.templateMatches({
      Parameters: {
        FalconClientId: { Type: 'String', NoEcho: true },
        FalconClientSecret: { Type: 'String', NoEcho: true },
      },
    });
    // Member side: the credentials are NoEcho there too; the code location is not secret.
    expect(member.Parameters['FalconClientId']).toMatchObject({ Type: 'String', NoEcho: true });
    expect(member.Parameters['FalconClientSecret']).toMatchObject({ Type: 'String', NoEcho: true });
    expect(member.Parameters['LambdaCodeBucket']?.['NoEcho']).toBeUndefined();
    expect(member.Parameters['LambdaCodeKey']?.['NoEcho']).toBeUndefined();
  });

  it('is reported as deployed when enabled and adds nothing when disabled', () => {
    const { organization } = ecrFeature();
    expect(organization.featureStatus.ecrConnections).toBe('deployed');
    const { organization: off, rootStack } = buildApp(testConfig(), {
      outdir: dir('ecr'),
      lambdaDir: dir('l'),
    });
    expect(off.featureStatus.ecrConnections).toBe('disabled');
    expect(off.node.tryFindChild('EcrConnections')).toBeUndefined();
    expect(JSON.stringify(Template.fromStack(rootStack).toJSON())).not.toContain('ecr-connections');
  });

  it('fails with a clear error when the ecr-connect bundle has not been built', () => {
    expect(() => buildApp(testConfig(ECR_ON), { outdir: dir('ecr'), lambdaDir: dir('empty') })).toThrow(
      /the Lambda bundle "ecr-connect" is missing/,
    );
  });
});

describe('ECR Registry Connections: external ID and connection role', () => {
  it('generates the external ID in Secrets Manager: letters and digits, no value in the template', () => {
    const { member } = ecrFeature();
    const secret = member.Resources[idOf(member, 'AWS::SecretsManager::Secret', 'ConnectionExternalId')];
    expect(secret.Properties['GenerateSecretString']).toEqual({
      PasswordLength: 32,
      ExcludePunctuation: true,
      IncludeSpace: false,
    });
    expect(secret.Properties['SecretString']).toBeUndefined();
    // CloudFormation names it, so the resource is never replaced (a replacement would mint a new ID).
    expect(secret.Properties['Name']).toBeUndefined();
    expect(JSON.stringify(member)).not.toMatch(/"Type":"AWS::SSM::Parameter"/);
  });

  it('keeps the external ID resource identical across configuration changes (never regenerated on update)', () => {
    // Prepare: two deployments of the same prefix that differ in everything an update may change.
    const before = ecrFeature().member;
    const after = ecrFeature({
      permissionsBoundary: 'org-boundary',
      falcon: { cloud: 'us-2' },
      features: {
        ecrConnections: { regions: ['eu-west-1'], disconnectOnDelete: true, schedule: 'rate(12 hours)' },
      },
    }).member;
    // Assess: same logical ID and same generation settings, so CloudFormation keeps the value.
    const id = idOf(before, 'AWS::SecretsManager::Secret', 'ConnectionExternalId');
    expect(after.Resources[id]).toEqual(before.Resources[id]);
  });

  it('is trusted only by the commercial CrowdStrike principal, with the external ID read at deploy time', () => {
    const { member } = ecrFeature();
    const secretId = idOf(member, 'AWS::SecretsManager::Secret', 'ConnectionExternalId');
    const role = connectionRole(member);
    expect(role.Properties['RoleName']).toBe('fo-test-ecr-connection');
    expect(role.Properties['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::292230061137:role/CrowdStrikeCustomerRegistryAssessmentRole' },
          Condition: {
            StringEquals: {
              'sts:ExternalId': {
                'Fn::Join': [
                  '',
                  ['{', '{', 'resolve:secretsmanager:', { Ref: secretId }, ':SecretString:::}}'],
                ],
              },
            },
          },
        },
      ],
    });
  });

  it('keeps "{{" out of the member template, which the root stack carries as a string', () => {
    // Prepare
    const { member } = ecrFeature();
    const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:ConnectionExternalId-AbCdEf';
    const condition = (
      connectionRole(member).Properties['AssumeRolePolicyDocument'] as {
        Statement: { Condition: { StringEquals: Record<string, { 'Fn::Join': [string, unknown[]] }> } }[];
      }
    ).Statement[0].Condition.StringEquals['sts:ExternalId'];
    // Act: what the member stack's Fn::Join evaluates to once the Ref is the secret's ARN.
    const [separator, parts] = condition['Fn::Join'];
    const joined = parts.map((part) => (typeof part === 'string' ? part : arn)).join(separator);
    // Assess: a complete dynamic reference in the member stack, none in the TemplateBody text.
    expect(joined).toBe(`{{resolve:secretsmanager:${arn}:SecretString:::}}`);
    expect(JSON.stringify(member)).not.toContain('{{');
  });

  it('is trusted by the GovCloud CrowdStrike principal in a GovCloud deployment', () => {
    const { member } = ecrFeature(GOVCLOUD);
    const statement = (
      connectionRole(member).Properties['AssumeRolePolicyDocument'] as { Statement: { Principal: unknown }[] }
    ).Statement;
    expect(statement).toHaveLength(1);
    expect(statement[0].Principal).toEqual({
      AWS: 'arn:aws-us-gov:iam::358431324613:role/CrowdStrikeCustomerRegistryAssessmentRole',
    });
    expect(PARTITIONS['aws-us-gov'].registryAssessmentPrincipal).toBe(
      'arn:aws-us-gov:iam::358431324613:role/CrowdStrikeCustomerRegistryAssessmentRole',
    );
  });

  // IAM cannot name a principal of another partition, so the Falcon cloud never changes the principal:
  // a commercial account with a gov Falcon cloud trusts the commercial role (README, ECR with a
  // government Falcon cloud). Each partition × Falcon cloud, as synthesized.
  it.each(
    (['aws', 'aws-us-gov'] as const).flatMap((partition) =>
      ['us-1', 'us-2', 'eu-1', 'us-gov-1', 'us-gov-2'].map((cloud) => [partition, cloud] as const),
    ),
  )(
    'in a %s account with Falcon %s, trusts the CrowdStrike principal of that partition only',
    (partition, cloud) => {
      const overrides = partition === 'aws' ? { falcon: { cloud } } : { ...GOVCLOUD, falcon: { cloud } };
      const { member } = ecrFeature(overrides);
      const document = connectionRole(member).Properties['AssumeRolePolicyDocument'] as {
        Statement: { Principal: unknown; Action: unknown }[];
      };
      expect(document.Statement.map((s) => [s.Action, s.Principal])).toEqual([
        [
          'sts:AssumeRole',
          {
            AWS:
              partition === 'aws'
                ? 'arn:aws:iam::292230061137:role/CrowdStrikeCustomerRegistryAssessmentRole'
                : 'arn:aws-us-gov:iam::358431324613:role/CrowdStrikeCustomerRegistryAssessmentRole',
          },
        ],
      ]);
      // No principal of the other partition anywhere in the member template.
      expect(JSON.stringify(member)).not.toContain(
        partition === 'aws' ? 'arn:aws-us-gov:' : 'arn:aws:iam::292230061137',
      );
    },
  );

  it('grants only the AWS managed read-only ECR policy (partition-aware) and applies the boundary', () => {
    const { member } = ecrFeature({ permissionsBoundary: 'org-boundary' });
    const role = connectionRole(member);
    expect(role.Properties['ManagedPolicyArns']).toEqual([
      partitionArn(':iam::aws:policy/AmazonEC2ContainerRegistryReadOnly'),
    ]);
    expect(role.Properties['Policies']).toBeUndefined();
    expect(role.Properties['PermissionsBoundary']).toEqual(
      partitionArn(':iam::', { Ref: 'AWS::AccountId' }, ':policy/org-boundary'),
    );
    const noBoundary = connectionRole(ecrFeature().member);
    expect(noBoundary.Properties['PermissionsBoundary']).toBeUndefined();
    // No IAM policy resource attaches anything else to it.
    expect(Object.values(member.Resources).filter((r) => r.Type === 'AWS::IAM::Policy')).toEqual([]);
  });
});

describe('ECR Registry Connections: the ecr-connect function', () => {
  it('runs the bundle from the artifact bucket on Node.js 22 with one execution at a time when asked', () => {
    const { member } = ecrFeature({ features: { ecrConnections: { reserveConcurrency: true } } });
    const fn = only(member, 'AWS::Lambda::Function');
    const logGroupId = idOf(member, 'AWS::Logs::LogGroup', 'ConnectLogs');
    expect(fn.Properties).toMatchObject({
      FunctionName: 'fo-test-ecr-connect',
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Code: { S3Bucket: { Ref: 'LambdaCodeBucket' }, S3Key: { Ref: 'LambdaCodeKey' } },
      Timeout: 300,
      MemorySize: 256,
      ReservedConcurrentExecutions: 1,
      Role: { 'Fn::GetAtt': [idOf(member, 'AWS::IAM::Role', 'ConnectExecutionRole'), 'Arn'] },
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
    });
    expect(member.Resources[logGroupId]?.Properties['RetentionInDays']).toBe(365);
  });

  it('leaves concurrency unreserved by default (accounts with a quota of 10 refuse any reservation)', () => {
    const { member } = ecrFeature();
    const fn = only(member, 'AWS::Lambda::Function');
    expect(fn.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(fn.Properties).toMatchObject({ FunctionName: 'fo-test-ecr-connect', Runtime: 'nodejs22.x' });
  });

  it('sets exactly the environment the handler reads, and the handler accepts it', () => {
    const { member } = ecrFeature();
    const env = (
      only(member, 'AWS::Lambda::Function').Properties['Environment'] as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    const falconSecret = idOf(member, 'AWS::SecretsManager::Secret', 'FalconCredentials');
    const externalId = idOf(member, 'AWS::SecretsManager::Secret', 'ConnectionExternalId');
    const role = Object.entries(member.Resources).find(
      ([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties['RoleName'] === 'fo-test-ecr-connection',
    )![0];
    expect(env).toEqual({
      FALCON_SECRET_ARN: { Ref: falconSecret },
      EXTERNAL_ID_SECRET_ARN: { Ref: externalId },
      CONNECTION_ROLE_ARN: { 'Fn::GetAtt': [role, 'Arn'] },
      OWNERSHIP_PARAMETER_NAME: '/fo-test/ecr-connections/ownership',
      LOG_GROUP_NAME: { Ref: idOf(member, 'AWS::Logs::LogGroup', 'ConnectLogs') },
      FOLLOW_UP_SCHEDULE_NAME: 'fo-test-ecr-connect-follow-up',
      FOLLOW_UP_ROLE_ARN: { 'Fn::GetAtt': [idOf(member, 'AWS::IAM::Role', 'ConnectFollowUpRole'), 'Arn'] },
    });
    // What CloudFormation would resolve these to in account 123456789012 is valid for the handler.
    const resolved = readEcrEnvironment(
      {
        FALCON_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-AbCdEf',
        EXTERNAL_ID_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:ext-AbCdEf',
        CONNECTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/fo-test-ecr-connection',
        OWNERSHIP_PARAMETER_NAME: env['OWNERSHIP_PARAMETER_NAME'] as string,
        LOG_GROUP_NAME: 'StackSet-fo-test-ecr-connections-abc-ConnectLogs0123-AbCd',
        FOLLOW_UP_SCHEDULE_NAME: env['FOLLOW_UP_SCHEDULE_NAME'] as string,
        FOLLOW_UP_ROLE_ARN: 'arn:aws:iam::123456789012:role/StackSet-fo-test-ecr-ConnectFollowUpRole-AbC',
      },
      '123456789012',
      'aws',
    );
    expect(resolved.followUp).toEqual({
      scheduleName: 'fo-test-ecr-connect-follow-up',
      roleArn: 'arn:aws:iam::123456789012:role/StackSet-fo-test-ecr-ConnectFollowUpRole-AbC',
    });
    expect(resolved.ownershipParameterName).toBe('/fo-test/ecr-connections/ownership');
    expect(resolved.logGroupName).toBe('StackSet-fo-test-ecr-connections-abc-ConnectLogs0123-AbCd');
  });

  it('stores the Falcon credentials for the handler from the NoEcho parameters', () => {
    const plain = ecrFeature().member;
    const secret = plain.Resources[idOf(plain, 'AWS::SecretsManager::Secret', 'FalconCredentials')];
    expect(secret.Properties['SecretString']).toEqual({
      'Fn::Join': [
        '',
        [
          '{"ClientId":"',
          { Ref: 'FalconClientId' },
          '","ClientSecret":"',
          { Ref: 'FalconClientSecret' },
          '","Cloud":"eu-1"}',
        ],
      ],
    });
    const proxied = ecrFeature({ falcon: { baseUrl: 'https://falcon-proxy.example' } }).member;
    const withUrl = proxied.Resources[idOf(proxied, 'AWS::SecretsManager::Secret', 'FalconCredentials')];
    expect(JSON.stringify(withUrl.Properties['SecretString'])).toContain(
      '\\",\\"Cloud\\":\\"eu-1\\",\\"BaseUrl\\":\\"https://falcon-proxy.example\\"}',
    );
  });
});

describe('ECR Registry Connections: least-privilege execution role', () => {
  function expectedStatements(member: MemberTemplate, discover: boolean, purge = false): unknown[] {
    const falconSecret = idOf(member, 'AWS::SecretsManager::Secret', 'FalconCredentials');
    const externalId = idOf(member, 'AWS::SecretsManager::Secret', 'ConnectionExternalId');
    const logGroup = idOf(member, 'AWS::Logs::LogGroup', 'ConnectLogs');
    return [
      {
        Sid: 'ReadFalconCredentialsAndExternalId',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [{ Ref: falconSecret }, { Ref: externalId }],
      },
      {
        Sid: 'KeepOwnershipRecord',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
        Resource: [
          partitionArn(
            ':ssm:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':parameter/fo-test/ecr-connections/ownership',
          ),
          partitionArn(
            ':ssm:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':parameter/fo-test/ecr-connections/ownership-lease',
          ),
        ],
      },
      ...(discover
        ? [{ Sid: 'DiscoverEnabledRegions', Effect: 'Allow', Action: 'account:ListRegions', Resource: '*' }]
        : []),
      // Issue 14.7b: one follow-up schedule of this name, and its role handed to Scheduler only.
      {
        Sid: 'ScheduleFollowUpRun',
        Effect: 'Allow',
        Action: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
        Resource: partitionArn(
          ':scheduler:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':schedule/default/fo-test-ecr-connect-follow-up',
        ),
      },
      {
        Sid: 'PassFollowUpRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [idOf(member, 'AWS::IAM::Role', 'ConnectFollowUpRole'), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
      // The function builder's: its own logs last (src/infra/function-builder.ts).
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
      },
      ...(purge
        ? [
            {
              Sid: 'PurgeOwnLogGroup',
              Effect: 'Allow',
              Action: 'logs:DeleteLogGroup',
              Resource: [
                partitionArn(
                  ':logs:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':log-group:',
                  { Ref: logGroup },
                ),
                { 'Fn::GetAtt': [logGroup, 'Arn'] },
              ],
            },
          ]
        : []),
    ];
  }

  it('lets EventBridge Scheduler of this account alone invoke exactly this function for a follow-up run', () => {
    const { member } = ecrFeature();
    const role = Object.entries(member.Resources).find(([id]) => id.startsWith('ConnectFollowUpRole'))?.[1];
    expect(role?.Properties['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    expect(role?.Properties['Policies']).toEqual([
      {
        PolicyName: 'InvokeEcrConnect',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'InvokeEcrConnect',
              Effect: 'Allow',
              Action: 'lambda:InvokeFunction',
              Resource: partitionArn(
                ':lambda:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':function:fo-test-ecr-connect',
              ),
            },
          ],
        },
      },
    ]);
  });

  it('has exactly these statements when every enabled region is discovered (no regions configured)', () => {
    const { member } = ecrFeature({ permissionsBoundary: 'arn:aws:iam::123456789012:policy/central' });
    expect(executionStatements(member)).toEqual(expectedStatements(member, true));
    const role = executionRole(member);
    expect(role.Properties['ManagedPolicyArns']).toBeUndefined();
    // The policy of that name in each member account: IAM takes no boundary from another account.
    expect(role.Properties['PermissionsBoundary']).toEqual(
      partitionArn(':iam::', { Ref: 'AWS::AccountId' }, ':policy/central'),
    );
    expect(role.Properties['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ],
    });
  });

  it('may delete exactly its own log group only in the template of destroy --purge', () => {
    const { member } = ecrFeature({}, { purgeOnDelete: true });
    expect(executionStatements(member)).toEqual(expectedStatements(member, true, true));
  });

  it('drops account:ListRegions when regions are configured, and in GovCloud', () => {
    const configured = ecrFeature({ features: { ecrConnections: { regions: ['eu-west-1'] } } }).member;
    expect(executionStatements(configured)).toEqual(expectedStatements(configured, false));
    const gov = ecrFeature({
      ...GOVCLOUD,
      features: { ...GOVCLOUD.features, ecrConnections: { enabled: true } },
    });
    expect(executionStatements(gov.member)).toEqual(expectedStatements(gov.member, false));
  });

  it('never grants a wildcard on IAM or Secrets Manager, and no IAM action but passing the follow-up role', () => {
    const { member } = ecrFeature();
    for (const statement of executionStatements(member) as {
      Action: string | string[];
      Resource: unknown;
      Condition?: unknown;
    }[]) {
      const actions = [statement.Action].flat();
      if (actions.some((a) => a.startsWith('iam:'))) {
        expect(actions).toEqual(['iam:PassRole']);
        expect(statement.Condition).toEqual({
          StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
        });
      }
      expect(actions.some((a) => a.includes('*'))).toBe(false);
      if (statement.Resource === '*') expect(actions).toEqual(['account:ListRegions']);
    }
    expect(Object.values(member.Resources).filter((r) => r.Type === 'AWS::IAM::Policy')).toEqual([]);
    expect(Object.values(member.Resources).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')).toEqual([]);
  });
});

describe('ECR Registry Connections: custom resource', () => {
  it('carries the properties the handler parses, depends on the role and holds no secret', () => {
    // Prepare / Act
    const { member } = ecrFeature({
      features: { ecrConnections: { regions: ['eu-west-1', 'eu-central-1'], disconnectOnDelete: true } },
    });
    const cr = only(member, ECR_CONNECTIONS_RESOURCE_TYPE);
    const fnId = idOf(member, 'AWS::Lambda::Function', 'ConnectFunction');
    // Assess
    expect(cr.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [fnId, 'Arn'] },
      ServiceTimeout: String(CUSTOM_RESOURCE_SERVICE_TIMEOUT.toSeconds()),
      DeploymentId: 'fo-test',
      Regions: ['eu-central-1', 'eu-west-1'],
      DisconnectOnDelete: 'true',
      PurgeOnDelete: 'false',
      RepairSchedule: 'rate(1 day)',
      ConfigHash: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      CodeKey: { Ref: 'LambdaCodeKey' },
    });
    expect(cr.DependsOn).toContain(connectionRoleId(member));
    const parsed = parseProperties(cr.Properties);
    expect(parsed).toMatchObject({
      deploymentId: 'fo-test',
      regions: ['eu-central-1', 'eu-west-1'],
      disconnectOnDelete: true,
    });
    const text = JSON.stringify(cr);
    for (const secretish of [
      'FalconClientId',
      'FalconClientSecret',
      'resolve:',
      'ExternalId',
      'Credentials',
    ]) {
      expect(text).not.toContain(secretish);
    }
  });

  it('asks the Delete to purge only in the template of destroy --purge', () => {
    const purging = only(ecrFeature({}, { purgeOnDelete: true }).member, ECR_CONNECTIONS_RESOURCE_TYPE);
    expect(purging.Properties['PurgeOnDelete']).toBe('true');
    expect(parseProperties(purging.Properties)).toMatchObject({ purgeOnDelete: true });
    const plain = only(ecrFeature().member, ECR_CONNECTIONS_RESOURCE_TYPE);
    expect(parseProperties(plain.Properties)).toMatchObject({ purgeOnDelete: false });
  });

  it('asks for every enabled region when none are configured and does not disconnect by default', () => {
    const cr = only(ecrFeature().member, ECR_CONNECTIONS_RESOURCE_TYPE);
    expect(cr.Properties['Regions']).toEqual([]);
    expect(cr.Properties['DisconnectOnDelete']).toBe('false');
    expect(parseProperties(cr.Properties)).toMatchObject({ regions: 'all', disconnectOnDelete: false });
  });

  it('changes ConfigHash when a setting the reconcile depends on changes, and only then', () => {
    const hash = (o: Record<string, unknown> = {}) =>
      only(ecrFeature(o).member, ECR_CONNECTIONS_RESOURCE_TYPE).Properties['ConfigHash'];
    const base = hash();
    expect(hash()).toBe(base);
    expect(hash({ tags: { owner: 'someone-else' } })).toBe(base);
    expect(hash({ features: { ecrConnections: { regions: ['eu-west-1'] } } })).not.toBe(base);
    expect(hash({ falcon: { cloud: 'us-2' } })).not.toBe(base);
    expect(hash({ falcon: { baseUrl: 'https://falcon-proxy.example' } })).not.toBe(base);
  });
});

function connectionRoleId(member: MemberTemplate): string {
  return Object.entries(member.Resources).find(
    ([, r]) => r.Type === 'AWS::IAM::Role' && typeof r.Properties['RoleName'] === 'string',
  )![0];
}

describe('ECR Registry Connections: drift-repair schedule', () => {
  it('invokes the function daily by default with the scheduled event unchanged, allowed only from the rule', () => {
    const { member } = ecrFeature();
    const rule = only(member, 'AWS::Events::Rule');
    const fnArn = { 'Fn::GetAtt': [idOf(member, 'AWS::Lambda::Function', 'ConnectFunction'), 'Arn'] };
    const cr = only(member, ECR_CONNECTIONS_RESOURCE_TYPE);
    // The handler answers the configured schedule spread by account; the rule reads it from there.
    expect(cr.Properties['RepairSchedule']).toBe('rate(1 day)');
    expect(rule.Properties['ScheduleExpression']).toEqual({ 'Fn::GetAtt': [cr.id, 'RepairSchedule'] });
    expect(rule.Properties['State']).toBe('ENABLED');
    expect(rule.Properties['Targets']).toEqual([{ Arn: fnArn, Id: 'Target0' }]);
    const permission = only(member, 'AWS::Lambda::Permission');
    expect(permission.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: fnArn,
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [rule.id, 'Arn'] },
    });
    // No Input override: the function receives what EventBridge sends on a schedule, which the
    // handler takes as a repair run.
    const scheduled = {
      version: '0',
      id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-11-26T00:00:00Z',
      region: 'eu-central-1',
      resources: ['arn:aws:events:eu-central-1:123456789012:rule/x'],
      detail: {},
    };
    expect(isScheduledEvent(scheduled)).toBe(true);
  });

  it('uses the configured schedule', () => {
    const { member } = ecrFeature({ features: { ecrConnections: { schedule: 'cron(0 3 * * ? *)' } } });
    const cr = only(member, ECR_CONNECTIONS_RESOURCE_TYPE);
    expect(cr.Properties['RepairSchedule']).toBe('cron(0 3 * * ? *)');
    expect(parseProperties(cr.Properties).schedule).toBe('cron(0 3 * * ? *)');
  });
});

describe('ECR Registry Connections: cdk-nag', () => {
  const variants: [string, Record<string, unknown>][] = [
    ['every region, environment credentials, boundary', { permissionsBoundary: 'org-boundary' }],
    [
      'configured regions, Secrets Manager credentials, delegated admin',
      {
        aws: { accountType: 'delegatedAdmin' },
        falcon: {
          credentials: {
            source: 'secretsManager',
            secretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-AbCdEf',
          },
        },
        features: { ecrConnections: { regions: ['eu-west-1'] } },
      },
    ],
    ['GovCloud', GOVCLOUD],
  ];

  it.each(variants)('reports no unacknowledged errors or warnings (%s)', (_, overrides) => {
    const { feature, rootStack } = ecrFeature(overrides);
    for (const stack of [rootStack, feature.stackSet.memberStack]) {
      expect(nagFindings(stack, 'error'), stack.stackName).toEqual([]);
      expect(nagFindings(stack, 'warning'), stack.stackName).toEqual([]);
    }
  });
});

describe('ECR Registry Connections: synthesized output', () => {
  it('holds no credential values even when FALCON_CLIENT_ID and FALCON_CLIENT_SECRET are set', () => {
    // Prepare
    const id = 'MARKERecrclientid0123456789abcdef';
    const secret = 'MARKERecrsecretZyXwVuTsRqPoNmLkJiHgFeDcBa987';
    const saved = { id: process.env['FALCON_CLIENT_ID'], secret: process.env['FALCON_CLIENT_SECRET'] };
    process.env['FALCON_CLIENT_ID'] = id;
    process.env['FALCON_CLIENT_SECRET'] = secret;
    try {
      const outdir = dir('ecr-synth');
      // Act
      const result = synthesize(testConfig(ECR_ON), { outdir, lambdaDir: lambdaDir() });
      // Assess
      expect(result.stackSetTemplateFiles).toContain('fo-test-ecr-connections.stackset.template.json');
      // CDK's template validation (report in the out dir) flags dynamic references in the TemplateBody.
      const report = readFileSync(join(outdir, 'validation-report.json'), 'utf8');
      expect(report).not.toMatch(/dynamic reference/i);
      const files = filesUnder(outdir);
      expect(files.length).toBeGreaterThan(3);
      for (const file of files) {
        const content = readFileSync(file);
        expect(content.includes(id), file).toBe(false);
        expect(content.includes(secret), file).toBe(false);
        expect(content.includes('MARKER'), file).toBe(false);
      }
    } finally {
      restore('FALCON_CLIENT_ID', saved.id);
      restore('FALCON_CLIENT_SECRET', saved.secret);
    }
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
