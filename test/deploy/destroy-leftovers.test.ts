import {
  ListStackInstancesCommand,
  ListStackResourcesCommand,
  ListStackSetOperationResultsCommand,
  ListStackSetOperationsCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeDocumentCommand } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import { ToolkitFailedError } from '../../src/deploy/errors.js';
import { renderLeftovers } from '../../src/deploy/leftovers.js';
import { createProgress } from '../../src/deploy/progress.js';
import { runDestroy } from '../../src/deploy/run-destroy.js';
import { parseConfigText } from '../../src/config/load.js';
import { runDeploy } from '../../src/deploy/run-deploy.js';
import { ACCOUNT, captureOutput, mockAws, RecordingDeployer, testConfig } from './helpers.js';
import { SynthesizingDeployer } from './synthesizing-deployer.js';

const aws = mockAws();
const ECR = 'falcon-org-ecr-connections:0000-uuid';
const SSM = 'falcon-org-ssm-association:0000-uuid';
const MEMBER = '222222222222';
const NONE = { purged: false, disconnectOnDelete: false, accounts: [] };

/** The root stack owns the SSM and ECR StackSets; ECR has one instance per account (home region). */
function organizationWithEcr(): void {
  aws.cfn.on(ListStackResourcesCommand).resolves({
    StackResourceSummaries: [SSM, ECR].map((id, i) => ({
      LogicalResourceId: `StackSet${i}`,
      PhysicalResourceId: id,
      ResourceType: 'AWS::CloudFormation::StackSet',
      ResourceStatus: 'UPDATE_COMPLETE',
      LastUpdatedTimestamp: new Date(),
    })),
  });
  aws.cfn.on(ListStackInstancesCommand, { StackSetName: SSM }).resolves({
    Summaries: [ACCOUNT, MEMBER].flatMap((account) =>
      ['us-east-1', 'eu-west-1'].map((region) => ({ Account: account, Region: region, Status: 'CURRENT' })),
    ),
  });
  aws.cfn.on(ListStackInstancesCommand, { StackSetName: ECR }).resolves({
    Summaries: [MEMBER, ACCOUNT].map((account) => ({
      Account: account,
      Region: 'us-east-1',
      Status: 'CURRENT',
    })),
  });
}

/** The ECR StackSet's operation for the purge update, with these per-account results (newest first). */
function purgeOperation(
  results: { account: string; status: 'SUCCEEDED' | 'FAILED'; reason?: string }[],
  older: { account: string; status: 'SUCCEEDED' | 'FAILED' }[] = [],
): void {
  const at = Date.now();
  aws.cfn.on(ListStackSetOperationsCommand, { StackSetName: ECR }).resolves({
    Summaries: [
      { OperationId: 'op-old', Action: 'UPDATE', Status: 'SUCCEEDED', CreationTimestamp: new Date(at - 1) },
      {
        OperationId: 'op-purge',
        Action: 'UPDATE',
        Status: 'SUCCEEDED',
        CreationTimestamp: new Date(at + 60_000),
      },
    ],
  });
  const summaries = (rows: { account: string; status: 'SUCCEEDED' | 'FAILED'; reason?: string }[]) =>
    rows.map((r) => ({ Account: r.account, Region: 'us-east-1', Status: r.status, StatusReason: r.reason }));
  aws.cfn
    .on(ListStackSetOperationResultsCommand, { StackSetName: ECR, OperationId: 'op-purge' })
    .resolves({ Summaries: summaries(results) });
  aws.cfn
    .on(ListStackSetOperationResultsCommand, { StackSetName: ECR, OperationId: 'op-old' })
    .resolves({ Summaries: summaries(older) });
}

/** Once the destroy has run, every StackSet is gone. */
class DeletingDeployer extends RecordingDeployer {
  override async destroy(request: Parameters<RecordingDeployer['destroy']>[0]) {
    const outcome = await super.destroy(request);
    aws.cfn
      .on(ListStackInstancesCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'StackSetNotFoundException' }));
    return outcome;
  }
}

function deps(deployer: RecordingDeployer) {
  const output = captureOutput();
  return {
    output,
    deps: {
      deployer,
      clients: createHomeClients({ region: 'us-east-1' }),
      env: {},
      progress: createProgress(output),
      wait: { sleep: () => Promise.resolve(), initialDelayMs: 1 },
    },
  };
}

beforeEach(() => {
  aws.healthy();
  organizationWithEcr();
});
afterEach(() => aws.reset());

