import {
  ListStackInstancesCommand,
  ListStackResourcesCommand,
  ListStackSetOperationResultsCommand,
  ListStackSetOperationsCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeDocumentCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import { NotConfirmedError, PreflightError, ToolkitFailedError } from '../../src/deploy/errors.js';
import { createProgress } from '../../src/deploy/progress.js';
import { failureSummary, renderStackSetReport } from '../../src/deploy/report.js';
import { runDeploy } from '../../src/deploy/run-deploy.js';
import { runDestroy } from '../../src/deploy/run-destroy.js';
import { ACCOUNT, captureOutput, mockAws, RecordingDeployer, STACK, testConfig } from './helpers.js';

const aws = mockAws();
const SECRET = 'MARKER-client-secret-9f8e7d';
const ID = 'MARKER-client-id-1a2b3c';
const env = { FALCON_CLIENT_ID: ID, FALCON_CLIENT_SECRET: SECRET };

function deps(deployer = new RecordingDeployer(), extra: Record<string, unknown> = {}) {
  const output = captureOutput();
  const transcript: string[] = [];
  return {
    output,
    transcript,
    deployer,
    deps: {
      deployer,
      clients: createHomeClients({ region: 'us-east-1' }),
      env,
      progress: createProgress(output),
      transcript,
      wait: { sleep: () => Promise.resolve(), initialDelayMs: 1 },
      ...extra,
    },
  };
}

/** Waits (on real time, briefly) until a condition holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!condition()) throw new Error('condition never held');
}

beforeEach(() => aws.healthy());
afterEach(() => aws.reset());

describe('runDeploy', () => {
  it('passes the credentials as root stack parameters and nowhere else, then reports per StackSet', async () => {
    aws.stackSets(['falcon-org-ssm-account', 'falcon-org-ssm-regional']);
    aws.operation([
      { account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' },
      { account: '222222222222', region: 'eu-west-1', status: 'SUCCEEDED' },
    ]);
    const { deps: d, deployer, output, transcript } = deps();
    deployer.toolkitMessages = [`Deploying with parameters FalconClientSecret=${SECRET}`];

    const result = await runDeploy(testConfig(), { yes: false }, d);

    expect(deployer.deploys).toHaveLength(1);
    expect(deployer.deploys[0]?.parameters).toEqual({ FalconClientId: ID, FalconClientSecret: SECRET });
    expect(process.argv.join(' ')).not.toContain(SECRET);
    const everything = [output.all(), transcript.join('\n'), JSON.stringify(result)].join('\n');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(ID);
    expect(output.stderr).toContain('Deploying with parameters FalconClientSecret=***');

    expect(result.ok).toBe(true);
    expect(result.stackSets.stackSets.map((s) => s.name)).toEqual([
      'falcon-org-ssm-account:0000-uuid',
      'falcon-org-ssm-regional:0000-uuid',
    ]);
    expect(result.stackSets.totals).toMatchObject({ instances: 4, succeeded: 4, failed: 0 });
    expect(aws.cfn.commandCalls(ListStackResourcesCommand)[0]?.args[0].input.StackName).toBe(STACK);
    for (const c of aws.cfn.commandCalls(ListStackInstancesCommand))
      expect(c.args[0].input.CallAs).toBe('SELF');
  });

  it('asks StackSets as DELEGATED_ADMIN when configured', async () => {
    aws.sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '222222222222', Arn: 'arn:aws:iam::222222222222:role/A' });
    aws.org.on((await import('@aws-sdk/client-organizations')).ListDelegatedAdministratorsCommand).resolves({
      DelegatedAdministrators: [{ Id: '222222222222' }],
    });
    aws.stackSets(['s']);
    aws.operation([{ account: '333333333333', region: 'us-east-1', status: 'SUCCEEDED' }]);
    const { deps: d } = deps();
    const config = testConfig();
    const result = await runDeploy(
      { ...config, aws: { ...config.aws, accountType: 'delegatedAdmin' } },
      { yes: true },
      d,
    );
    expect(result.ok).toBe(true);
    for (const c of aws.cfn.commandCalls(ListStackInstancesCommand))
      expect(c.args[0].input.CallAs).toBe('DELEGATED_ADMIN');
  });

  it('reports failed instances with ok: false', async () => {
    aws.stackSets(['s']);
    aws.operation([
      { account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' },
      {
        account: '222222222222',
        region: 'eu-west-1',
        status: 'FAILED',
        reason: 'Role falcon-org-ssm-automation already exists',
      },
    ]);
    const result = await runDeploy(testConfig(), { yes: true }, deps().deps);
    expect(result.ok).toBe(false);
    expect(result.stackSets.failures).toEqual([
      expect.objectContaining({
        account: '222222222222',
        region: 'eu-west-1',
        reason: 'Role falcon-org-ssm-automation already exists',
      }),
    ]);
  });

  it('still reports the other StackSets when one cannot be read, and is not ok', async () => {
    aws.stackSets(['good', 'denied']);
    aws.operation([{ account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' }]);
    aws.cfn
      .on(ListStackSetOperationsCommand, { StackSetName: 'denied:0000-uuid' })
      .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));

    const result = await runDeploy(testConfig(), { yes: true }, deps().deps);

    expect(result.ok).toBe(false);
    expect(result.stackSets.stackSets.map((s) => [s.name, s.totals.succeeded, s.error])).toEqual([
      ['good:0000-uuid', 1, undefined],
      ['denied:0000-uuid', 0, 'AccessDeniedException: not allowed'],
    ]);
    expect(failureSummary(result.stackSets)).toBe(
      'results could not be read: denied:0000-uuid: AccessDeniedException: not allowed',
    );
  });

  it('changes nothing when pre-flight fails', async () => {
    aws.sts
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('no creds'), { name: 'CredentialsProviderError' }));
    const { deps: d, deployer } = deps();
    await expect(runDeploy(testConfig(), { yes: true }, d)).rejects.toBeInstanceOf(PreflightError);
    expect(deployer.deploys).toHaveLength(0);
  });

  it('stops before deploying when the Distributor document is missing in an SSM region, naming it', async () => {
    aws.ssm.on(DescribeDocumentCommand).callsFake(async (_input, getClient) => {
      const region = await (getClient() as SSMClient).config.region();
      if (region === 'eu-west-1')
        throw Object.assign(new Error('Document does not exist'), { name: 'InvalidDocument' });
      return { Document: { Status: 'Active' } };
    });
    const { deps: d, deployer } = deps();
    const error = await runDeploy(testConfig(), { yes: true }, d).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).message).toMatch(
      /distributorDocument: CrowdStrike-FalconSensorDeploy \(version \$DEFAULT\) is not available in eu-west-1 \(not published\)/,
    );
    expect(deployer.deploys).toHaveLength(0);
  });

  it('after a failed update, names each failed account from the failed operation, not from its rollback', async () => {
    aws.stackSets(['falcon-org-ssm-association']);
    const id = 'falcon-org-ssm-association:0000-uuid';
    const t0 = Date.now();
    aws.cfn.on(ListStackSetOperationsCommand, { StackSetName: id }).resolves({
      Summaries: [
        // The rollback's operation is newer and succeeded everywhere it ran.
        {
          OperationId: 'op-rollback',
          Action: 'UPDATE',
          Status: 'SUCCEEDED',
          CreationTimestamp: new Date(t0 + 2),
        },
        {
          OperationId: 'op-update',
          Action: 'UPDATE',
          Status: 'FAILED',
          StatusReason: 'Failure tolerance exceeded',
          CreationTimestamp: new Date(t0 + 1),
        },
      ],
    });
    aws.cfn.on(ListStackSetOperationResultsCommand, { OperationId: 'op-update' }).resolves({
      Summaries: [
        {
          Account: '222222222222',
          Region: 'eu-west-1',
          Status: 'FAILED',
          StatusReason:
            'Specified ReservedConcurrentExecutions decreases account UnreservedConcurrentExecution below its minimum value of [10].',
        },
        {
          Account: '333333333333',
          Region: 'eu-west-1',
          Status: 'FAILED',
          StatusReason: 'Resource of type AWS::SSM::Association failed: document not found',
        },
        { Account: ACCOUNT, Region: 'us-east-1', Status: 'SUCCEEDED' },
      ],
    });
    aws.cfn.on(ListStackSetOperationResultsCommand, { OperationId: 'op-rollback' }).resolves({
      Summaries: ['222222222222', '333333333333', ACCOUNT].map((a) => ({
        Account: a,
        Region: a === ACCOUNT ? 'us-east-1' : 'eu-west-1',
        Status: 'SUCCEEDED',
      })),
    });
    aws.cfn.on(ListStackInstancesCommand).resolves({
      Summaries: ['222222222222', '333333333333', ACCOUNT].map((a) => ({
        Account: a,
        Region: a === ACCOUNT ? 'us-east-1' : 'eu-west-1',
        Status: 'CURRENT',
      })),
    });
    const deployer = new RecordingDeployer();
    deployer.failWith = new ToolkitFailedError('deploy', 'UPDATE_ROLLBACK_COMPLETE');

    const result = await runDeploy(testConfig(), { yes: true }, deps(deployer).deps);

    expect(result.ok).toBe(false);
    expect(result.error?.message).toBe('deploy of the root stack failed: UPDATE_ROLLBACK_COMPLETE');
    expect(result.exitCode).toBe(1);
    expect(result.stackSets.failures.map((f) => [f.account, f.region, f.reason])).toEqual([
      ['222222222222', 'eu-west-1', expect.stringContaining('ReservedConcurrentExecutions')],
      ['333333333333', 'eu-west-1', 'Resource of type AWS::SSM::Association failed: document not found'],
    ]);
    expect(result.stackSets.failedOperations).toEqual([`${id}/op-update`]);
    expect(renderStackSetReport(result.stackSets)).toMatch(
      /333333333333\s+eu-west-1\s+FAILED\s+Resource of type AWS::SSM::Association/,
    );
  });

  it('after a rolled-back first deploy, reports the failed accounts seen before the rollback deleted the StackSets', async () => {
    const id = 'falcon-org-ssm-association:0000-uuid';
    const deployer = new RecordingDeployer();
    deployer.deploy = async (request) => {
      deployer.deploys.push(request);
      // Create: the StackSet appears and its operation fails in one account.
      aws.stackSets(['falcon-org-ssm-association']);
      aws.operation([
        { account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' },
        {
          account: '222222222222',
          region: 'us-east-1',
          status: 'FAILED',
          reason: 'Account 222222222222 should have AWSCloudFormationStackSetExecutionRole',
        },
      ]);
      // The deploy goes on until the watch has looked at the failed operation ...
      await until(() => aws.cfn.commandCalls(ListStackInstancesCommand).length > 0);
      await new Promise((r) => setTimeout(r, 5)); // its answer reaches the watch
      // ... then CloudFormation rolls the first deploy back: the StackSet and its history are gone.
      const gone = Object.assign(new Error(`StackSet ${id} not found`), {
        name: 'StackSetNotFoundException',
      });
      aws.cfn.on(ListStackResourcesCommand).resolves({
        StackResourceSummaries: [
          {
            LogicalResourceId: 'StackSet0',
            PhysicalResourceId: id,
            ResourceType: 'AWS::CloudFormation::StackSet',
            ResourceStatus: 'DELETE_COMPLETE',
            LastUpdatedTimestamp: new Date(),
          },
        ],
      });
      aws.cfn.on(ListStackSetOperationsCommand).rejects(gone);
      aws.cfn.on(ListStackSetOperationResultsCommand).rejects(gone);
      aws.cfn.on(ListStackInstancesCommand).rejects(gone);
      throw new ToolkitFailedError('deploy', 'ROLLBACK_COMPLETE');
    };

    const result = await runDeploy(
      testConfig(),
      { yes: true },
      deps(deployer, { watch: { intervalMs: 1 } }).deps,
    );

    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/ROLLBACK_COMPLETE/);
    expect(result.stackSets.failures).toEqual([
      expect.objectContaining({
        account: '222222222222',
        region: 'us-east-1',
        reason: 'Account 222222222222 should have AWSCloudFormationStackSetExecutionRole',
      }),
    ]);
    expect(result.stackSets.stackSets[0]?.note).toBe(
      'deleted by the rollback; results as seen during the deploy',
    );
    expect(renderStackSetReport(result.stackSets)).toContain(
      '(deleted by the rollback; results as seen during the deploy)',
    );
  });

  it('says when a rolled-back StackSet was deleted before anything could be read', async () => {
    const id = 'falcon-org-ssm-association:0000-uuid';
    aws.cfn.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: [
        {
          LogicalResourceId: 'StackSet0',
          PhysicalResourceId: id,
          ResourceType: 'AWS::CloudFormation::StackSet',
          ResourceStatus: 'DELETE_COMPLETE',
          LastUpdatedTimestamp: new Date(),
        },
      ],
    });
    aws.cfn
      .on(ListStackSetOperationsCommand)
      .rejects(Object.assign(new Error('not found'), { name: 'StackSetNotFoundException' }));
    const deployer = new RecordingDeployer();
    deployer.failWith = new ToolkitFailedError('deploy', 'ROLLBACK_COMPLETE');
    const result = await runDeploy(testConfig(), { yes: true }, deps(deployer).deps);
    expect(result.ok).toBe(false);
    expect(result.stackSets.unreadable).toEqual([
      `${id}: deleted by the rollback before its per-account results could be read; the events of stack falcon-org name the failure`,
    ]);
  });

  it('needs --yes for security-sensitive changes without a terminal, and asks on one', async () => {
    aws.stackSets([]);
    const deployer = new RecordingDeployer();
    let answer: boolean | undefined;
    deployer.deploy = async (request) => {
      answer = await request.ioHost.requestResponse({
        time: new Date(),
        level: 'info',
        action: 'deploy',
        code: 'CDK_TOOLKIT_I5060',
        message: 'IAM statement changes',
        data: { motivation: 'Stack includes security-sensitive updates' },
        defaultResponse: true,
      });
      return { stackName: STACK, account: ACCOUNT, region: 'us-east-1', outputs: {} };
    };
    await expect(runDeploy(testConfig(), { yes: false }, deps(deployer).deps)).rejects.toBeInstanceOf(
      NotConfirmedError,
    );

    const questions: string[] = [];
    const confirm = (q: string) => {
      questions.push(q);
      return Promise.resolve(true);
    };
    await runDeploy(testConfig(), { yes: false }, deps(deployer, { confirm }).deps);
    expect(answer).toBe(true);
    expect(questions).toEqual(['Stack includes security-sensitive updates. Deploy these changes? [y/N] ']);
  });
});

describe('runDestroy', () => {
  it('refuses without --yes when nobody can confirm, before changing anything', async () => {
    aws.stackSets(['s']);
    aws.operation([{ account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' }]);
    const { deps: d, deployer } = deps();
    await expect(runDestroy(testConfig(), { yes: false }, d)).rejects.toThrow(/re-run with --yes/);
    expect(deployer.destroys).toHaveLength(0);
  });

  it('reports each StackSet deleted with its instance count', async () => {
    aws.stackSets(['a', 'b']);
    aws.operation([
      { account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' },
      { account: '222222222222', region: 'us-east-1', status: 'SUCCEEDED' },
    ]);
    const deployer = new RecordingDeployer();
    const questions: string[] = [];
    const { deps: d } = deps(deployer, {
      confirm: (q: string) => {
        questions.push(q);
        // Once confirmed, the StackSets are gone.
        aws.cfn
          .on(ListStackInstancesCommand)
          .rejects(Object.assign(new Error('gone'), { name: 'StackSetNotFoundException' }));
        return Promise.resolve(true);
      },
    });
    const result = await runDestroy(testConfig(), { yes: false }, d);
    expect(questions[0]).toMatch(
      /Delete stack falcon-org in aws:\/\/111111111111\/us-east-1 with 2 StackSet\(s\) and their 4 stack instance/,
    );
    expect(deployer.destroys).toHaveLength(1);
    expect(result.ok).toBe(true);
    expect(result.destroyed).toEqual([
      { name: 'a:0000-uuid', instancesBefore: 2, outcome: 'deleted', remaining: [] },
      { name: 'b:0000-uuid', instancesBefore: 2, outcome: 'deleted', remaining: [] },
    ]);
  });

  it('names the instances left behind when the destroy fails', async () => {
    aws.stackSets(['a']);
    aws.operation([
      {
        account: '222222222222',
        region: 'eu-west-1',
        status: 'FAILED',
        reason: 'DELETE_FAILED: bucket not empty',
      },
    ]);
    const deployer = new RecordingDeployer();
    deployer.failWith = new ToolkitFailedError('destroy', 'DELETE_FAILED');
    const result = await runDestroy(testConfig(), { yes: true }, deps(deployer).deps);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/DELETE_FAILED/);
    expect(result.destroyed?.[0]).toMatchObject({
      outcome: 'remaining',
      remaining: [
        expect.objectContaining({
          account: '222222222222',
          region: 'eu-west-1',
          reason: 'DELETE_FAILED: bucket not empty',
        }),
      ],
    });
  });

  it('scrubs the credentials from a destroy failure even when the exported values carry whitespace', async () => {
    aws.stackSets(['a']);
    aws.operation([{ account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' }]);
    const deployer = new RecordingDeployer();
    // deploy trims the exported values, so the stack (and any echo of it) holds the trimmed secret.
    deployer.failWith = new Error(`parameter FalconClientSecret=${SECRET} rejected`);
    const { deps: d } = deps(deployer, {
      env: { FALCON_CLIENT_ID: ` ${ID}`, FALCON_CLIENT_SECRET: `${SECRET}\n` },
    });

    const result = await runDestroy(testConfig(), { yes: true }, d);

    expect(result.ok).toBe(false);
    expect(result.error?.message).toBe('parameter FalconClientSecret=*** rejected');
  });

  it('does nothing when the root stack does not exist', async () => {
    aws.cfn
      .on(ListStackResourcesCommand)
      .rejects(
        Object.assign(new Error('Stack with id falcon-org does not exist'), { name: 'ValidationError' }),
      );
    const { deps: d, deployer } = deps();
    const result = await runDestroy(testConfig(), { yes: true }, d);
    expect(result).toMatchObject({ ok: true, stack: { existed: false }, destroyed: [] });
    expect(deployer.destroys).toHaveLength(0);
  });
});
