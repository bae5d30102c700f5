import {
  ListStackInstancesCommand,
  ListStackResourcesCommand,
  ListStackSetOperationsCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeDocumentCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import { NotConfirmedError, PreflightError, ToolkitFailedError } from '../../src/deploy/errors.js';
import { createProgress } from '../../src/deploy/progress.js';
import { failureSummary } from '../../src/deploy/report.js';
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
      /distributorDocument: CrowdStrike-FalconSensorDeploy \(version 3\) is not available in eu-west-1 \(not published\)/,
    );
    expect(deployer.deploys).toHaveLength(0);
  });

  it('does not look at StackSets when the toolkit fails, and keeps its secret-free message', async () => {
    const deployer = new RecordingDeployer();
    deployer.failWith = new ToolkitFailedError('deploy', 'UPDATE_ROLLBACK_COMPLETE');
    await expect(runDeploy(testConfig(), { yes: true }, deps(deployer).deps)).rejects.toThrow(
      /UPDATE_ROLLBACK_COMPLETE/,
    );
    expect(aws.cfn.commandCalls(ListStackResourcesCommand)).toHaveLength(0);
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
