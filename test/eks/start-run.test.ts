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
});
