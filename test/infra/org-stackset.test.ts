import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText, type ResolvedConfig } from '../../src/config/load.js';
import { InfraError } from '../../src/infra/errors.js';
import { STACKSET_METADATA_KEY } from '../../src/infra/metadata.js';
import {
  OrgStackSet,
  TEMPLATE_BODY_LIMIT_BYTES,
  type OrgStackSetProps,
} from '../../src/infra/org-stackset.js';
import { tempDir, testConfig } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function build(config: ResolvedConfig, props: Partial<OrgStackSetProps> = {}) {
  const outdir = tempDir('stackset');
  dirs.push(outdir);
  const app = new cdk.App({ outdir });
  const stack = new cdk.Stack(app, 'Root', { env: { region: config.aws.homeRegion } });
  const stackSet = new OrgStackSet(stack, 'Set', {
    config,
    stackSetName: 'fo-test-demo',
    feature: 'ssmDistributor',
    description: 'demo',
    scope: 'account-region',
    regions: ['eu-west-1', 'eu-central-1'],
    defineMember: (member) => {
      new ssm.CfnParameter(member, 'Marker', { type: 'String', value: 'x' });
    },
    ...props,
  });
  return { outdir, stack, stackSet, template: Template.fromStack(stack) };
}

describe('OrgStackSet', () => {
  it('by default tolerates failures in a fifth of the accounts per region and keeps its concurrency when some fail', () => {
    // A healthy organization deploys when a few accounts cannot: with a tolerance of 0, one account
    // that refuses its instance fails the operation, the StackSet resource and the whole root stack.
    const config = parseConfigText(
      [
        'falcon: { cloud: us-1 }',
        'aws: { partition: aws, homeRegion: us-east-1 }',
        'organization: { id: o-abcdefghij, targets: [r-abcd] }',
      ].join('\n'),
      'defaults.yaml',
    );
    const { template } = build(config);
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      OperationPreferences: {
        MaxConcurrentPercentage: 25,
        FailureTolerancePercentage: 20,
        RegionConcurrencyType: 'PARALLEL',
        // STRICT (CloudFormation's default) would cap concurrency at tolerance + 1 accounts.
        ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
      },
    });
  });

  it('creates a SERVICE_MANAGED StackSet with auto-deployment, targets, exclusions and operation preferences', () => {
    const { template } = build(
      testConfig({ organization: { excludeAccounts: ['111111111111', '222222222222'] } }),
    );
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      StackSetName: 'fo-test-demo',
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'SELF',
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      ManagedExecution: { Active: true },
      OperationPreferences: {
        MaxConcurrentPercentage: 30,
        FailureTolerancePercentage: 5,
        RegionConcurrencyType: 'SEQUENTIAL',
        ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
      },
      StackInstancesGroup: [
        {
          DeploymentTargets: {
            OrganizationalUnitIds: ['ou-ab12-11111111', 'ou-ab12-22222222'],
            AccountFilterType: 'DIFFERENCE',
            Accounts: ['111111111111', '222222222222'],
          },
          Regions: ['eu-west-1', 'eu-central-1'],
        },
      ],
    });
  });

  it('targets the root with no account filter and calls as DELEGATED_ADMIN from a delegated administrator', () => {
    const { template } = build(
      testConfig({ aws: { accountType: 'delegatedAdmin' }, organization: { targets: ['r-ab12'] } }),
    );
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      CallAs: 'DELEGATED_ADMIN',
      StackInstancesGroup: [
        {
          DeploymentTargets: {
            OrganizationalUnitIds: ['r-ab12'],
            AccountFilterType: Match.absent(),
            Accounts: Match.absent(),
          },
          Regions: Match.anyValue(),
        },
      ],
    });
  });

  it('deploys account-scoped StackSets to the home region only', () => {
    const { stackSet, template } = build(testConfig(), { scope: 'account', regions: ['us-east-1'] });
    expect(stackSet.regions).toEqual(['eu-central-1']);
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      StackInstancesGroup: [Match.objectLike({ Regions: ['eu-central-1'] })],
    });
  });

  it('inlines a small member template, writes it to the assembly and records metadata for plan', () => {
    const { outdir, stackSet, template } = build(testConfig());
    const file = join(outdir, 'fo-test-demo.stackset.template.json');
    const written = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    expect(written).toEqual(stackSet.memberTemplate);
    template.hasResource('AWS::CloudFormation::StackSet', {
      Properties: Match.objectLike({
        TemplateBody: JSON.stringify(stackSet.memberTemplate),
        TemplateURL: Match.absent(),
      }),
      Metadata: {
        [STACKSET_METADATA_KEY]: {
          feature: 'ssmDistributor',
          scope: 'account-region',
          regions: ['eu-west-1', 'eu-central-1'],
          templateFile: 'fo-test-demo.stackset.template.json',
          description: 'demo',
        },
      },
    });
  });

  it('uploads a member template of 51,200 bytes or more as an asset and uses TemplateURL', () => {
    const { outdir, template } = build(testConfig(), {
      defineMember: (member) => {
        for (let i = 0; i < 60; i++) {
          new ssm.CfnParameter(member, `Big${i}`, { type: 'String', value: 'v'.repeat(1000) });
        }
      },
    });
    const file = join(outdir, 'fo-test-demo.stackset.template.json');
    expect(readFileSync(file).length).toBeGreaterThan(TEMPLATE_BODY_LIMIT_BYTES);
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      TemplateBody: Match.absent(),
      TemplateURL: Match.anyValue(),
    });
  });

  it('never inlines a member template holding a dynamic reference (CloudFormation would resolve it in the root)', () => {
    const { template } = build(testConfig(), {
      defineMember: (member) => {
        new ssm.CfnParameter(member, 'Ref', {
          type: 'String',
          value: cdk.SecretValue.secretsManager(
            'arn:aws:secretsmanager:eu-central-1:123456789012:secret:x-AbCdEf',
          ).unsafeUnwrap(),
        });
      },
    });
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      TemplateBody: Match.absent(),
      TemplateURL: Match.anyValue(),
    });
  });

  it('surfaces cdk-nag errors of the member stack as errors on the StackSet (synth then fails)', () => {
    const { stack } = build(testConfig(), {
      defineMember: (member) => {
        new Bucket(member, 'Careless');
      },
    });
    Annotations.fromStack(stack).hasError(
      '/Root/Set',
      Match.stringLikeRegexp('fo-test-demo member stack: AwsSolutions-S10.*/Careless/'),
    );
  });

  it('refuses an account-region StackSet without regions', () => {
    expect(() => build(testConfig(), { regions: [] })).toThrow(InfraError);
  });

  it('declares member parameters and passes root values, NoEcho where marked', () => {
    const { stackSet, template } = build(testConfig(), {
      parameters: {
        Secret: { value: 'root-value-token', noEcho: true, allowedPattern: '^x+$' },
        Plain: { value: 'plain', description: 'plain one' },
      },
    });
    Template.fromJSON(stackSet.memberTemplate).templateMatches({
      Parameters: {
        Secret: { Type: 'String', NoEcho: true, AllowedPattern: '^x+$' },
        Plain: { Type: 'String', Description: 'plain one', NoEcho: Match.absent() },
      },
    });
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      Parameters: [
        { ParameterKey: 'Secret', ParameterValue: 'root-value-token' },
        { ParameterKey: 'Plain', ParameterValue: 'plain' },
      ],
    });
  });

  it('tags every member resource with the configured tags (buildApp tags the StackSet itself)', () => {
    const { stackSet } = build(testConfig({ tags: { team: 'sec', 'cost-center': '42' } }));
    const member = Template.fromJSON(stackSet.memberTemplate);
    member.hasResourceProperties('AWS::SSM::Parameter', {
      Tags: { team: 'sec', 'cost-center': '42', owner: 'security-team' },
    });
  });
});
