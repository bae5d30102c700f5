import { rmSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/infra/app.js';
import { SsmDistributor } from '../../src/infra/features/ssm-distributor.js';
import { associationTargets } from '../../src/infra/features/ssm-association.js';
import { tempDir, testConfig } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function ssmFeature(overrides: Record<string, unknown> = {}): SsmDistributor {
  const outdir = tempDir('ssm');
  dirs.push(outdir);
  const { organization } = buildApp(testConfig(overrides), { outdir, lambdaDir: outdir });
  const feature = organization.node.tryFindChild('SsmDistributor');
  if (!(feature instanceof SsmDistributor)) throw new Error('SsmDistributor not created');
  return feature;
}

const partitionArn = (...parts: unknown[]) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...parts]],
});

describe('SSM Distributor: automation role (per account)', () => {
  it('is assumed only by SSM on behalf of its own account, with the exact permissions', () => {
    // Prepare
    const feature = ssmFeature({ permissionsBoundary: 'org-boundary' });
    // Act
    const template = Template.fromJSON(feature.roleStackSet.memberTemplate);
    // Assess
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'fo-test-ssm-automation',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'ssm.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      ManagedPolicyArns: Match.absent(),
      PermissionsBoundary: partitionArn(':iam::', { Ref: 'AWS::AccountId' }, ':policy/org-boundary'),
      Policies: [
        {
          PolicyName: 'FalconSensorDeploy',
          PolicyDocument: {
            Version: '2012-10-17',
            // Exactly what CrowdStrike-FalconSensorDeploy does, in the configured SSM regions only.
            Statement: [
              {
                Sid: 'InstanceStatusReads',
                Effect: 'Allow',
                Action: ['ssm:GetInventory', 'ssm:DescribeInstanceInformation'],
                Resource: '*',
              },
              {
                Sid: 'RunConfigurePackage',
                Effect: 'Allow',
                Action: 'ssm:SendCommand',
                Resource: ['eu-central-1', 'eu-west-1'].flatMap((region) => [
                  partitionArn(`:ssm:${region}::document/AWS-ConfigureAWSPackage`),
                  partitionArn(`:ec2:${region}:`, { Ref: 'AWS::AccountId' }, ':instance/*'),
                ]),
              },
              {
                Sid: 'CommandStatusReads',
                Effect: 'Allow',
                Action: ['ssm:ListCommands', 'ssm:ListCommandInvocations'],
                Resource: '*',
              },
              {
                Sid: 'FalconSecretRead',
                Effect: 'Allow',
                Action: 'secretsmanager:GetSecretValue',
                // Exactly the Falcon secret, in exactly the configured SSM regions.
                Resource: ['eu-central-1', 'eu-west-1'].map((region) =>
                  partitionArn(
                    `:secretsmanager:${region}:`,
                    { Ref: 'AWS::AccountId' },
                    ':secret:fo-test-falcon-api-??????',
                  ),
                ),
              },
            ],
          },
        },
      ],
    });
    const text = JSON.stringify(feature.roleStackSet.memberTemplate);
    // No AWS-managed policy: AmazonSSMAutomationRole grants ssm:* on *, EC2 run/terminate and stack changes.
    expect(text).not.toContain('AmazonSSMAutomationRole');
    expect(text).not.toContain('ssm:*');
    expect(JSON.stringify(feature.roleStackSet.memberTemplate)).not.toContain('SecretsManagerReadWrite');
  });

  it("takes a customer policy ARN's path and name in each member account, keeps an AWS managed ARN, omits none", () => {
    // IAM accepts a boundary only from the role's own account: one account's ARN would fail in all others.
    const arn = 'arn:aws:iam::123456789012:policy/security/central-boundary';
    const withArn = Template.fromJSON(ssmFeature({ permissionsBoundary: arn }).roleStackSet.memberTemplate);
    withArn.hasResourceProperties('AWS::IAM::Role', {
      PermissionsBoundary: partitionArn(
        ':iam::',
        { Ref: 'AWS::AccountId' },
        ':policy/security/central-boundary',
      ),
    });
    const managed = 'arn:aws:iam::aws:policy/PowerUserAccess';
    Template.fromJSON(
      ssmFeature({ permissionsBoundary: managed }).roleStackSet.memberTemplate,
    ).hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: managed });
    const without = Template.fromJSON(ssmFeature().roleStackSet.memberTemplate);
    without.hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: Match.absent() });
  });

  it('deploys the role once per account in the home region only', () => {
    const feature = ssmFeature();
    expect(feature.roleStackSet.regions).toEqual(['eu-central-1']);
  });
});

