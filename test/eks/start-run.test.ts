import { afterEach, describe, expect, it } from 'vitest';
import { RUN_ENV } from '../../src/eks/run-contract.js';
import { DynamoRunsTable } from '../../src/eks/runs-table.js';
import { RunStarter, type BuildStarter } from '../../src/eks/start-run.js';
import { FakeDynamoTable } from './fake-dynamo.js';

const REF = { accountId: '111111111111', region: 'ap-southeast-2', cluster: 'prod' };

describe('RunStarter', () => {
  const fake = new FakeDynamoTable('runs');
  afterEach(() => fake.items.clear());

  it('frees the lock with a failed result when the build cannot start, so the next trigger can try again', async () => {
    const table = new DynamoRunsTable(fake.client, 'runs');
    const started: Record<string, string>[] = [];
    let failNext = true;
    const builds: BuildStarter = {
      start: (env) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(
            Object.assign(new Error('Concurrent build limit reached'), {
              name: 'AccountLimitExceededException',
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
        'could not start the deployer build: AccountLimitExceededException: Concurrent build limit reached',
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
    fake.reset();
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
