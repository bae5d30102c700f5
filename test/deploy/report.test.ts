import { describe, expect, it } from 'vitest';
import { buildStackSetReport } from '../../src/aws/stackset-results.js';
import { failureSummary, renderDestroyed, renderStackSetReport } from '../../src/deploy/report.js';

const report = buildStackSetReport([
  {
    stackSetName: 'falcon-org-ssm',
    operations: [
      { OperationId: 'op-9', Action: 'UPDATE', Status: 'FAILED', StatusReason: 'Failure tolerance exceeded' },
    ],
    operationResults: [
      {
        OperationId: 'op-9',
        Account: '222222222222',
        Region: 'eu-west-1',
        Status: 'FAILED',
        StatusReason: 'Association\n  failed:   Document missing',
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
    ],
    timedOut: false,
  },
]);

describe('renderStackSetReport', () => {
  it('renders an aligned account × region table, totals and the failures by name', () => {
    expect(renderStackSetReport(report).split('\n')).toEqual([
      'StackSet falcon-org-ssm — UPDATE FAILED (Failure tolerance exceeded)',
      '  ACCOUNT       REGION     STATUS     REASON',
      '  111111111111  us-east-1  SUCCEEDED',
      '  222222222222  eu-west-1  FAILED     Association failed: Document missing',
      '  2 instances: 1 succeeded, 1 failed',
      '',
      'Total: 2 instances: 1 succeeded, 1 failed in 1 StackSet',
      'Failed (1):',
      '  222222222222 eu-west-1 (falcon-org-ssm): Association failed: Document missing',
      'Failed operations: falcon-org-ssm/op-9',
    ]);
  });

  it('summarises failures for the exit-1 message', () => {
    expect(failureSummary(report)).toBe(
      '1 stack instance(s) failed: 222222222222/eu-west-1 (falcon-org-ssm); operation(s) failed or stopped: falcon-org-ssm/op-9',
    );
  });

  it('is plain data for --json', () => {
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    expect(json.totals).toEqual({ instances: 2, succeeded: 1, failed: 1, inProgress: 0, other: 0 });
    expect(json.failures[0]).toMatchObject({
      account: '222222222222',
      region: 'eu-west-1',
      status: 'FAILED',
      outcome: 'failed',
    });
  });
});

describe('renderDestroyed', () => {
  it('says per StackSet what happened', () => {
    const text = renderDestroyed([
      { name: 'a', instancesBefore: 3, outcome: 'deleted', remaining: [] },
      { name: 'b', instancesBefore: 1, outcome: 'remaining', remaining: [] },
      {
        name: 'c',
        instancesBefore: 2,
        outcome: 'remaining',
        remaining: [
          {
            stackSet: 'c',
            account: '1',
            region: 'us-east-1',
            status: 'FAILED',
            outcome: 'failed',
            reason: 'DELETE_FAILED',
          },
        ],
      },
    ]);
    expect(text.split('\n')).toEqual([
      'StackSet a: deleted with its 3 stack instances',
      'StackSet b: still exists, with no stack instances left',
      'StackSet c: 1 of 2 stack instances remain',
      '  ACCOUNT  REGION     STATUS  REASON',
      '  1        us-east-1  FAILED  DELETE_FAILED',
    ]);
  });
});
