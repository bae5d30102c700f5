import { ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/main.js';
import { ACCOUNT, captureOutput, configFile, createdDeployers, mockAws, nextDeployer } from './helpers.js';

// The toolkit needs real AWS: the CLI gets a recording fake instead (same Deployer interface), and
// a stand-in for the CDK app builder. Everything else (config loading, pre-flight, StackSet
// reporting, output, exit codes) is the real code, with AWS faked by aws-sdk-client-mock.
vi.mock('../../src/deploy/toolkit-deployer.js', async () => {
  const { RecordingDeployer, createdDeployers: created, nextDeployer: next } = await import('./helpers.js');
  return {
    ToolkitDeployer: class extends RecordingDeployer {
      constructor() {
        super();
        if (next.failWith) this.failWith = next.failWith;
        this.toolkitMessages = next.toolkitMessages;
        created.push(this);
      }
    },
  };
});
vi.mock('../../src/infra/app.js', () => ({ buildApp: () => ({}) }));

const aws = mockAws();
const SECRET = 'MARKER-cli-secret-31415';
const saved = { id: process.env.FALCON_CLIENT_ID, secret: process.env.FALCON_CLIENT_SECRET };

beforeEach(() => {
  aws.healthy();
  process.env.FALCON_CLIENT_ID = 'MARKER-cli-id-27182';
  process.env.FALCON_CLIENT_SECRET = SECRET;
  createdDeployers.length = 0;
  delete nextDeployer.failWith;
  nextDeployer.toolkitMessages = [];
});
afterEach(() => {
  aws.reset();
  for (const [key, value] of [
    ['FALCON_CLIENT_ID', saved.id],
    ['FALCON_CLIENT_SECRET', saved.secret],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('falcon-org deploy', () => {
  it('exits 0 and prints the per-account/region table', async () => {
    aws.stackSets(['falcon-org-ssm']);
    aws.operation([
      { account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' },
      { account: '222222222222', region: 'eu-west-1', status: 'SUCCEEDED' },
    ]);
    const output = captureOutput();
    expect(await run(['deploy', '--config', configFile()], output)).toBe(0);
    const text = output.stdout.join('\n');
    expect(text).toMatch(/StackSet falcon-org-ssm:0000-uuid — CREATE SUCCEEDED/);
    expect(text).toMatch(/ACCOUNT\s+REGION\s+STATUS\s+REASON/);
    expect(text).toMatch(/222222222222\s+eu-west-1\s+SUCCEEDED/);
    expect(text).toContain('Total: 2 instances: 2 succeeded, 0 failed in 1 StackSet');
    expect(output.all()).not.toContain(SECRET);
    expect(createdDeployers[0]?.deploys[0]?.parameters.FalconClientSecret).toBe(SECRET);
  });

  it('prints exactly one JSON document on stdout with --json', async () => {
    aws.stackSets(['s']);
    aws.operation([{ account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' }]);
    const output = captureOutput();
    expect(await run(['deploy', '--config', configFile(), '--json'], output)).toBe(0);
    expect(output.stdout).toHaveLength(1);
    const result = JSON.parse(output.stdout[0]) as {
      action: string;
      ok: boolean;
      stack: { name: string };
      stackSets: { totals: { succeeded: number } };
    };
    expect(result).toMatchObject({
      action: 'deploy',
      ok: true,
      stack: { name: 'falcon-org' },
      stackSets: { totals: { succeeded: 1 } },
    });
    expect(output.stdout[0]).not.toContain(SECRET);
    expect(output.stderr.length).toBeGreaterThan(0); // progress went to stderr
  });

  it('exits 1 and names the failed instances', async () => {
    aws.stackSets(['s']);
    aws.operation([
      { account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' },
      {
        account: '222222222222',
        region: 'eu-west-1',
        status: 'FAILED',
        reason: 'Resource handler returned message: AccessDenied',
      },
    ]);
    const output = captureOutput();
    expect(await run(['deploy', '--config', configFile()], output)).toBe(1);
    expect(output.stdout.join('\n')).toMatch(
      /222222222222 eu-west-1 \(s:0000-uuid\): Resource handler returned message: AccessDenied/,
    );
    expect(output.stderr.at(-1)).toMatch(
      /^falcon-org: deploy finished with failures: 1 stack instance\(s\) failed: 222222222222\/eu-west-1/,
    );
    expect(output.stderr.join('\n')).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 2 naming the variables when the Falcon credentials are missing, before any AWS call', async () => {
    delete process.env.FALCON_CLIENT_ID;
    delete process.env.FALCON_CLIENT_SECRET;
    const output = captureOutput();
    expect(await run(['deploy', '--config', configFile()], output)).toBe(2);
    expect(output.stderr.join('\n')).toMatch(/FALCON_CLIENT_ID and FALCON_CLIENT_SECRET are not set/);
    expect(aws.sts.calls()).toHaveLength(0);
  });

  it('exits 2 with how to provide AWS credentials when STS fails, also as JSON', async () => {
    aws.sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const output = captureOutput();
    expect(await run(['deploy', '--config', configFile(), '--json'], output)).toBe(2);
    const result = JSON.parse(output.stdout[0]) as {
      ok: boolean;
      exitCode: number;
      error: { findings: { check: string }[] };
    };
    expect(result).toMatchObject({ ok: false, exitCode: 2 });
    expect(result.error.findings.map((f) => f.check)).toEqual(['credentials']);
    expect(output.stderr.join('\n')).toMatch(/AWS_PROFILE/);
    expect(createdDeployers[0]?.deploys ?? []).toHaveLength(0);
  });

  it('exits 2 with the bootstrap command when the CDK is not bootstrapped', async () => {
    aws.ssm.on(GetParameterCommand).rejects(Object.assign(new Error('x'), { name: 'ParameterNotFound' }));
    aws.cfn
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id CDKToolkit does not exist'), { name: 'ValidationError' }),
      );
    const output = captureOutput();
    expect(await run(['deploy', '--config', configFile()], output)).toBe(2);
    expect(output.stderr.join('\n')).toContain(`npx cdk bootstrap aws://${ACCOUNT}/us-east-1`);
  });

  it('exits 1 when the toolkit fails, without the secret in the message', async () => {
    aws.stackSets([]);
    const { ToolkitFailedError } = await import('../../src/deploy/errors.js');
    nextDeployer.failWith = new ToolkitFailedError('deploy', 'stack rolled back');
    nextDeployer.toolkitMessages = [`CREATE_FAILED FalconClientSecret ${SECRET} does not match pattern`];
    const output = captureOutput();
    expect(await run(['deploy', '--config', configFile()], output)).toBe(1);
    expect(output.stderr).toContain('CREATE_FAILED FalconClientSecret *** does not match pattern');
    expect(output.stderr.at(-1)).toBe('falcon-org: deploy of the root stack failed: stack rolled back');
    expect(output.all()).not.toContain(SECRET);
  });

  it('prints the failed accounts of the StackSet operations before exiting 1 when the root stack fails, also as JSON', async () => {
    const { ToolkitFailedError } = await import('../../src/deploy/errors.js');
    aws.stackSets(['falcon-org-ssm-association']);
    aws.operation([
      { account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' },
      { account: '222222222222', region: 'eu-west-1', status: 'FAILED', reason: 'Rate exceeded for SSM' },
    ]);
    nextDeployer.failWith = new ToolkitFailedError('deploy', 'UPDATE_ROLLBACK_COMPLETE');
    const text = captureOutput();
    expect(await run(['deploy', '--config', configFile()], text)).toBe(1);
    expect(text.stdout.join('\n')).toMatch(/222222222222\s+eu-west-1\s+FAILED\s+Rate exceeded for SSM/);
    expect(text.stderr.at(-1)).toBe(
      'falcon-org: deploy of the root stack failed: UPDATE_ROLLBACK_COMPLETE; StackSet results: 1 stack instance(s) ' +
        'failed: 222222222222/eu-west-1 (falcon-org-ssm-association:0000-uuid); operation(s) failed or stopped: ' +
        'falcon-org-ssm-association:0000-uuid/op-1',
    );

    const json = captureOutput();
    expect(await run(['deploy', '--config', configFile(), '--json'], json)).toBe(1);
    expect(json.stdout).toHaveLength(1);
    const result = JSON.parse(json.stdout[0] ?? '') as {
      ok: boolean;
      error: { message: string };
      stackSets: { failures: { account: string; reason: string }[] };
    };
    expect(result.ok).toBe(false);
    expect(result.error.message).toBe('deploy of the root stack failed: UPDATE_ROLLBACK_COMPLETE');
    expect(result.stackSets.failures).toEqual([
      expect.objectContaining({ account: '222222222222', reason: 'Rate exceeded for SSM' }),
    ]);
  });
});

describe('falcon-org destroy', () => {
  it('exits 2 without --yes when not on a terminal, and deletes nothing', async () => {
    aws.stackSets(['s']);
    aws.operation([{ account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' }]);
    const output = captureOutput();
    expect(await run(['destroy', '--config', configFile()], output)).toBe(2);
    expect(output.stderr.at(-1)).toMatch(/re-run with --yes/);
    expect(createdDeployers[0]?.destroys).toHaveLength(0);
  });

  it('exits 0 with --yes and reports what happened to each StackSet', async () => {
    aws.stackSets(['s']);
    aws.operation([{ account: ACCOUNT, region: 'us-east-1', status: 'SUCCEEDED' }]);
    aws.cfn
      .on(ListStackInstancesCommand)
      .resolvesOnce({ Summaries: [{ Account: ACCOUNT, Region: 'us-east-1', Status: 'CURRENT' }] })
      .rejects(Object.assign(new Error('gone'), { name: 'StackSetNotFoundException' }));
    delete process.env.FALCON_CLIENT_ID; // destroy does not need Falcon credentials
    const output = captureOutput();
    expect(await run(['destroy', '--config', configFile(), '--yes'], output)).toBe(0);
    expect(output.stdout.join('\n')).toContain('StackSet s:0000-uuid: deleted with its 1 stack instance');
    expect(createdDeployers[0]?.destroys).toHaveLength(1);
  });

  it('--purge updates before deleting and says so; without it the report names the leftovers, also in --json', async () => {
    aws.stackSets(['falcon-org-ecr-connections']);
    // The StackSet exists until the latest CLI run's deployer has destroyed the stack.
    aws.cfn.on(ListStackInstancesCommand).callsFake(() => {
      if ((createdDeployers.at(-1)?.destroys.length ?? 0) > 0)
        throw Object.assign(new Error('gone'), { name: 'StackSetNotFoundException' });
      return { Summaries: [{ Account: '222222222222', Region: 'us-east-1', Status: 'CURRENT' }] };
    });
    const plain = captureOutput();
    expect(await run(['destroy', '--config', configFile(), '--yes'], plain)).toBe(0);
    const text = plain.stdout.join('\n');
    expect(text).toMatch(/Left behind in 1 account\(s\)/);
    expect(text).toContain('SSM parameter /falcon-org/ecr-connections/ownership');
    expect(text).toContain('222222222222 us-east-1');
    expect(createdDeployers[0]?.calls).toEqual(['destroy']);

    const json = captureOutput();
    expect(await run(['destroy', '--config', configFile(), '--yes', '--purge', '--json'], json)).toBe(0);
    const result = JSON.parse(json.stdout[0] ?? '') as {
      leftovers: { purged: boolean; accounts: unknown[] };
    };
    expect(result.leftovers).toMatchObject({ purged: true, accounts: [{ account: '222222222222' }] });
    expect(createdDeployers[1]?.calls).toEqual(['deploy', 'destroy']);
    expect(createdDeployers[1]?.deploys[0]?.appOptions).toEqual({ purgeOnDelete: true });
  });
});
