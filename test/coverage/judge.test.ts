import { describe, expect, it } from 'vitest';
import { stateOf } from '../../src/coverage/cells.js';
import { judgeEcrRegion, indexConnections } from '../../src/coverage/ecr.js';
import { judgeEksRegion, type EksRegionFacts } from '../../src/coverage/eks.js';
import { judgeSsmRegion, type SsmRegionFacts } from '../../src/coverage/ssm.js';
import { accessDenialIn } from '../../src/coverage/access-denied.js';
import { clusterOf } from '../../src/coverage/aws-readers.js';
import type { RunsTableItem } from '../../src/eks/runs-table.js';
import type { RunResult } from '../../src/eks/run-contract.js';

const A = '111111111111';
/** 2026-11-29T12:00:00Z */
const NOW = Date.parse('2026-11-29T12:00:00Z') / 1000;
const ssm = (over: Partial<SsmRegionFacts>): SsmRegionFacts => ({
  accountId: A,
  region: 'eu-west-1',
  associationName: 'falcon-org-falcon-sensor',
  association: { associationId: 'a-1', lastExecutionStatus: 'Success' },
  instances: [{ instanceId: 'i-01' }],
  managed: [{ instanceId: 'i-01', pingStatus: 'Online' }],
  compliance: [],
  hosts: [],
  nowSeconds: NOW,
  hostStaleAfterHours: 24,
  ...over,
});

describe('cell state from item counts', () => {
  it.each([
    [{ total: 0, protected: 0, partial: 0, unprotected: 0, notApplicable: 0, unknown: 0 }, 'not-applicable'],
    [{ total: 2, protected: 2, partial: 0, unprotected: 0, notApplicable: 0, unknown: 0 }, 'protected'],
    [{ total: 2, protected: 0, partial: 0, unprotected: 2, notApplicable: 0, unknown: 0 }, 'unprotected'],
    [{ total: 2, protected: 1, partial: 0, unprotected: 1, notApplicable: 0, unknown: 0 }, 'partial'],
    [{ total: 2, protected: 0, partial: 0, unprotected: 1, notApplicable: 0, unknown: 1 }, 'unprotected'],
    [{ total: 3, protected: 1, partial: 0, unprotected: 0, notApplicable: 0, unknown: 2 }, 'partial'],
    [{ total: 4, protected: 0, partial: 0, unprotected: 1, notApplicable: 1, unknown: 2 }, 'unprotected'],
    [{ total: 2, protected: 0, partial: 0, unprotected: 0, notApplicable: 0, unknown: 2 }, 'unknown'],
    [{ total: 3, protected: 2, partial: 0, unprotected: 0, notApplicable: 1, unknown: 0 }, 'protected'],
    // A partly protected cluster: partial, alone, with unprotected ones or with unknown ones.
    [{ total: 1, protected: 0, partial: 1, unprotected: 0, notApplicable: 0, unknown: 0 }, 'partial'],
    [{ total: 2, protected: 0, partial: 1, unprotected: 1, notApplicable: 0, unknown: 0 }, 'partial'],
    [{ total: 2, protected: 0, partial: 1, unprotected: 0, notApplicable: 0, unknown: 1 }, 'partial'],
  ] as const)('%o → %s', (counts, state) => {
    expect(stateOf(counts)).toBe(state);
  });
});

