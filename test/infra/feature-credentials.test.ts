import { rmSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootParameters } from '../../src/deploy/secrets.js';
import { PROJECT_ENV } from '../../src/eks/run-contract.js';
import { buildApp } from '../../src/infra/app.js';
import { dummyLambdaDir, tempDir, testConfig, withDummyDeployer } from './helpers.js';

/*
 * Each feature gets its own Falcon API client where one is configured (falcon.clients.<feature>), and
 * only that client reaches where the feature copies it: the ECR member secret, the coverage function,
 * the deployer project (and from there the clusters). The shared client stays the fallback.
 */

const ECR_SECRET = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-ecr-AbCdEf';
const COVERAGE_SECRET = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:falcon-coverage-GhIjKl';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function synth(falcon: Record<string, unknown>, versions: Record<string, string> = {}) {
  const lambdaDir = withDummyDeployer(dummyLambdaDir('eks-discover', 'eks-event', 'ecr-connect', 'coverage'));
  const outdir = tempDir('creds');
  dirs.push(outdir, lambdaDir, `${lambdaDir}/..`);
  const config = testConfig({
    falcon,
    features: {
      ssmDistributor: { enabled: true, regions: ['eu-central-1'] },
      eksProtection: { enabled: true },
      ecrConnections: { enabled: true },
    },
    coverage: { enabled: true },
  });
  const { rootStack, organization } = buildApp(config, {
    outdir,
    lambdaDir,
    ...(Object.keys(versions).length > 0 ? { clientVersionIds: versions } : {}),
  });
  return { config, rootStack, organization, template: Template.fromStack(rootStack).toJSON() as Tpl };
}

interface Tpl {
  Parameters?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

function ofType(t: Tpl, type: string): [string, Record<string, unknown>][] {
  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties]);
}

function stackSetParameters(t: Tpl, nameSuffix: string): Record<string, unknown> {
  const found = ofType(t, 'AWS::CloudFormation::StackSet').find(([, p]) =>
    String(p['StackSetName']).endsWith(nameSuffix),
  );
  if (!found) throw new Error(`no StackSet ending in ${nameSuffix}`);
  return Object.fromEntries(
    (found[1]['Parameters'] as { ParameterKey: string; ParameterValue: unknown }[]).map((p) => [
      p.ParameterKey,
      p.ParameterValue,
    ]),
  );
}

describe('each feature with its own Falcon API client', () => {
  let app: ReturnType<typeof synth>;
  beforeAll(() => {
    app = synth(
      {
        credentials: { source: 'environment' },
        clients: {
          ecrConnections: { source: 'secretsManager', secretArn: ECR_SECRET },
          eksProtection: { source: 'environment' },
          coverage: { source: 'secretsManager', secretArn: COVERAGE_SECRET },
        },
      },
      { [ECR_SECRET]: 'v-ecr-7' },
    );
  });

  it('declares NoEcho parameters for the shared client and the clusters’ client, none for clients in secrets', () => {
    const names = Object.keys(app.template.Parameters ?? {}).filter((n) => n.startsWith('Falcon'));
    expect(names.sort()).toEqual(
      ['FalconClientId', 'FalconClientSecret', 'FalconEksClientId', 'FalconEksClientSecret'].sort(),
    );
    // deploy fills exactly these, from the variables named in the configuration reference.
    const { parameters } = rootParameters(app.config, {
      FALCON_CLIENT_ID: 'shared-id',
      FALCON_CLIENT_SECRET: 'shared-secret',
      FALCON_EKS_CLIENT_ID: 'eks-id',
      FALCON_EKS_CLIENT_SECRET: 'eks-secret',
    });
    expect(Object.keys(parameters).sort()).toEqual(names.sort());
    expect(() => rootParameters(app.config, { FALCON_CLIENT_ID: 'a', FALCON_CLIENT_SECRET: 'b' })).toThrow(
      /falcon\.clients\.eksProtection\.source is "environment" but FALCON_EKS_CLIENT_ID and FALCON_EKS_CLIENT_SECRET are not set/,
    );
  });

  it('copies the ECR client into the member accounts, pinned to the version deploy found; SSM keeps the shared one', () => {
    expect(stackSetParameters(app.template, '-ecr-connections')).toMatchObject({
      FalconClientId: `{{resolve:secretsmanager:${ECR_SECRET}:SecretString:ClientId::v-ecr-7}}`,
      FalconClientSecret: `{{resolve:secretsmanager:${ECR_SECRET}:SecretString:ClientSecret::v-ecr-7}}`,
    });
    expect(stackSetParameters(app.template, '-ssm-association')).toMatchObject({
      FalconClientId: { Ref: 'FalconClientId' },
      FalconClientSecret: { Ref: 'FalconClientSecret' },
    });
  });

  it('gives the coverage function the coverage secret and lets it read nothing else', () => {
    const [, fn] =
      ofType(app.template, 'AWS::Lambda::Function').find(([id]) => id.includes('Coverage')) ?? [];
    const variables = (fn?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(variables['FALCON_SECRET_ARN']).toBe(COVERAGE_SECRET);
    const reads = JSON.stringify(
      ofType(app.template, 'AWS::IAM::Role')
        .filter(([id]) => id.includes('Coverage'))
        .map(([, p]) => p['Policies']),
    );
    expect(reads).toContain(COVERAGE_SECRET);
    expect(reads).not.toContain(ECR_SECRET);
  });

  it("gives the deployer (and so every cluster) only the clusters' own client", () => {
    const [, project] = ofType(app.template, 'AWS::CodeBuild::Project')[0] ?? [];
    const env = (project?.['Environment'] as { EnvironmentVariables: { Name: string; Value: unknown }[] })
      .EnvironmentVariables;
    const clientId = JSON.stringify(env.find((v) => v.Name === PROJECT_ENV.clientId)?.Value);
    const secrets = ofType(app.template, 'AWS::SecretsManager::Secret');
    const eksSecret = secrets.find(([, p]) =>
      JSON.stringify(p['SecretString']).includes('FalconEksClientId'),
    );
    const sharedSecret = secrets.find(([, p]) =>
      JSON.stringify(p['SecretString']).includes('"FalconClientId"'),
    );
    expect(eksSecret).toBeDefined();
    expect(sharedSecret).toBeDefined();
    expect(clientId).toContain(eksSecret?.[0] ?? '?');
    expect(clientId).not.toContain(sharedSecret?.[0] ?? '?');
    const deployerRole = ofType(app.template, 'AWS::IAM::Role').find(([id]) => /Deployer/.test(id));
    const policies = JSON.stringify(deployerRole?.[1]['Policies']);
    expect(policies).toContain(eksSecret?.[0] ?? '?');
    expect(policies).not.toContain(sharedSecret?.[0] ?? '?');
  });
});

describe('without falcon.clients', () => {
  it('every feature keeps the shared client, as before', () => {
    const { template } = synth({ credentials: { source: 'environment' } });
    const names = Object.keys(template.Parameters ?? {}).filter((n) => n.startsWith('Falcon'));
    expect(names.sort()).toEqual(['FalconClientId', 'FalconClientSecret']);
    expect(ofType(template, 'AWS::SecretsManager::Secret')).toHaveLength(1);
    expect(stackSetParameters(template, '-ecr-connections')).toMatchObject({
      FalconClientId: { Ref: 'FalconClientId' },
    });
  });
});
