import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/infra/app.js';
import { SsmDistributor } from '../../src/infra/features/ssm-distributor.js';
import { allows, referenceProblems, resolveTokens, type Statement } from './iam-policy.js';
import { tempDir, testConfig } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ACCOUNT = '111122223333';
const REGIONS = ['eu-central-1', 'eu-west-1'];

/** The automation role's inline statements as synthesized, with partition and account filled in. */
function roleStatements(overrides: Record<string, unknown> = {}, partition = 'aws'): Statement[] {
  const outdir = tempDir('ssm-role');
  dirs.push(outdir);
  const { organization } = buildApp(testConfig(overrides), { outdir, lambdaDir: outdir });
  const feature = organization.node.tryFindChild('SsmDistributor');
  if (!(feature instanceof SsmDistributor)) throw new Error('SsmDistributor not created');
  const template = feature.roleStackSet.memberTemplate as {
    Resources: Record<string, { Type: string; Properties: { Policies: { PolicyDocument: unknown }[] } }>;
  };
  const role = Object.values(template.Resources).find((r) => r.Type === 'AWS::IAM::Role');
  const document = resolveTokens(role?.Properties.Policies[0]?.PolicyDocument, {
    partition,
    account: ACCOUNT,
  });
  return (document as { Statement: Statement[] }).Statement;
}

const tagTargets = { features: { ssmDistributor: { targets: { type: 'tags', tags: { env: ['prod'] } } } } };
const groupTargets = {
  features: { ssmDistributor: { targets: { type: 'resourceGroup', name: 'falcon-hosts' } } },
};

