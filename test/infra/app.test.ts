import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { buildApp } from '../../src/infra/app.js';
import { CLIENT_ID_PARAMETER, CLIENT_SECRET_PARAMETER } from '../../src/infra/credentials.js';
import { synthesize } from '../../src/infra/synth.js';
import { dummyBundlesForAllHandlers, tempDir, testConfig } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
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
});

describe('synthesize the example', () => {
  it('never writes the Falcon credentials, even when they are set in the environment', async () => {
    // Prepare
    const id = 'MARKERclientid0123456789abcdef';
    const secret = 'MARKERsecretZyXwVuTsRqPoNmLkJiHgFeDcBa987';
    const saved = { id: process.env['FALCON_CLIENT_ID'], secret: process.env['FALCON_CLIENT_SECRET'] };
    process.env['FALCON_CLIENT_ID'] = id;
    process.env['FALCON_CLIENT_SECRET'] = secret;
    try {
      const config = await loadConfigFile('examples/organization.yaml');
      const outdir = dir('synth');
      // Act
      const lambdaDir = dummyBundlesForAllHandlers();
      dirs.push(lambdaDir);
      const result = synthesize(config, { outdir, lambdaDir });
      // Assess
      expect(result.stackSetTemplateFiles).toEqual(
        expect.arrayContaining([
          'falcon-org-ssm-association.stackset.template.json',
          'falcon-org-ssm-role.stackset.template.json',
        ]),
      );
      const files = filesUnder(outdir);
      expect(files.length).toBeGreaterThan(5);
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
