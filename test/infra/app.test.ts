import { rmSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/infra/app.js';
import { CLIENT_ID_PARAMETER, CLIENT_SECRET_PARAMETER } from '../../src/infra/credentials.js';
import { OrgStackSet } from '../../src/infra/org-stackset.js';
import { dummyLambdaDir, tempDir, testConfig } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

describe('buildApp', () => {
  it('creates the root stack named by the prefix in the home region, with the configured tags', () => {
    const outdir = dir('app');
    const { app, rootStack } = buildApp(testConfig({ tags: { owner: 'sec', 'cost-center': '42' } }), {
      outdir,
      lambdaDir: outdir,
    });
    expect(rootStack.stackName).toBe('fo-test');
    expect(rootStack.region).toBe('eu-central-1');
    app.synth();
    const template = Template.fromStack(rootStack);
    const taggable = [
      'AWS::S3::Bucket',
      'AWS::CloudFormation::StackSet',
      'AWS::SecretsManager::Secret',
      'AWS::IAM::Role',
      'AWS::Lambda::Function',
    ];
    for (const type of taggable) {
      const resources = Object.values(template.findResources(type)) as { Properties: { Tags?: unknown } }[];
      expect(resources.length, type).toBeGreaterThan(0);
      for (const r of resources) {
        expect(r.Properties.Tags, type).toEqual(
          expect.arrayContaining([
            { Key: 'owner', Value: 'sec' },
            { Key: 'cost-center', Value: '42' },
          ]),
        );
      }
    }
  });

  it('puts the permissions boundary on every role, CDK helper roles of the root stack included', () => {
    // Prepare: ECR needs a bundle, so the bucket-deployment and auto-delete helper roles exist too.
    const outdir = dir('app');
    const lambdaDir = dummyLambdaDir('ecr-connect');
    dirs.push(lambdaDir);
    const config = testConfig({
      permissionsBoundary: 'org-boundary',
      features: { ecrConnections: { enabled: true } },
    });
    // Act
    const { app, rootStack, organization } = buildApp(config, { outdir, lambdaDir });
    app.synth();
    // Assess
    const boundary = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':policy/org-boundary'],
      ],
    };
    const templates = [
      Template.fromStack(rootStack).toJSON(),
      ...organization.node
        .findAll()
        .filter((c): c is OrgStackSet => c instanceof OrgStackSet)
        .map((s) => s.memberTemplate),
    ] as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }[];
    const roles = templates.flatMap((t) =>
      Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role'),
    );
    // Root: auto-delete and bucket-deployment helpers; members: SSM automation, ECR connection and execution roles.
    expect(roles.length).toBeGreaterThanOrEqual(5);
    for (const [id, role] of roles) expect(role.Properties['PermissionsBoundary'], id).toEqual(boundary);
  });

  it('creates a central secret from NoEcho parameters when credentials come from the environment', () => {
    const outdir = dir('app');
    const { rootStack } = buildApp(testConfig(), { outdir, lambdaDir: outdir });
    const template = Template.fromStack(rootStack);
    template.templateMatches({
      Parameters: {
        [CLIENT_ID_PARAMETER]: { Type: 'String', NoEcho: true },
        [CLIENT_SECRET_PARAMETER]: { Type: 'String', NoEcho: true },
      },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: {
        'Fn::Join': [
          '',
          [
            '{"ClientId":"',
            { Ref: CLIENT_ID_PARAMETER },
            '","ClientSecret":"',
            { Ref: CLIENT_SECRET_PARAMETER },
            '","Cloud":"eu-1"}',
          ],
        ],
      },
    });
  });

  it('reads an existing secret through dynamic references and declares no credential parameters', () => {
    const outdir = dir('app');
    const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-AbCdEf';
    const { rootStack } = buildApp(
      testConfig({ falcon: { credentials: { source: 'secretsManager', secretArn: arn } } }),
      { outdir, lambdaDir: outdir },
    );
    const template = Template.fromStack(rootStack);
    expect(Object.keys(template.toJSON()['Parameters'] as object)).not.toContain(CLIENT_ID_PARAMETER);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      Parameters: [
        {
          ParameterKey: 'FalconClientId',
          ParameterValue: `{{resolve:secretsmanager:${arn}:SecretString:ClientId::}}`,
        },
        {
          ParameterKey: 'FalconClientSecret',
          ParameterValue: `{{resolve:secretsmanager:${arn}:SecretString:ClientSecret::}}`,
        },
      ],
    });
  });

  it('adds no credential parameters and no StackSets when no feature is enabled', () => {
    const outdir = dir('app');
    const { rootStack } = buildApp(testConfig({ features: { ssmDistributor: { enabled: false } } }), {
      outdir,
      lambdaDir: outdir,
    });
    const template = Template.fromStack(rootStack);
    template.resourceCountIs('AWS::CloudFormation::StackSet', 0);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(Object.keys(template.toJSON()['Parameters'] as object)).not.toContain(CLIENT_ID_PARAMETER);
  });

  it('hands purgeOnDelete to every feature only when destroy --purge asks for it', () => {
    const outdir = dir('app');
    const plain = buildApp(testConfig(), { outdir, lambdaDir: outdir });
    expect(plain.organization.purgeOnDelete).toBe(false);
    const purge = buildApp(testConfig(), { outdir: dir('app'), lambdaDir: outdir, purgeOnDelete: true });
    expect(purge.organization.purgeOnDelete).toBe(true);
  });

  it('pins the dynamic references to the secret version deploy found, so a rotation changes the template', () => {
    const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-AbCdEf';
    const config = testConfig({ falcon: { credentials: { source: 'secretsManager', secretArn: arn } } });
    const params = (versionId: string) => {
      const outdir = dir('app');
      const { rootStack } = buildApp(config, { outdir, lambdaDir: outdir, credentialsVersionId: versionId });
      const sets = Template.fromStack(rootStack).findResources('AWS::CloudFormation::StackSet');
      return Object.values(sets).flatMap(
        (r) => (r as { Properties: { Parameters?: unknown[] } }).Properties.Parameters ?? [],
      );
    };
    expect(params('v-1')).toEqual([
      {
        ParameterKey: 'FalconClientId',
        ParameterValue: `{{resolve:secretsmanager:${arn}:SecretString:ClientId::v-1}}`,
      },
      {
        ParameterKey: 'FalconClientSecret',
        ParameterValue: `{{resolve:secretsmanager:${arn}:SecretString:ClientSecret::v-1}}`,
      },
    ]);
    expect(params('v-1')).toEqual(params('v-1'));
    expect(params('v-2')).not.toEqual(params('v-1'));
  });
});