describe('SSM Distributor automation role: scoped by resource', () => {
  it('grants SSM actions only on the two documents, this account’s instances and executions, reads on *, the one secret', () => {
    // Act
    const statements = roleStatements();
    // Assess: every statement, exactly.
    const perRegion = (arn: (r: string) => string) => REGIONS.map(arn);
    expect(statements).toEqual([
      {
        Sid: 'StartFalconAutomationOnly',
        Effect: 'Allow',
        Action: 'ssm:StartAutomationExecution',
        Resource: [
          ...perRegion((r) => `arn:aws:ssm:${r}:*:document/CrowdStrike-FalconSensorDeploy`),
          ...perRegion((r) => `arn:aws:ssm:${r}:*:automation-definition/CrowdStrike-FalconSensorDeploy:*`),
          ...perRegion((r) => `arn:aws:ssm:${r}:${ACCOUNT}:automation-execution/*`),
        ],
      },
      {
        Sid: 'FollowAutomationExecutions',
        Effect: 'Allow',
        Action: ['ssm:GetAutomationExecution', 'ssm:DescribeAutomationStepExecutions'],
        Resource: perRegion((r) => `arn:aws:ssm:${r}:${ACCOUNT}:automation-execution/*`),
      },
      {
        Sid: 'ReadFalconDocuments',
        Effect: 'Allow',
        Action: ['ssm:DescribeDocument', 'ssm:GetDocument'],
        Resource: [
          ...perRegion((r) => `arn:aws:ssm:${r}:*:document/CrowdStrike-FalconSensorDeploy`),
          ...perRegion((r) => `arn:aws:ssm:${r}::document/AWS-ConfigureAWSPackage`),
        ],
      },
      {
        Sid: 'RunConfigurePackageOnly',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: [
          ...perRegion((r) => `arn:aws:ssm:${r}::document/AWS-ConfigureAWSPackage`),
          ...perRegion((r) => `arn:aws:ec2:${r}:${ACCOUNT}:instance/*`),
          ...perRegion((r) => `arn:aws:ssm:${r}:${ACCOUNT}:managed-instance/*`),
        ],
      },
      {
        Sid: 'AccountWideReads',
        Effect: 'Allow',
        Action: [
          'ssm:DescribeInstanceInformation',
          'ssm:DescribeInstanceProperties',
          'ssm:GetInventory',
          'ssm:ListInventoryEntries',
          'ssm:ListCommands',
          'ssm:ListCommandInvocations',
          'ssm:GetCommandInvocation',
          'ssm:DescribeAutomationExecutions',
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceStatus',
          'ec2:DescribeTags',
          'ec2:DescribeImages',
        ],
        Resource: '*',
      },
      {
        Sid: 'FalconSecretRead',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: perRegion((r) => `arn:aws:secretsmanager:${r}:${ACCOUNT}:secret:fo-test-falcon-api-??????`),
      },
    ]);
  });

  it.each([
    ['all instances', {}],
    ['tag targets', tagTargets],
    ['a resource group', groupTargets],
  ])(
    'with %s, StartAutomationExecution and SendCommand reach no other document, in any account or region',
    (_kind, overrides) => {
      const statements = roleStatements(overrides);
      const documents = (name: string) =>
        ['eu-central-1', 'eu-west-1', 'us-east-1'].flatMap((r) => [
          `arn:aws:ssm:${r}::document/${name}`,
          `arn:aws:ssm:${r}:${ACCOUNT}:document/${name}`,
          `arn:aws:ssm:${r}:999999999999:document/${name}`,
        ]);
      for (const other of [
        'AWS-RunShellScript',
        'AWS-RunPowerShellScript',
        'AWS-RunRemoteScript',
        'AWS-StartInteractiveCommand',
        'AWS-RestartEC2Instance',
        'AWSSupport-ExecuteEC2Rescue',
        'CrowdStrike-FalconSensorDeploy-Local',
        'AWS-ConfigureAWSPackageX',
      ]) {
        for (const arn of documents(other)) {
          expect(allows(statements, 'ssm:SendCommand', arn), `SendCommand ${arn}`).toBe(false);
          expect(allows(statements, 'ssm:StartAutomationExecution', arn), `Start ${arn}`).toBe(false);
          expect(allows(statements, 'ssm:StartSession', arn), `StartSession ${arn}`).toBe(false);
        }
      }
      // Neither action is granted on a wildcard that a new document name could fall into.
      for (const action of ['ssm:SendCommand', 'ssm:StartAutomationExecution']) {
        expect(allows(statements, action, '*')).toBe(false);
        expect(allows(statements, action, 'arn:aws:ssm:eu-west-1::document/*')).toBe(false);
      }
      // What the document does is allowed: start it, and send AWS-ConfigureAWSPackage to this account's instances.
      const falcon = `arn:aws:ssm:eu-west-1:123456789012:document/CrowdStrike-FalconSensorDeploy`;
      expect(allows(statements, 'ssm:StartAutomationExecution', falcon)).toBe(true);
      expect(
        allows(
          statements,
          'ssm:StartAutomationExecution',
          `arn:aws:ssm:eu-west-1:${ACCOUNT}:automation-execution/abc`,
        ),
      ).toBe(true);
      const configure = 'arn:aws:ssm:eu-west-1::document/AWS-ConfigureAWSPackage';
      expect(allows(statements, 'ssm:SendCommand', configure)).toBe(true);
      expect(allows(statements, 'ssm:SendCommand', `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0abc`)).toBe(
        true,
      );
      expect(
        allows(statements, 'ssm:SendCommand', `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/mi-0abc`),
      ).toBe(true);
      // Not to another account's instances, nor in a region outside features.ssmDistributor.regions.
      expect(
        allows(statements, 'ssm:SendCommand', 'arn:aws:ec2:eu-west-1:999999999999:instance/i-0abc'),
      ).toBe(false);
      expect(allows(statements, 'ssm:SendCommand', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abc`)).toBe(
        false,
      );
      expect(
        allows(statements, 'ssm:SendCommand', 'arn:aws:ssm:us-east-1::document/AWS-ConfigureAWSPackage'),
      ).toBe(false);
      // No secret but the Falcon one, no parameter at all.
      expect(
        allows(
          statements,
          'secretsmanager:GetSecretValue',
          `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:other-AbCdEf`,
        ),
      ).toBe(false);
      expect(
        allows(
          statements,
          'secretsmanager:GetSecretValue',
          `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:fo-test-falcon-api-AbCdEf`,
        ),
      ).toBe(true);
      expect(allows(statements, 'ssm:GetParameter', `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/x`)).toBe(
        false,
      );
    },
  );

  it.each([
    ['all instances', {}],
    ['tag targets', tagTargets],
    ['a resource group', groupTargets],
  ])(
    'with %s, fits IAM’s service authorization reference (scoped where IAM can scope)',
    async (_kind, overrides) => {
      // Every action exists; `*` only for Read/List actions without resource types; every granted ARN
      // is of a resource type the action takes; every required resource type is granted.
      expect(await referenceProblems(roleStatements(overrides))).toEqual([]);
    },
  );

  it('may list exactly the group it targets: the configured one, or the one tag targets become', () => {
    const group = (statements: Statement[]) => statements.find((s) => s.Sid === 'ListTargetGroup');
    expect(group(roleStatements(groupTargets))).toEqual({
      Sid: 'ListTargetGroup',
      Effect: 'Allow',
      Action: 'resource-groups:ListGroupResources',
      Resource: REGIONS.map((r) => `arn:aws:resource-groups:${r}:${ACCOUNT}:group/falcon-hosts`),
    });
    expect(group(roleStatements(tagTargets))?.Resource).toEqual(
      REGIONS.map((r) => `arn:aws:resource-groups:${r}:${ACCOUNT}:group/fo-test-falcon-sensor-targets`),
    );
    expect(group(roleStatements())).toBeUndefined();
    expect(roleStatements(tagTargets).find((s) => s.Sid === 'AccountWideReads')?.Action).toContain(
      'tag:GetResources',
    );
    expect(roleStatements().find((s) => s.Sid === 'AccountWideReads')?.Action).not.toContain(
      'tag:GetResources',
    );
  });

  it('names the partition it is deployed in (GovCloud)', () => {
    const statements = roleStatements(
      {
        aws: { partition: 'aws-us-gov', homeRegion: 'us-gov-west-1' },
        features: { ssmDistributor: { enabled: true, regions: ['us-gov-west-1'] } },
      },
      'aws-us-gov',
    );
    expect(
      allows(
        statements,
        'ssm:SendCommand',
        'arn:aws-us-gov:ssm:us-gov-west-1::document/AWS-ConfigureAWSPackage',
      ),
    ).toBe(true);
    expect(
      allows(statements, 'ssm:SendCommand', 'arn:aws:ssm:us-gov-west-1::document/AWS-ConfigureAWSPackage'),
    ).toBe(false);
  });
});
