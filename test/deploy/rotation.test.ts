import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import { parseConfigText } from '../../src/config/load.js';
import { SecretVersionError } from '../../src/deploy/errors.js';
import { createProgress } from '../../src/deploy/progress.js';
import { runDeploy } from '../../src/deploy/run-deploy.js';
import { ACCOUNT, captureOutput, mockAws } from './helpers.js';
import { SynthesizingDeployer } from './synthesizing-deployer.js';

const aws = mockAws();
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:falcon-api-AbCdEf`;
const config = parseConfigText(
  `
falcon:
  cloud: us-1
  credentials:
    source: secretsManager
    secretArn: ${SECRET_ARN}
aws:
  partition: aws
  homeRegion: us-east-1
organization:
  id: o-abcdefghij
  targets: [r-abcd]
features:
  ssmDistributor:
    enabled: true
    regions: [us-east-1]
`,
  'rotation.yaml',
);

/** The central secret as Secrets Manager keeps it: versions and their staging labels. */
class FakeSecret {
  private versions: Record<string, string[]> = { 'v-0001': ['AWSCURRENT'] };
  private next = 2;
  rotate(): string {
    const id = `v-${String(this.next++).padStart(4, '0')}`;
    const stages: Record<string, string[]> = {};
    for (const [version, labels] of Object.entries(this.versions)) {
      if (labels.includes('AWSCURRENT')) stages[version] = ['AWSPREVIOUS'];
    }
    stages[id] = ['AWSCURRENT'];
    this.versions = stages;
    return id;
  }
  describe() {
    return { ARN: SECRET_ARN, Name: 'falcon-api', VersionIdsToStages: structuredClone(this.versions) };
  }
}

/** Every distinct parameter of every StackSet (the management account's twins carry the same ones). */
function stackSetParameters(template: string): unknown[] {
  const resources = (
    JSON.parse(template) as {
      Resources: Record<string, { Type: string; Properties: { Parameters?: unknown[] } }>;
    }
  ).Resources;
  const all = Object.values(resources)
    .filter((r) => r.Type === 'AWS::CloudFormation::StackSet')
    .flatMap((r) => r.Properties.Parameters ?? []);
  return [...new Map(all.map((p) => [JSON.stringify(p), p])).values()];
}

const deployer = new SynthesizingDeployer();
const secret = new FakeSecret();
afterAll(() => deployer.cleanUp());
beforeEach(() => {
  aws.healthy();
  aws.stackSets([]);
  aws.secretsManager.on(DescribeSecretCommand, { SecretId: SECRET_ARN }).callsFake(() => secret.describe());
});
afterEach(() => aws.reset());

function deps() {
  return {
    deployer,
    clients: createHomeClients({ region: 'us-east-1' }),
    env: {},
    progress: createProgress(captureOutput()),
    wait: { sleep: () => Promise.resolve(), initialDelayMs: 1 },
  };
}

describe('deploy with falcon.credentials.source: secretsManager', () => {
  it('deploy → deploy (nothing changes) → rotate → deploy (every StackSet parameter names the new version)', async () => {
    // Deploy: the template pins the dynamic references to the current version.
    await runDeploy(config, { yes: true }, deps());
    expect(deployer.deploys[0]?.appOptions).toEqual({ credentialsVersionId: 'v-0001' });
    const first = deployer.synthesized[0]?.root ?? '';
    expect(stackSetParameters(first)).toEqual([
      {
        ParameterKey: 'FalconClientId',
        ParameterValue: `{{resolve:secretsmanager:${SECRET_ARN}:SecretString:ClientId::v-0001}}`,
      },
      {
        ParameterKey: 'FalconClientSecret',
        ParameterValue: `{{resolve:secretsmanager:${SECRET_ARN}:SecretString:ClientSecret::v-0001}}`,
      },
    ]);

    // Deploy again without a rotation: the same template, so CloudFormation has nothing to update.
    await runDeploy(config, { yes: true }, deps());
    expect(deployer.synthesized[1]?.root).toBe(first);

    // Rotate, deploy: the StackSet parameters change, so CloudFormation updates the StackSet and with
    // it every member account × region copy of the secret.
    const rotated = secret.rotate();
    await runDeploy(config, { yes: true }, deps());
    const third = deployer.synthesized[2]?.root ?? '';
    expect(third).not.toBe(first);
    expect(stackSetParameters(third)).toEqual([
      {
        ParameterKey: 'FalconClientId',
        ParameterValue: `{{resolve:secretsmanager:${SECRET_ARN}:SecretString:ClientId::${rotated}}}`,
      },
      {
        ParameterKey: 'FalconClientSecret',
        ParameterValue: `{{resolve:secretsmanager:${SECRET_ARN}:SecretString:ClientSecret::${rotated}}}`,
      },
    ]);
    // Only the version moved: everything else in the template is as before.
    expect(third.split(rotated).join('v-0001')).toBe(first);
    // Metadata only: deploy never reads the secret's value.
    expect(aws.secretsManager.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeSecretCommand',
      'DescribeSecretCommand',
      'DescribeSecretCommand',
    ]);
  }, 120_000);

  it('stops with the field and the fix when the secret cannot be described, before deploying', async () => {
    aws.secretsManager
      .on(DescribeSecretCommand)
      .rejects(
        Object.assign(new Error('not authorized to DescribeSecret'), { name: 'AccessDeniedException' }),
      );
    const before = deployer.deploys.length;
    const error = await runDeploy(config, { yes: true }, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretVersionError);
    expect((error as Error).message).toMatch(
      /^falcon\.credentials\.secretArn: .*AccessDeniedException.*secretsmanager:DescribeSecret/,
    );
    expect(deployer.deploys).toHaveLength(before);
  });
});

describe('deploy with a feature client of its own (falcon.clients.ecrConnections)', () => {
  const ECR_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:falcon-ecr-GhIjKl`;
  const ecrConfig = parseConfigText(
    `
falcon:
  cloud: us-1
  credentials:
    source: secretsManager
    secretArn: ${SECRET_ARN}
  clients:
    ecrConnections:
      source: secretsManager
      secretArn: ${ECR_SECRET}
aws:
  partition: aws
  homeRegion: us-east-1
organization:
  id: o-abcdefghij
  targets: [r-abcd]
features:
  ssmDistributor:
    enabled: true
    regions: [us-east-1]
  ecrConnections:
    enabled: true
`,
    'rotation-ecr.yaml',
  );
  const ecrSecret = new FakeSecret();
  const ecrDeployer = new SynthesizingDeployer();
  afterAll(() => ecrDeployer.cleanUp());
  beforeEach(() => {
    aws.secretsManager
      .on(DescribeSecretCommand, { SecretId: ECR_SECRET })
      .callsFake(() => ({ ...ecrSecret.describe(), ARN: ECR_SECRET }));
  });

  it('rotating the ECR client changes only what carries the ECR client; the SSM copies keep the shared one', async () => {
    const run = () => runDeploy(ecrConfig, { yes: true }, { ...deps(), deployer: ecrDeployer });
    await run();
    const shared = secret.describe().VersionIdsToStages;
    const sharedVersion = Object.keys(shared).find((v) => shared[v]?.includes('AWSCURRENT')) ?? '?';
    expect(ecrDeployer.deploys[0]?.appOptions).toEqual({
      credentialsVersionId: sharedVersion,
      clientVersionIds: { [ECR_SECRET]: 'v-0001' },
    });
    const first = ecrDeployer.synthesized[0]?.root ?? '';
    const rotated = ecrSecret.rotate();
    await run();
    const second = ecrDeployer.synthesized[1]?.root ?? '';

    const params = stackSetParameters(second) as { ParameterKey: string; ParameterValue: unknown }[];
    const values = params.map((p) => String(p.ParameterValue));
    expect(values).toContain(`{{resolve:secretsmanager:${ECR_SECRET}:SecretString:ClientId::${rotated}}}`);
    expect(values).toContain(
      `{{resolve:secretsmanager:${SECRET_ARN}:SecretString:ClientId::${sharedVersion}}}`,
    );
    expect(values.some((v) => v.includes(`${ECR_SECRET}:SecretString:ClientId::v-0001`))).toBe(false);
    // Only the ECR client's version moved.
    const back = ['ClientId', 'ClientSecret'].reduce(
      (text, key) =>
        text.replaceAll(
          `${ECR_SECRET}:SecretString:${key}::${rotated}`,
          `${ECR_SECRET}:SecretString:${key}::v-0001`,
        ),
      second,
    );
    expect(back).toBe(first);
  }, 120_000);
});