describe('SSM Distributor: secret and association (per account and region)', () => {
  it('builds the secret from NoEcho parameters with ClientId, ClientSecret and Cloud (the API base URL)', () => {
    const template = Template.fromJSON(ssmFeature().associationStackSet.memberTemplate);
    template.templateMatches({
      Parameters: {
        FalconClientId: { Type: 'String', NoEcho: true },
        FalconClientSecret: { Type: 'String', NoEcho: true },
      },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'fo-test-falcon-api',
      SecretString: {
        'Fn::Join': [
          '',
          [
            '{"ClientId":"',
            { Ref: 'FalconClientId' },
            '","ClientSecret":"',
            { Ref: 'FalconClientSecret' },
            '","Cloud":"https://api.eu-1.crowdstrike.com"}',
          ],
        ],
      },
    });
  });

  it('associates CrowdStrike-FalconSensorDeploy with every configured setting', () => {
    const feature = ssmFeature({
      features: {
        ssmDistributor: {
          action: 'Uninstall',
          schedule: 'cron(0 30 2 ? * SUN *)',
          applyOnlyAtCronInterval: true,
          maxErrors: '3',
          maxConcurrency: '50%',
          documentVersion: '$LATEST',
        },
      },
    });
    const template = Template.fromJSON(feature.associationStackSet.memberTemplate);
    template.resourceCountIs('AWS::SSM::Association', 1);
    template.hasResource('AWS::SSM::Association', {
      DependsOn: [Match.stringLikeRegexp('^FalconSecret')],
      Properties: {
        Name: 'CrowdStrike-FalconSensorDeploy',
        AssociationName: 'fo-test-falcon-sensor',
        DocumentVersion: '$LATEST',
        AutomationTargetParameterName: 'InstanceIds',
        Targets: [{ Key: 'InstanceIds', Values: ['*'] }],
        ScheduleExpression: 'cron(0 30 2 ? * SUN *)',
        ApplyOnlyAtCronInterval: true,
        MaxErrors: '3',
        MaxConcurrency: '50%',
        Parameters: {
          Action: ['Uninstall'],
          SecretStorageMethod: ['SecretsManager'],
          SecretsManagerSecretName: ['fo-test-falcon-api'],
          AutomationAssumeRole: [
            partitionArn(':iam::', { Ref: 'AWS::AccountId' }, ':role/fo-test-ssm-automation'),
          ],
        },
      },
    });
  });

  it('uses the defaults: Install, daily without ApplyOnlyAtCronInterval, 10% errors, 20% concurrency, document version 3', () => {
    const template = Template.fromJSON(ssmFeature().associationStackSet.memberTemplate);
    template.hasResourceProperties('AWS::SSM::Association', {
      Parameters: Match.objectLike({ Action: ['Install'] }),
      ScheduleExpression: 'rate(1 day)',
      // Only valid with cron(): a rate() schedule must not carry it at all.
      ApplyOnlyAtCronInterval: Match.absent(),
      MaxErrors: '10%',
      MaxConcurrency: '20%',
      DocumentVersion: '3',
    });
  });

  it('targets instances by tag (one target per key) or by resource group', () => {
    const tagged = Template.fromJSON(
      ssmFeature({
        features: {
          ssmDistributor: { targets: { type: 'tags', tags: { env: ['prod', 'stage'], falcon: ['yes'] } } },
        },
      }).associationStackSet.memberTemplate,
    );
    tagged.hasResourceProperties('AWS::SSM::Association', {
      Targets: [
        { Key: 'tag:env', Values: ['prod', 'stage'] },
        { Key: 'tag:falcon', Values: ['yes'] },
      ],
    });
    const grouped = Template.fromJSON(
      ssmFeature({
        features: { ssmDistributor: { targets: { type: 'resourceGroup', name: 'falcon-hosts' } } },
      }).associationStackSet.memberTemplate,
    );
    grouped.hasResourceProperties('AWS::SSM::Association', {
      // Automation (rate-controlled) targets name a resource group with `ResourceGroup`; the Run
      // Command key `resource-groups:Name` would match nothing (SSM API Reference, data type Target).
      Targets: [{ Key: 'ResourceGroup', Values: ['falcon-hosts'] }],
    });
    expect(JSON.stringify(grouped.toJSON())).not.toContain('resource-groups:Name');
    expect(associationTargets({ type: 'all' })).toEqual([{ key: 'InstanceIds', values: ['*'] }]);
  });

  it('deploys to every configured SSM region and passes the credentials on as NoEcho values', () => {
    const feature = ssmFeature();
    expect(feature.associationStackSet.regions).toEqual(['eu-central-1', 'eu-west-1']);
    const props = feature.associationStackSet.stackSet;
    const root = Template.fromStack(props.stack);
    root.hasResourceProperties('AWS::CloudFormation::StackSet', {
      StackSetName: 'fo-test-ssm-association',
      Parameters: [
        { ParameterKey: 'FalconClientId', ParameterValue: { Ref: 'FalconClientId' } },
        { ParameterKey: 'FalconClientSecret', ParameterValue: { Ref: 'FalconClientSecret' } },
      ],
    });
    root.templateMatches({
      Parameters: {
        FalconClientId: { Type: 'String', NoEcho: true },
        FalconClientSecret: { Type: 'String', NoEcho: true },
      },
    });
  });

  it('creates the association StackSet after the role StackSet', () => {
    const feature = ssmFeature();
    const root = Template.fromStack(feature.associationStackSet.stackSet.stack);
    const roleId = feature.associationStackSet.stackSet.stack.getLogicalId(feature.roleStackSet.stackSet);
    root.hasResource('AWS::CloudFormation::StackSet', {
      Properties: Match.objectLike({ StackSetName: 'fo-test-ssm-association' }),
      DependsOn: [roleId],
    });
  });
});
