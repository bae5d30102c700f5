import { CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUN_ENV } from '../../src/eks/run-contract.js';
import { DynamoRunsTable } from '../../src/eks/runs-table.js';
import { CodeBuildStarter, RunStarter, type BuildStarter } from '../../src/eks/start-run.js';
import { FakeDynamoTable } from './fake-dynamo.js';

const REF = { accountId: '111111111111', region: 'ap-southeast-2', cluster: 'prod' };

describe('RunStarter', () => {
  let fake: FakeDynamoTable;
  beforeEach(() => {
    fake = new FakeDynamoTable('runs');
  });
  afterEach(() => fake.reset());

  it('frees the lock with a failed result when the build cannot start, so the next trigger can try again', async () => {
    const table = new DynamoRunsTable(fake.client, 'runs');
    const started: Record<string, string>[] = [];
    let failNext = true;
    const builds: BuildStarter = {
      start: (env) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(
            Object.assign(new Error('Project cannot be found: deployer'), {
              name: 'ResourceNotFoundException',
            }),
          );
        }
        started.push({ ...env });
        return Promise.resolve('deployer:1');
      },
    };
    let n = 0;
    const starter = new RunStarter(table, builds, {
      partition: 'aws-us-gov',
      executionRoleName: 'exec',
      lockTtlSeconds: 3600,
      newRunId: () => `run-${(n += 1)}`,
    });

    const first = await starter.start(REF, 'fargate');
    expect(first).toEqual({
      status: 'failed',
      reason:
        'could not start the deployer build: ResourceNotFoundException: Project cannot be found: deployer',
    });
    const item = await table.get(REF);
    expect(item?.lockRunId).toBeUndefined();
    expect(item?.lastRun).toMatchObject({
      runId: 'run-1',
      outcome: 'failed',
      reason: first.status === 'failed' ? first.reason : '',
    });

    const second = await starter.start(REF, 'fargate');
    expect(second).toEqual({ status: 'started', runId: 'run-2', buildId: 'deployer:1' });
    expect(started[0]).toEqual({
      [RUN_ENV.accountId]: REF.accountId,
      [RUN_ENV.region]: 'ap-southeast-2',
      [RUN_ENV.cluster]: 'prod',
      [RUN_ENV.compute]: 'fargate',
      [RUN_ENV.executionRoleArn]: 'arn:aws-us-gov:iam::111111111111:role/exec',
      [RUN_ENV.runId]: 'run-2',
      [RUN_ENV.mode]: 'install',
    });
  });

  it('retries a build CodeBuild refuses for capacity (AccountLimitExceeded, throttling) with the same run ID, never recording a failure', async () => {
    const table = new DynamoRunsTable(fake.client, 'runs');
    const tokens: string[] = [];
    const refusals = [
      Object.assign(new Error('Concurrent build limit reached'), { name: 'AccountLimitExceededException' }),
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    ];
    const builds: BuildStarter = {
      start: (_env, token) => {
        tokens.push(token);
        const refusal = refusals.shift();
        return refusal ? Promise.reject(refusal) : Promise.resolve('deployer:9');
      },
    };
    const waits: number[] = [];
    const starter = new RunStarter(table, builds, {
      partition: 'aws',
      executionRoleName: 'exec',
      lockTtlSeconds: 3600,
      newRunId: () => 'run-1',
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    expect(await starter.start(REF, 'nodes')).toEqual({
      status: 'started',
      runId: 'run-1',
      buildId: 'deployer:9',
    });
    expect(tokens).toEqual(['run-1', 'run-1', 'run-1']);
    expect(waits).toHaveLength(2);
    expect((await table.get(REF))?.lastRun).toBeUndefined();
  });

  it('defers a run CodeBuild keeps refusing: lock given back, nothing recorded against the cluster', async () => {
    const table = new DynamoRunsTable(fake.client, 'runs');
    let calls = 0;
    const builds: BuildStarter = {
      start: () => {
        calls += 1;
        return Promise.reject(
          Object.assign(new Error('Concurrent build limit reached'), {
            name: 'AccountLimitExceededException',
          }),
        );
      },
    };
    const starter = new RunStarter(table, builds, {
      partition: 'aws',
      executionRoleName: 'exec',
      lockTtlSeconds: 3600,
      newRunId: () => 'run-1',
      startRetry: { retries: 3, baseDelayMs: 1, maxDelayMs: 1 },
      sleep: () => Promise.resolve(),
    });
    const out = await starter.start(REF, 'nodes');
    expect(out.status).toBe('deferred');
    expect(out.status === 'deferred' ? out.reason : '').toMatch(
      /refused the build 4 times.*not a failure of the cluster/,
    );
    expect(calls).toBe(4);
    const item = await table.get(REF);
    expect(item?.lockRunId).toBeUndefined();
    expect(item?.lastRun).toBeUndefined();
    expect(item?.failureStreak).toBeUndefined();
  });

  it('passes the run ID as StartBuild idempotency token, so a retried request starts one build', async () => {
    const codeBuild = mockClient(CodeBuildClient);
    codeBuild.on(StartBuildCommand).resolves({ build: { id: 'deployer:7' } });
    const table = new DynamoRunsTable(fake.client, 'runs');
    const starter = new RunStarter(
      table,
      new CodeBuildStarter(new CodeBuildClient({ region: 'us-east-1' }), 'deployer'),
      { partition: 'aws', executionRoleName: 'exec', lockTtlSeconds: 3600, newRunId: () => 'run-42' },
    );

    expect(await starter.start(REF, 'nodes')).toEqual({
      status: 'started',
      runId: 'run-42',
      buildId: 'deployer:7',
    });
    const input = codeBuild.commandCalls(StartBuildCommand)[0]?.args[0].input;
    expect(input?.idempotencyToken).toBe('run-42');
    expect(input?.projectName).toBe('deployer');
    codeBuild.restore();
  });

  it('starts no install run while the deployment is being destroyed — also when the mark lands right after the lock — and gives the lock back', async () => {
    const table = new DynamoRunsTable(fake.client, 'runs');
    const started: string[] = [];
    const builds: BuildStarter = {
      start: (env) => {
        started.push(env[RUN_ENV.mode] ?? '');
        return Promise.resolve('deployer:1');
      },
    };
    // Destroy marks the deployment between this starter's lock and its check.
    const racing = Object.assign(Object.create(table) as DynamoRunsTable, {
      takeLock: async (...args: Parameters<DynamoRunsTable['takeLock']>) => {
        const lock = await table.takeLock(...args);
        await table.markDestroying({ since: '2026-11-29T12:00:00.000Z', by: 'destroyer' });
        return lock;
      },
    });
    const settings = { partition: 'aws', executionRoleName: 'exec', lockTtlSeconds: 3600 };

    const raced = await new RunStarter(racing, builds, settings).start(REF, 'nodes');

    expect(raced).toEqual({
      status: 'stopped',
      reason:
        'the deployment is being destroyed (since 2026-11-29T12:00:00.000Z, by destroyer); no install run starts',
    });
    expect(started).toEqual([]);
    const item = await table.get(REF);
    expect(item?.lockRunId).toBeUndefined(); // given back, not left to expire
    expect(item?.lastRun).toBeUndefined(); // and no result invented

    // Destroy's own uninstall runs are not refused.
    const uninstall = await new RunStarter(table, builds, settings).start(REF, 'nodes', 'uninstall');
    expect(uninstall.status).toBe('started');
    expect(started).toEqual(['uninstall']);
  });

  it('a repair run that cannot start frees the lock without replacing the last install result', async () => {
    const repairFake = new FakeDynamoTable('runs');
    const table = new DynamoRunsTable(repairFake.client, 'runs');
    await table.takeLock(REF, 'install-1', 3600);
    await table.releaseLock({
      runId: 'install-1',
      ...REF,
      mode: 'install',
      outcome: 'protected',
      components: [],
      startedAt: '2026-11-29T10:00:00.000Z',
      finishedAt: '2026-11-29T10:05:00.000Z',
      durationsMs: {},
    });
    let attempt = 0;
    const builds: BuildStarter = {
      start: (env) => {
        attempt += 1;
        if (attempt === 1) return Promise.reject(new Error('CodeBuild is unavailable'));
        expect(env[RUN_ENV.mode]).toBe('repair');
        return Promise.resolve('deployer:2');
      },
    };
    const starter = new RunStarter(table, builds, {
      partition: 'aws',
      executionRoleName: 'exec',
      lockTtlSeconds: 3600,
      newRunId: () => `repair-${attempt + 1}`,
    });

    expect(await starter.start(REF, 'nodes', 'repair')).toMatchObject({ status: 'failed' });
    const item = await table.get(REF);
    expect(item?.lockRunId).toBeUndefined();
    expect(item?.lastRun?.runId).toBe('install-1');
    expect(item?.lastRepair).toMatchObject({ runId: 'repair-1', mode: 'repair', outcome: 'failed' });

    expect(await starter.start(REF, 'nodes', 'repair')).toEqual({
      status: 'started',
      runId: 'repair-2',
      buildId: 'deployer:2',
      mode: 'repair',
    });
    repairFake.reset();
  });
});