describe('SSM judgement', () => {
  const reason = (facts: Partial<SsmRegionFacts>) => judgeSsmRegion(ssm(facts)).items[0]?.reasons[0]?.code;

  it('names why an instance Falcon does not see is unprotected', () => {
    expect(reason({ managed: [] })).toBe('not-ssm-managed');
    expect(reason({ managed: [{ instanceId: 'i-01', pingStatus: 'ConnectionLost' }] })).toBe('ssm-offline');
    expect(reason({ association: undefined })).toBe('no-association');
    expect(reason({ compliance: [{ instanceId: 'i-01', status: 'COMPLIANT' }] })).toBe(
      'installed-not-reporting',
    );
    expect(reason({ compliance: [{ instanceId: 'i-01', status: 'NON_COMPLIANT' }] })).toBe('not-compliant');
    expect(reason({ association: { associationId: 'a-1', lastExecutionStatus: 'Failed' } })).toBe(
      'association-failed',
    );
    expect(reason({})).toBe('association-pending');
  });

  it('a sensor Falcon sees protects the instance even without SSM', () => {
    const cell = judgeSsmRegion(ssm({ managed: [], hosts: [{ deviceId: 'd1', instanceId: 'i-01' }] }));
    expect(cell.state).toBe('protected');
  });

  it('a host Falcon last saw longer ago than hostStaleAfterHours does not protect the instance', () => {
    const host = (lastSeen: string) => ({ deviceId: 'd1', hostname: 'web-1', instanceId: 'i-01', lastSeen });
    // Seen 23 hours ago: current.
    expect(judgeSsmRegion(ssm({ hosts: [host('2026-11-28T13:00:00Z')] })).state).toBe('protected');
    // Seen 30 hours ago: a removed or stopped sensor Falcon still lists.
    const stale = judgeSsmRegion(ssm({ hosts: [host('2026-11-28T06:00:00Z')] }));
    expect(stale.state).toBe('unprotected');
    expect(stale.items[0]?.reasons[0]?.code).toBe('sensor-stale');
    expect(stale.items[0]?.reasons[0]?.text).toContain(
      'sensor not seen for 30 hours (last seen 2026-11-28T06:00:00Z)',
    );
    expect(stale.items[0]?.facts.lastSeen).toBe('2026-11-28T06:00:00Z');
    // The threshold is the setting's.
    expect(
      judgeSsmRegion(ssm({ hosts: [host('2026-11-28T06:00:00Z')], hostStaleAfterHours: 48 })).state,
    ).toBe('protected');
    // A reinstalled sensor: the old host stays in Falcon, the new one speaks for the instance.
    const both = [{ ...host('2026-11-29T11:00:00Z'), deviceId: 'new' }, host('2026-11-01T00:00:00Z')];
    expect(judgeSsmRegion(ssm({ hosts: both })).state).toBe('protected');
    expect(judgeSsmRegion(ssm({ hosts: [...both].reverse() })).items[0]?.facts.falconDeviceId).toBe('new');
  });

  it('names the action and IAM reason when the association failed with AccessDenied', () => {
    const association = {
      associationId: 'a-1',
      lastExecutionStatus: 'Failed',
      lastExecutionDate: '2026-11-29T06:00:00.000Z',
      failure: {
        executionId: 'exec-child-1',
        message: 'Step fails when it is Execution of a script …',
        accessDenied: {
          action: 'ssm:SendCommand',
          resource: 'arn:aws:ssm:eu-west-1::document/AWS-ConfigureAWSPackage',
          reason: 'with an explicit deny in a service control policy',
        },
      },
    };
    const cell = judgeSsmRegion(ssm({ association }));
    expect(cell.reasons[0]).toEqual({
      code: 'association-access-denied',
      text: "The association's last execution ended Failed on 2026-11-29T06:00:00.000Z: AccessDenied, the automation role may not call ssm:SendCommand on arn:aws:ssm:eu-west-1::document/AWS-ConfigureAWSPackage (with an explicit deny in a service control policy; execution exec-child-1). Grant the action to the role, or lift the permissions boundary or service control policy that denies it.",
    });
    // The instance the association should have reached says the same.
    expect(cell.items[0]?.reasons[0]?.code).toBe('association-access-denied');
    expect(cell.items[0]?.reasons[0]?.text).toContain('may not call ssm:SendCommand');
    // A failure that is not a denial keeps its code and quotes Automation's message.
    const other = judgeSsmRegion(
      ssm({ association: { ...association, failure: { executionId: 'e-2', message: 'Step timed out' } } }),
    );
    expect(other.reasons[0]?.code).toBe('association-failed');
    expect(other.reasons[0]?.text).toContain(': Step timed out (execution e-2).');
  });

  it.each([
    [
      'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ssm:SendCommand on resource: arn:aws:ssm:us-east-1::document/AWS-ConfigureAWSPackage with an explicit deny in a service control policy',
      {
        action: 'ssm:SendCommand',
        resource: 'arn:aws:ssm:us-east-1::document/AWS-ConfigureAWSPackage',
        reason: 'with an explicit deny in a service control policy',
      },
    ],
    [
      'An error occurred (AccessDeniedException): User: r is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf because no identity-based policy allows the secretsmanager:GetSecretValue action.',
      {
        action: 'secretsmanager:GetSecretValue',
        resource: 'arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf',
        reason: 'no identity-based policy allows the secretsmanager:GetSecretValue action',
      },
    ],
    [
      'User: r is not authorized to perform: ssm:StartAutomationExecution',
      { action: 'ssm:StartAutomationExecution', reason: 'access denied' },
    ],
    ['The defined assume role is unable to be assumed.', undefined],
  ])('reads the IAM denial in %s', (message, denial) => {
    expect(accessDenialIn(message)).toEqual(denial);
  });

  it('a missing or failed association is a cell reason', () => {
    expect(judgeSsmRegion(ssm({ association: undefined })).reasons[0]?.code).toBe('no-association');
    const failed = judgeSsmRegion(
      ssm({ association: { associationId: 'a', lastExecutionStatus: 'TimedOut' } }),
    );
    expect(failed.reasons[0]?.code).toBe('association-failed');
    expect(failed.reasons[0]?.text).toContain('TimedOut');
  });
});