describe('destroy: what stays in member accounts', () => {
  it('by default deletes without updating first and names, per account, the ownership parameter and the retained log group', async () => {
    const deployer = new DeletingDeployer();
    const result = await runDestroy(testConfig(), { yes: true }, deps(deployer).deps);

    expect(result.ok).toBe(true);
    expect(deployer.calls).toEqual(['destroy']);
    // Deleting associations needs no Distributor document: destroy does not ask for it.
    expect(aws.ssm.commandCalls(DescribeDocumentCommand)).toHaveLength(0);
    expect(result.leftovers).toEqual({
      purged: false,
      disconnectOnDelete: false,
      accounts: [ACCOUNT, MEMBER].map((account) => ({
        account,
        region: 'us-east-1',
        ssmParameter: '/falcon-org/ecr-connections/ownership',
        leaseParameter: '/falcon-org/ecr-connections/ownership-lease',
        logGroupPrefix: 'StackSet-falcon-org-ecr-connections-',
      })),
    });
    const text = renderLeftovers(result.leftovers ?? NONE);
    expect(text).toMatch(/^Left behind in 2 account\(s\)/);
    expect(text).toContain('SSM parameter /falcon-org/ecr-connections/ownership:');
    // Every run writes the lease next to the record: it stays too.
    expect(text).toContain('SSM parameter /falcon-org/ecr-connections/ownership-lease:');
    expect(text).toContain('log group StackSet-falcon-org-ecr-connections-*');
    expect(text).toContain(`  ${MEMBER} us-east-1`);
    expect(text).toContain('falcon-org destroy --purge removes them');
  });

  it('with disconnectOnDelete: true, says the Delete removes the connections and the record, and what stays', async () => {
    const config = testConfig('  ecrConnections:\n    enabled: true\n    disconnectOnDelete: true\n');
    const result = await runDestroy(config, { yes: true }, deps(new DeletingDeployer()).deps);

    expect(result.leftovers?.disconnectOnDelete).toBe(true);
    // The handler's Delete removes the record once the connections are removed: it is not a leftover.
    expect(result.leftovers?.accounts.map((a) => Object.keys(a).sort())).toEqual([
      ['account', 'leaseParameter', 'logGroupPrefix', 'region'],
      ['account', 'leaseParameter', 'logGroupPrefix', 'region'],
    ]);
    const text = renderLeftovers(result.leftovers ?? NONE);
    expect(text).not.toContain('/falcon-org/ecr-connections/ownership:');
    expect(text).not.toContain('disconnectOnDelete: false');
    expect(text).toContain('SSM parameter /falcon-org/ecr-connections/ownership-lease:');
    expect(text).toContain('log group StackSet-falcon-org-ecr-connections-*');
    expect(text).toContain(
      'With disconnectOnDelete: true each Delete removes the Falcon connections this deployment made and then the\nownership record',
    );
    expect(text).toContain('aws ssm delete-parameters --names /falcon-org/ecr-connections/ownership-lease;');
  });

  it('with --purge, first deploys the purge template (keeping the parameters), then deletes', async () => {
    purgeOperation([
      { account: ACCOUNT, status: 'SUCCEEDED' },
      { account: MEMBER, status: 'SUCCEEDED' },
    ]);
    const deployer = new DeletingDeployer();
    const questions: string[] = [];
    const { deps: d } = deps(deployer);
    const result = await runDestroy(
      testConfig(),
      { yes: false, purge: true },
      {
        ...d,
        confirm: (q: string) => {
          questions.push(q);
          return Promise.resolve(true);
        },
      },
    );

    expect(result.ok).toBe(true);
    // The update comes before the delete, and only flips the purge setting.
    expect(deployer.calls).toEqual(['deploy', 'destroy']);
    expect(deployer.deploys[0]).toMatchObject({
      parameters: {},
      keepExistingParameters: true,
      appOptions: { purgeOnDelete: true },
    });
    expect(questions[0]).toMatch(
      /and purge the ECR ownership parameter and log group in 2 account\(s\)\? \[y\/N\] $/,
    );
    expect(result.leftovers?.purged).toBe(true);
    expect(renderLeftovers(result.leftovers ?? NONE)).toMatch(
      /^Removed with the stack instances \(--purge\) in 2 account\(s\)/,
    );
  });

  it('with --purge, an account whose purge update failed within the tolerance is reported not purged, in text and JSON', async () => {
    // The update passed (failure tolerance), but MEMBER's instance kept the template without purge; an
    // older operation's success for MEMBER must not count.
    purgeOperation(
      [
        { account: ACCOUNT, status: 'SUCCEEDED' },
        {
          account: MEMBER,
          status: 'FAILED',
          reason: 'ResourceLogicalId:Connect, ResourceStatusReason:Rate exceeded',
        },
      ],
      [{ account: MEMBER, status: 'SUCCEEDED' }],
    );
    const deployer = new DeletingDeployer();
    const result = await runDestroy(testConfig(), { yes: true, purge: true }, deps(deployer).deps);

    expect(deployer.calls).toEqual(['deploy', 'destroy']);
    const json = JSON.parse(JSON.stringify(result)) as typeof result;
    expect(json.leftovers?.accounts.map((a) => [a.account, a.notPurged])).toEqual([
      [ACCOUNT, undefined],
      [MEMBER, 'the purge update failed here: ResourceLogicalId:Connect, ResourceStatusReason:Rate exceeded'],
    ]);
    const text = renderLeftovers(result.leftovers ?? NONE);
    expect(text).toMatch(/^Removed with the stack instances \(--purge\) in 1 account\(s\)/);
    expect(text).toContain(`\n  ${ACCOUNT} us-east-1\nNot purged in 1 account(s)`);
    expect(text).toContain(
      `  ${MEMBER} us-east-1: not purged: the purge update failed here: ResourceLogicalId:Connect, ResourceStatusReason:Rate exceeded`,
    );
    expect(text).not.toContain(`  ${MEMBER} us-east-1\n`);
  });

  it('with --purge, does not claim a purge whose results cannot be read', async () => {
    aws.cfn
      .on(ListStackSetOperationsCommand, { StackSetName: ECR })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const result = await runDestroy(
      testConfig(),
      { yes: true, purge: true },
      deps(new DeletingDeployer()).deps,
    );
    expect(result.leftovers?.accounts.map((a) => a.notPurged)).toEqual([
      "the purge update's per-account results could not be read: ThrottlingException: Rate exceeded",
      "the purge update's per-account results could not be read: ThrottlingException: Rate exceeded",
    ]);
    expect(renderLeftovers(result.leftovers ?? NONE)).toMatch(/^Not purged in 2 account\(s\)/);
  });

  it('with --purge, deletes nothing when the purge update fails', async () => {
    const deployer = new DeletingDeployer();
    deployer.deploy = (request) => {
      deployer.calls.push('deploy');
      deployer.deploys.push(request);
      return Promise.reject(new ToolkitFailedError('deploy', 'UPDATE_ROLLBACK_COMPLETE'));
    };
    const result = await runDestroy(testConfig(), { yes: true, purge: true }, deps(deployer).deps);
    expect(result.ok).toBe(false);
    expect(deployer.calls).toEqual(['deploy']);
    expect(result.error?.message).toMatch(
      /nothing was deleted: deploy of the root stack failed: UPDATE_ROLLBACK_COMPLETE/,
    );
  });

  it('with --purge but no ECR StackSet, has nothing to purge and does not update', async () => {
    aws.cfn.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: [
        {
          LogicalResourceId: 'StackSet0',
          PhysicalResourceId: SSM,
          ResourceType: 'AWS::CloudFormation::StackSet',
          ResourceStatus: 'UPDATE_COMPLETE',
          LastUpdatedTimestamp: new Date(),
        },
      ],
    });
    const deployer = new DeletingDeployer();
    const result = await runDestroy(testConfig(), { yes: true, purge: true }, deps(deployer).deps);
    expect(deployer.calls).toEqual(['destroy']);
    expect(result.leftovers).toBeUndefined();
  });
});

