import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeOrganizationsAccessCommand,
  ListStackInstancesCommand,
  ListStackResourcesCommand,
  ListStackSetOperationResultsCommand,
  ListStackSetOperationsCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeDocumentCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { Output } from '../../src/shared/output.js';
import { parseConfigText } from '../../src/config/load.js';
import type {
  Deployer,
  DeployOutcome,
  DeployRequest,
  DestroyOutcome,
  DestroyRequest,
  RootStackInfo,
} from '../../src/deploy/deployer.js';

export const ACCOUNT = '111111111111';
export const STACK = 'falcon-org';

export const CONFIG_YAML = `
falcon:
  cloud: us-1
aws:
  partition: aws
  homeRegion: us-east-1
organization:
  id: o-abcdefghij
  targets: [r-abcd]
features:
  ssmDistributor:
    enabled: true
    regions: [us-east-1, eu-west-1]
`;

export function testConfig(extra = '') {
  return parseConfigText(CONFIG_YAML + extra, 'test.yaml');
}

export function configFile(extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'falcon-org-deploy-'));
  const file = join(dir, 'organization.yaml');
  writeFileSync(file, CONFIG_YAML + extra);
  return file;
}

export interface CapturedOutput extends Output {
  readonly stdout: string[];
  readonly stderr: string[];
  all(): string;
}

export function captureOutput(): CapturedOutput {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    interactive: false,
    out: (t) => stdout.push(t),
    err: (t) => stderr.push(t),
    all: () => [...stdout, ...stderr].join('\n'),
  };
}

/** Mocks every AWS client deploy/destroy use; answers as a healthy management account. */
export function mockAws() {
  const sts = mockClient(STSClient);
  const ssm = mockClient(SSMClient);
  const cfn = mockClient(CloudFormationClient);
  const org = mockClient(OrganizationsClient);
  const secretsManager = mockClient(SecretsManagerClient);
  const healthy = () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:role/Admin` });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '30' } });
    ssm
      .on(DescribeDocumentCommand)
      .resolves({ Document: { Name: 'CrowdStrike-FalconSensorDeploy', Status: 'Active' } });
    org
      .on(DescribeOrganizationCommand)
      .resolves({ Organization: { Id: 'o-abcdefghij', MasterAccountId: ACCOUNT } });
    cfn.on(DescribeOrganizationsAccessCommand).resolves({ Status: 'ENABLED' });
  };
  const stackSets = (names: string[]) =>
    cfn.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: names.map((n, i) => ({
        LogicalResourceId: `StackSet${i}`,
        PhysicalResourceId: `${n}:0000-uuid`,
        ResourceType: 'AWS::CloudFormation::StackSet',
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
      })),
    });
  /** One finished operation per StackSet with the given per-account/region outcome. */
  const operation = (
    results: { account: string; region: string; status: 'SUCCEEDED' | 'FAILED'; reason?: string }[],
  ) => {
    cfn.on(ListStackSetOperationsCommand).resolves({
      Summaries: [
        {
          OperationId: 'op-1',
          Action: 'CREATE',
          Status: results.some((r) => r.status === 'FAILED') ? 'FAILED' : 'SUCCEEDED',
          CreationTimestamp: new Date(),
        },
      ],
    });
    cfn.on(ListStackSetOperationResultsCommand).resolves({
      Summaries: results.map((r) => ({
        Account: r.account,
        Region: r.region,
        Status: r.status,
        StatusReason: r.reason,
      })),
    });
    cfn.on(ListStackInstancesCommand).resolves({
      Summaries: results.map((r) => ({
        Account: r.account,
        Region: r.region,
        Status: r.status === 'SUCCEEDED' ? 'CURRENT' : 'OUTDATED',
        StackInstanceStatus: { DetailedStatus: r.status },
      })),
    });
  };
  const reset = () => {
    [sts, ssm, cfn, org].forEach((m) => m.reset());
    secretsManager.reset();
  };
  return { sts, ssm, cfn, org, secretsManager, healthy, stackSets, operation, reset };
}

/** Records every call; behaviour on failure is configurable. Never echoes: it returns what a deploy returns. */
export class RecordingDeployer implements Deployer {
  readonly deploys: DeployRequest[] = [];
  readonly destroys: DestroyRequest[] = [];
  /** Every call in order: 'deploy' or 'destroy'. */
  readonly calls: ('deploy' | 'destroy')[] = [];
  failWith?: Error;
  /** Messages the fake "toolkit" sends through the IoHost during deploy/destroy. */
  toolkitMessages: string[] = [];

  describeRoot(): RootStackInfo {
    return {
      stackName: STACK,
      hierarchicalId: STACK,
      region: 'us-east-1',
      parameterNames: ['FalconClientId', 'FalconClientSecret'],
    };
  }

  async deploy(request: DeployRequest): Promise<DeployOutcome> {
    this.deploys.push(request);
    this.calls.push('deploy');
    await this.talk(request);
    if (this.failWith) throw this.failWith;
    return {
      stackName: STACK,
      stackArn: `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK}/abc`,
      account: ACCOUNT,
      region: 'us-east-1',
      outputs: {},
    };
  }

  async destroy(request: DestroyRequest): Promise<DestroyOutcome> {
    this.destroys.push(request);
    this.calls.push('destroy');
    await this.talk(request);
    if (this.failWith) throw this.failWith;
    return { stackName: STACK, existed: true };
  }

  private async talk(request: DeployRequest | DestroyRequest): Promise<void> {
    for (const message of this.toolkitMessages) {
      await request.ioHost.notify({
        time: new Date(),
        level: 'info',
        action: 'deploy',
        code: 'CDK_TOOLKIT_I5100',
        message,
        data: undefined,
      });
    }
  }
}

/** Deployers created by the CLI while `toolkit-deployer.js` is mocked (see cli tests). */
export const createdDeployers: RecordingDeployer[] = [];
/** How the next mocked deployers behave. */
export const nextDeployer: { failWith?: Error; toolkitMessages: string[] } = { toolkitMessages: [] };