describe('ECR judgement', () => {
  const url = `https://${A}.dkr.ecr.eu-west-1.amazonaws.com`;
  const judge = (state: string | undefined) =>
    judgeEcrRegion({
      accountId: A,
      region: 'eu-west-1',
      connections: indexConnections([
        { id: 'c1', url: `${url}/`, ...(state !== undefined ? { state } : {}) },
      ]),
      ownership: undefined,
      deploymentId: 'falcon-org',
    });

  it('matches the URL however it is written and judges the state', () => {
    expect(judge('pending').state).toBe('protected');
    expect(judge(undefined).state).toBe('protected');
    for (const broken of ['paused', 'disabled', 'credential_error', 'Failed'])
      expect(judge(broken).state).toBe('unprotected');
  });

  it('an unreadable ownership record leaves ownership unknown, not false', () => {
    const cell = judgeEcrRegion({
      accountId: A,
      region: 'eu-west-1',
      connections: indexConnections([{ id: 'c1', url, state: 'enabled' }]),
      ownership: { unreadable: 'AccessDenied' },
      deploymentId: 'falcon-org',
    });
    expect(cell.items[0]?.facts.ownedByThisDeployment).toBe('unknown');
  });
});

describe('EKS judgement', () => {
  const result = (outcome: RunResult['outcome'], components: RunResult['components']): RunResult => ({
    runId: 'r1',
    accountId: A,
    region: 'eu-west-1',
    cluster: 'c',
    mode: 'install',
    outcome,
    components,
    startedAt: '2026-11-29T10:00:00Z',
    finishedAt: '2026-11-29T10:05:00Z',
    durationsMs: {},
  });
  const item = (over: Partial<RunsTableItem>): RunsTableItem => ({
    accountId: A,
    region: 'eu-west-1',
    cluster: 'c',
    ...over,
  });
  const judge = (over: Partial<EksRegionFacts>) =>
    judgeEksRegion({
      accountId: A,
      region: 'eu-west-1',
      clusters: ['c'],
      instances: [],
      runs: [],
      hosts: [],
      nowSeconds: NOW,
      hostStaleAfterHours: 24,
      ...over,
    });
  const code = (over: Partial<EksRegionFacts>) => judge(over).items[0]?.reasons[0]?.code;
  const nodes = [{ name: 'FalconNodeSensor', status: 'applied' as const }];
  const node = [{ instanceId: 'i-node', eksCluster: 'c' }];

  it('reads the verdict, the last run and the nodes', () => {
    expect(code({ runs: undefined })).toBe('not-deployed');
    expect(code({ runs: [] })).toBe('not-deployed');
    expect(code({ runs: [item({ lockRunId: 'r2', lockExpiresAt: NOW + 1000 })] })).toBe('run-in-progress');
    expect(code({ runs: [item({ lockRunId: 'r2', lockExpiresAt: NOW - 1000 })] })).toBe('not-deployed');
    expect(code({ runs: [item({ lastRun: result('failed', nodes) })] })).toBe('run-failed');
    expect(code({ runs: [item({ lastRun: result('not-reachable', nodes) })] })).toBe('run-failed');
    expect(code({ runs: [item({ lastRun: result('uninstalled', []) })] })).toBe('not-deployed');
    expect(code({ runs: [item({ lastRun: result('protected', nodes) })], instances: node })).toBe(
      'nodes-not-reporting',
    );
    expect(
      code({
        runs: [item({ lastRun: result('upgraded', nodes) })],
        instances: node,
        hosts: [{ deviceId: 'd', instanceId: 'i-node' }],
      }),
    ).toBe('nodes-reporting');
    expect(
      code({
        runs: [item({ lastRun: result('protected', [{ name: 'FalconContainer', status: 'applied' }]) })],
      }),
    ).toBe('deployed');
    expect(
      code({ runs: [item({ lastRun: result('protected', nodes) })], hosts: { unreadable: 'down' } }),
    ).toBe('falcon-unreadable');
  });

  it('a node is tied to its cluster by instance ID: a host of another instance does not count', () => {
    const runs = [item({ lastRun: result('protected', nodes) })];
    // Hosts are read per account (all regions); an instance ID names one instance of that account.
    expect(code({ runs, instances: node, hosts: [{ deviceId: 'd', instanceId: 'i-other' }] })).toBe(
      'nodes-not-reporting',
    );
    const other = [...node, { instanceId: 'i-other', eksCluster: 'another-cluster' }];
    expect(
      code({ runs, instances: other, hosts: [{ deviceId: 'd', instanceId: 'i-other', k8sClusterId: 'x' }] }),
    ).toBe('nodes-not-reporting');
  });
});