describe('destroy --purge through the real templates', () => {
  const config = parseConfigText(
    [
      'falcon: { cloud: us-1 }',
      'aws: { partition: aws, homeRegion: us-east-1 }',
      'organization: { id: o-abcdefghij, targets: [r-abcd] }',
      'features: { ecrConnections: { enabled: true, regions: [us-east-1] } }',
    ].join('\n'),
    'ecr.yaml',
  );
  const deployer = new SynthesizingDeployer();
  afterAll(() => deployer.cleanUp());
  // Once destroyed, the StackSets are gone.
  const destroy = deployer.destroy.bind(deployer);
  deployer.destroy = async (request) => {
    const outcome = await destroy(request);
    aws.cfn
      .on(ListStackInstancesCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'StackSetNotFoundException' }));
    return outcome;
  };
  const purgeOnDelete = (index: number) => {
    const member = deployer.synthesized[index]?.members['falcon-org-ecr-connections'] as
      { Resources: Record<string, { Properties?: Record<string, unknown> }> } | undefined;
    return Object.values(member?.Resources ?? {})
      .map((r) => r.Properties?.['PurgeOnDelete'])
      .filter((v) => v !== undefined);
  };

  it('deploy → destroy --purge: the update before the delete carries PurgeOnDelete on the ECR custom resource', async () => {
    const env = { FALCON_CLIENT_ID: 'MARKER-id-1', FALCON_CLIENT_SECRET: 'MARKER-secret-1' };
    aws.stackSets([]);
    await runDeploy(config, { yes: true }, { ...deps(deployer).deps, env });
    expect(purgeOnDelete(0)).toEqual(['false']);

    organizationWithEcr();
    await runDestroy(config, { yes: true, purge: true }, { ...deps(deployer).deps, env });
    expect(deployer.calls).toEqual(['deploy', 'deploy', 'destroy']);
    expect(purgeOnDelete(1)).toEqual(['true']);
    // The purge update keeps the deployed parameter values (no credentials needed).
    expect(deployer.deploys[1]).toMatchObject({ parameters: {}, keepExistingParameters: true });
  }, 120_000);
});
