import { rmSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/infra/app.js';
import { SsmDistributor } from '../../src/infra/features/ssm-distributor.js';
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
  it('is assumed only by SSM on behalf of its own account, with one inline policy and no managed one', () => {
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
      Policies: [{ PolicyName: 'FalconSensorDeploy', PolicyDocument: Match.anyValue() }],
    });
    const text = JSON.stringify(feature.roleStackSet.memberTemplate);
    // No AWS-managed policy: AmazonSSMAutomationRole grants ssm:* on *, EC2 run/terminate and stack changes.
    expect(text).not.toContain('AmazonSSMAutomationRole');
    expect(text).not.toContain('ssm:*');
    expect(text).not.toContain('SecretsManagerReadWrite');
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

  it('associates CrowdStrike-FalconSensorDeploy with every configured setting, install options included', () => {
    const feature = ssmFeature({
      features: {
        ssmDistributor: {
          action: 'Uninstall',
          schedule: 'cron(0 30 2 ? * SUN *)',
          applyOnlyAtCronInterval: true,
          maxErrors: '3',
          maxConcurrency: '50%',
          documentVersion: '4',
          linuxInstallerParams: '--tags="Washington/DC_USA,Production" --aph=proxy.example.com --app=8080',
          windowsInstallerParams:
            'GROUPING_TAGS="Washington/DC_USA,Production" APP_PROXYNAME=proxy.example.com',
          linuxPackageVersion: '7.04.17600',
          windowsPackageVersion: '7.05.17706',
          complianceSeverity: 'HIGH',
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
        DocumentVersion: '4',
        AutomationTargetParameterName: 'InstanceIds',
        Targets: [{ Key: 'InstanceIds', Values: ['*'] }],
        ScheduleExpression: 'cron(0 30 2 ? * SUN *)',
        ApplyOnlyAtCronInterval: true,
        MaxErrors: '3',
        MaxConcurrency: '50%',
        ComplianceSeverity: 'HIGH',
        // CrowdStrike's parameter names and case, one value each (CloudFormation takes a list).
        Parameters: {
          Action: ['Uninstall'],
          SecretStorageMethod: ['SecretsManager'],
          SecretsManagerSecretName: ['fo-test-falcon-api'],
          AutomationAssumeRole: [
            partitionArn(':iam::', { Ref: 'AWS::AccountId' }, ':role/fo-test-ssm-automation'),
          ],
          LinuxInstallerParams: ['--tags="Washington/DC_USA,Production" --aph=proxy.example.com --app=8080'],
          WindowsInstallerParams: [
            'GROUPING_TAGS="Washington/DC_USA,Production" APP_PROXYNAME=proxy.example.com',
          ],
          LinuxPackageVersion: ['7.04.17600'],
          WindowsPackageVersion: ['7.05.17706'],
        },
      },
    });
  });

  it('uses the defaults: Install, $DEFAULT document, no install options or severity, daily, 10% errors, 20% concurrency', () => {
    const template = Template.fromJSON(ssmFeature().associationStackSet.memberTemplate);
    template.hasResourceProperties('AWS::SSM::Association', {
      // Exactly these: an unset install option is left to the document's default ("" = none, N-1 package).
      Parameters: {
        Action: ['Install'],
        SecretStorageMethod: ['SecretsManager'],
        SecretsManagerSecretName: ['fo-test-falcon-api'],
        AutomationAssumeRole: Match.anyValue(),
      },
      ScheduleExpression: 'rate(1 day)',
      // Only valid with cron(): a rate() schedule must not carry it at all.
      ApplyOnlyAtCronInterval: Match.absent(),
      ComplianceSeverity: Match.absent(),
      MaxErrors: '10%',
      MaxConcurrency: '20%',
      // CrowdStrike recommends the document's default version; it retires old ones.
      DocumentVersion: '$DEFAULT',
    });
  });

  it('keeps a pinned document version', () => {
    const template = Template.fromJSON(
      ssmFeature({ features: { ssmDistributor: { documentVersion: '3' } } }).associationStackSet
        .memberTemplate,
    );
    template.hasResourceProperties('AWS::SSM::Association', { DocumentVersion: '3' });
  });

  // What the document needs from every target kind (aws-ssm-distributor issue #135): rate control on
  // its required InstanceIds parameter, targets that resolve to EC2 instance IDs only, and no
  // InstanceIds or Targets among the parameters (State Manager fills InstanceIds per target).
  it.each([
    ['all', { type: 'all' }, [{ Key: 'InstanceIds', Values: ['*'] }], undefined],
    [
      'tags',
      { type: 'tags', tags: { env: ['prod', 'stage'], falcon: ['yes'] } },
      [{ Key: 'ResourceGroup', Values: ['fo-test-falcon-sensor-targets'] }],
      {
        Name: 'fo-test-falcon-sensor-targets',
        ResourceQuery: {
          Type: 'TAG_FILTERS_1_0',
          Query: {
            ResourceTypeFilters: ['AWS::EC2::Instance'],
            TagFilters: [
              { Key: 'env', Values: ['prod', 'stage'] },
              { Key: 'falcon', Values: ['yes'] },
            ],
          },
        },
      },
    ],
    [
      'resourceGroup',
      { type: 'resourceGroup', name: 'falcon-hosts' },
      [{ Key: 'ResourceGroup', Values: ['falcon-hosts'] }],
      undefined,
    ],
  ])(
    'targets "%s": the synthesized association passes what the document needs',
    (_kind, targets, keys, group) => {
      // Act
      const template = Template.fromJSON(
        ssmFeature({ features: { ssmDistributor: { targets } } }).associationStackSet.memberTemplate,
      );
      // Assess
      template.hasResourceProperties('AWS::SSM::Association', {
        Name: 'CrowdStrike-FalconSensorDeploy',
        AutomationTargetParameterName: 'InstanceIds',
        Targets: keys,
        Parameters: Match.objectLike({ Action: ['Install'] }),
      });
      const association = Object.values(template.findResources('AWS::SSM::Association'))[0] as {
        Properties: { Parameters: Record<string, unknown> };
        DependsOn?: string[];
      };
      expect(Object.keys(association.Properties.Parameters)).not.toContain('InstanceIds');
      expect(Object.keys(association.Properties.Parameters)).not.toContain('Targets');
      const text = JSON.stringify(template.toJSON());
      // Neither Automation-wide tag targets (any resource type, issue #77/#135) nor the Run Command group key.
      expect(text).not.toMatch(/"Key":"tag:/);
      expect(text).not.toContain('resource-groups:Name');
      if (group === undefined) {
        template.resourceCountIs('AWS::ResourceGroups::Group', 0);
      } else {
        template.resourceCountIs('AWS::ResourceGroups::Group', 1);
        template.hasResourceProperties('AWS::ResourceGroups::Group', group);
        // The group exists before the association's first run.
        const groupId = Object.keys(template.findResources('AWS::ResourceGroups::Group'))[0] ?? '';
        expect(association.DependsOn).toContain(groupId);
      }
    },
  );

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