describe('EKS judgement: stale node hosts', () => {
  const run: RunResult = {
    runId: 'r1',
    accountId: A,
    region: 'eu-west-1',
    cluster: 'c',
    mode: 'install',
    outcome: 'protected',
    components: [{ name: 'FalconNodeSensor', status: 'applied' }],
    startedAt: '2026-11-29T10:00:00Z',
    finishedAt: '2026-11-29T10:05:00Z',
    durationsMs: {},
  };
  const judge = (hosts: EksRegionFacts['hosts'], hostStaleAfterHours = 24) =>
    judgeEksRegion({
      accountId: A,
      region: 'eu-west-1',
      clusters: ['c'],
      instances: [{ instanceId: 'i-node', eksCluster: 'c' }],
      runs: [{ accountId: A, region: 'eu-west-1', cluster: 'c', lastRun: run }],
      hosts,
      nowSeconds: NOW,
      hostStaleAfterHours,
    });

  it('nodes Falcon last saw longer ago than hostStaleAfterHours do not count as reporting', () => {
    const stale = judge([
      { deviceId: 'd1', instanceId: 'i-node', lastSeen: '2026-11-27T12:00:00Z' },
      { deviceId: 'd2', instanceId: 'i-node', lastSeen: '2026-11-28T10:00:00Z' },
    ]);
    expect(stale.state).toBe('unprotected');
    expect(stale.items[0]?.reasons[0]?.code).toBe('sensor-stale');
    expect(stale.items[0]?.reasons[0]?.text).toContain(
      'sensor not seen for 26 hours (last seen 2026-11-28T10:00:00Z)',
    );
    expect(
      judge([{ deviceId: 'd1', instanceId: 'i-node', lastSeen: '2026-11-27T12:00:00Z' }], 72).state,
    ).toBe('protected');
    // A reinstalled sensor leaves its old host behind: one current host of the instance is enough.
    const mixed = judge([
      { deviceId: 'd1', instanceId: 'i-node', lastSeen: '2026-11-27T12:00:00Z' },
      { deviceId: 'd2', instanceId: 'i-node', lastSeen: '2026-11-29T11:59:00Z' },
    ]);
    expect(mixed.state).toBe('protected');
    expect(mixed.items[0]?.facts.nodesReporting).toBe(1);
  });
});

describe('EKS node tags', () => {
  it('reads the cluster from the tags EKS and node tooling set', () => {
    expect(clusterOf([{ Key: 'eks:cluster-name', Value: 'prod' }])).toBe('prod');
    expect(clusterOf([{ Key: 'kubernetes.io/cluster/dev', Value: 'owned' }])).toBe('dev');
    // Karpenter v1 and EKS Auto Mode nodes.
    expect(clusterOf([{ Key: 'eks:eks-cluster-name', Value: 'auto' }])).toBe('auto');
    expect(clusterOf([{ Key: 'kubernetes.io/cluster/dev', Value: 'something' }])).toBeUndefined();
    expect(clusterOf([{ Key: 'Name', Value: 'web' }])).toBeUndefined();
  });
});
