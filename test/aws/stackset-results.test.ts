import {
  CloudFormationClient,
  ListStackInstancesCommand,
  ListStackSetOperationResultsCommand,
  ListStackSetOperationsCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildStackSetReport,
  observeStackSet,
  type StackSetObservation,
} from '../../src/aws/stackset-results.js';

const cfn = mockClient(CloudFormationClient);
const client = () => new CloudFormationClient({ region: 'us-east-1' });
afterEach(() => cfn.reset());

const T0 = new Date('2026-01-01T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** A fake clock whose sleep advances time, so waiting is bounded without real time passing. */
function fakeClock() {
  let now = T0.getTime();
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms: number) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

describe('observeStackSet', () => {
  it('waits for running operations with backoff, then reads every page of results and instances as DELEGATED_ADMIN', async () => {
    const running = {
      OperationId: 'op-new',
      Action: 'UPDATE' as const,
      Status: 'RUNNING' as const,
      CreationTimestamp: at(1),
    };
    const old = {
      OperationId: 'op-old',
      Action: 'CREATE' as const,
      Status: 'SUCCEEDED' as const,
      CreationTimestamp: at(-600),
    };
    cfn
      .on(ListStackSetOperationsCommand)
      .resolvesOnce({ Summaries: [running, old] })
      .resolvesOnce({ Summaries: [{ ...running, Status: 'QUEUED' }, old] })
      .resolves({ Summaries: [{ ...running, Status: 'SUCCEEDED' }, old] });
    cfn
      .on(ListStackSetOperationResultsCommand, { NextToken: undefined })
      .resolves({
        Summaries: [{ Account: '111111111111', Region: 'us-east-1', Status: 'SUCCEEDED' }],
        NextToken: 'r2',
      })
      .on(ListStackSetOperationResultsCommand, { NextToken: 'r2' })
      .resolves({
        Summaries: [
          {
            Account: '222222222222',
            Region: 'us-east-1',
            Status: 'FAILED',
            StatusReason: 'Role already exists',
          },
        ],
      });
    cfn
      .on(ListStackInstancesCommand, { NextToken: undefined })
      .resolves({
        Summaries: [
          {
            Account: '111111111111',
            Region: 'us-east-1',
            Status: 'CURRENT',
            StackInstanceStatus: { DetailedStatus: 'SUCCEEDED' },
          },
        ],
        NextToken: 'i2',
      })
      .on(ListStackInstancesCommand, { NextToken: 'i2' })
      .resolves({
        Summaries: [
          {
            Account: '222222222222',
            Region: 'us-east-1',
            Status: 'OUTDATED',
            StackInstanceStatus: { DetailedStatus: 'FAILED' },
          },
        ],
      });
    const clock = fakeClock();
    const waited: string[] = [];

    const obs = await observeStackSet(
      client(),
      { stackSetName: 'falcon-org-ssm', callAs: 'DELEGATED_ADMIN', since: T0 },
      {
        ...clock,
        initialDelayMs: 1000,
        maxDelayMs: 1500,
        onWaiting: (_n, active) => waited.push(active[0]?.Status ?? ''),
      },
    );

    expect(waited).toEqual(['RUNNING', 'QUEUED']);
    expect(clock.sleeps).toEqual([1000, 1500]);
    expect(obs.timedOut).toBe(false);
    expect(obs.operations.map((o) => o.OperationId)).toEqual(['op-new']); // the old one predates this run
    expect(obs.operationResults).toHaveLength(2);
    expect(obs.instances).toHaveLength(2);
    for (const call of cfn.calls())
      expect((call.args[0].input as { CallAs?: string }).CallAs).toBe('DELEGATED_ADMIN');
    expect(
      cfn
        .commandCalls(ListStackSetOperationResultsCommand)
        .every((c) => c.args[0].input.OperationId === 'op-new'),
    ).toBe(true);
  });

  it('gives up after the timeout and says the operation is still running', async () => {
    cfn.on(ListStackSetOperationsCommand).resolves({
      Summaries: [{ OperationId: 'op', Action: 'CREATE', Status: 'RUNNING', CreationTimestamp: at(0) }],
    });
    cfn.on(ListStackSetOperationResultsCommand).resolves({ Summaries: [] });
    cfn.on(ListStackInstancesCommand).resolves({ Summaries: [] });
    const clock = fakeClock();
    const obs = await observeStackSet(
      client(),
      { stackSetName: 's', callAs: 'SELF', since: T0 },
      { ...clock, timeoutMs: 60_000, initialDelayMs: 5_000, maxDelayMs: 20_000 },
    );
    expect(obs.timedOut).toBe(true);
    expect(clock.sleeps).toEqual([5_000, 10_000, 20_000, 20_000, 5_000]);
    expect(buildStackSetReport([obs]).ok).toBe(false);
  });

  it('reports on the latest operation when nothing changed during this run', async () => {
    cfn.on(ListStackSetOperationsCommand).resolves({
      Summaries: [
        { OperationId: 'older', Status: 'SUCCEEDED', CreationTimestamp: at(-100) },
        { OperationId: 'latest', Status: 'SUCCEEDED', CreationTimestamp: at(-50) },
      ],
    });
    cfn.on(ListStackSetOperationResultsCommand).resolves({ Summaries: [] });
    cfn.on(ListStackInstancesCommand).resolves({ Summaries: [] });
    const obs = await observeStackSet(
      client(),
      { stackSetName: 's', callAs: 'SELF', since: T0 },
      fakeClock(),
    );
    expect(obs.operations.map((o) => o.OperationId)).toEqual(['latest']);
  });
});

describe('buildStackSetReport', () => {
  const observation = (over: Partial<StackSetObservation>): StackSetObservation => ({
    stackSetName: 'falcon-org-ssm-regional',
    operations: [],
    operationResults: [],
    instances: [],
    timedOut: false,
    ...over,
  });

  it('builds account × region rows with reasons and totals, newest result first', () => {
    const report = buildStackSetReport([
      observation({
        operations: [
          {
            OperationId: 'new',
            Action: 'UPDATE',
            Status: 'FAILED',
            StatusReason: 'Failure tolerance exceeded',
          },
          { OperationId: 'old', Action: 'CREATE', Status: 'SUCCEEDED' },
        ],
        operationResults: [
          { OperationId: 'old', Account: '222222222222', Region: 'eu-west-1', Status: 'SUCCEEDED' },
          {
            OperationId: 'new',
            Account: '222222222222',
            Region: 'eu-west-1',
            Status: 'FAILED',
            StatusReason: 'ResourceLogicalId:Association, Document not found',
          },
          {
            OperationId: 'new',
            Account: '333333333333',
            Region: 'us-east-1',
            Status: 'FAILED',
            StatusReason: 'Account suspended',
          },
        ],
        instances: [
          {
            Account: '111111111111',
            Region: 'us-east-1',
            Status: 'CURRENT',
            StackInstanceStatus: { DetailedStatus: 'SUCCEEDED' },
          },
          {
            Account: '222222222222',
            Region: 'eu-west-1',
            Status: 'OUTDATED',
            StackInstanceStatus: { DetailedStatus: 'FAILED' },
          },
          {
            Account: '111111111111',
            Region: 'eu-west-1',
            Status: 'OUTDATED',
            StackInstanceStatus: { DetailedStatus: 'CANCELLED' },
          },
        ],
      }),
      observation({
        stackSetName: 'falcon-org-ssm-account',
        instances: [
          {
            Account: '111111111111',
            Region: 'us-east-1',
            Status: 'INOPERABLE',
            StatusReason: 'stack deleted outside',
          },
        ],
      }),
    ]);

    const regional = report.stackSets[0];
    expect(regional.rows.map((r) => [r.account, r.region, r.status, r.reason])).toEqual([
      ['111111111111', 'eu-west-1', 'CANCELLED', undefined],
      ['111111111111', 'us-east-1', 'SUCCEEDED', undefined],
      ['222222222222', 'eu-west-1', 'FAILED', 'ResourceLogicalId:Association, Document not found'],
      ['333333333333', 'us-east-1', 'FAILED', 'Account suspended'], // a result with no instance
    ]);
    expect(regional.totals).toEqual({ instances: 4, succeeded: 1, failed: 2, inProgress: 0, other: 1 });
    expect(report.totals).toEqual({ instances: 5, succeeded: 1, failed: 3, inProgress: 0, other: 1 });
    expect(report.failures.map((f) => `${f.stackSet}:${f.account}/${f.region}`)).toEqual([
      'falcon-org-ssm-regional:222222222222/eu-west-1',
      'falcon-org-ssm-regional:333333333333/us-east-1',
      'falcon-org-ssm-account:111111111111/us-east-1',
    ]);
    expect(report.failedOperations).toEqual(['falcon-org-ssm-regional/new']);
    expect(report.ok).toBe(false);
  });

  it('is ok when every instance succeeded', () => {
    const report = buildStackSetReport([
      observation({
        operations: [{ OperationId: 'a', Action: 'CREATE', Status: 'SUCCEEDED' }],
        instances: [
          {
            Account: '1',
            Region: 'us-east-1',
            Status: 'CURRENT',
            StackInstanceStatus: { DetailedStatus: 'SUCCEEDED' },
          },
        ],
      }),
    ]);
    expect(report.ok).toBe(true);
    expect(report.totals.succeeded).toBe(1);
  });
});
