import { describe, expect, it } from 'vitest';
import { judgeEksRegion, NODE_REPORT_GRACE_MINUTES, type EksRegionFacts } from '../../src/coverage/eks.js';
import { eksNodeRepairs } from '../../src/coverage/eks-repair.js';
import type { CoverageCell, Ec2Instance, FalconHost } from '../../src/coverage/model.js';
import type { RunComponent, RunResult } from '../../src/eks/run-contract.js';

const A = '111111111111';
const REGION = 'eu-west-1';
const NOW_MS = Date.parse('2026-11-29T12:00:00Z');
const NOW = NOW_MS / 1000;
const NODE_SENSOR: RunComponent = { name: 'FalconNodeSensor', status: 'applied' };
const SIDECAR: RunComponent = { name: 'FalconContainer', status: 'applied' };

function run(components: RunComponent[], over: Partial<RunResult> = {}): RunResult {
  return {
    runId: 'run-1',
    accountId: A,
    region: REGION,
    cluster: 'c',
    mode: 'install',
    outcome: 'protected',
    components,
    startedAt: '2026-11-29T10:00:00Z',
    finishedAt: '2026-11-29T10:05:00Z',
    durationsMs: {},
    ...over,
  };
}

const node = (n: number, over: Partial<Ec2Instance> = {}): Ec2Instance => ({
  instanceId: `i-0c00000000000000${n}`,
  eksCluster: 'c',
  launchedAt: '2026-11-28T08:00:00Z',
  ...over,
});
const host = (n: number, over: Partial<FalconHost> = {}): FalconHost => ({
  deviceId: `d${n}`,
  instanceId: `i-0c00000000000000${n}`,
  lastSeen: '2026-11-29T11:58:00Z',
  k8sClusterId: 'falcon-cluster-c',
  ...over,
});

function judge(
  instances: Ec2Instance[],
  hosts: FalconHost[],
  lastRun: RunResult = run([NODE_SENSOR]),
): CoverageCell {
  const facts: EksRegionFacts = {
    accountId: A,
    region: REGION,
    clusters: ['c'],
    instances,
    runs: [{ accountId: A, region: REGION, cluster: 'c', lastRun }],
    hosts,
    nowSeconds: NOW,
    hostStaleAfterHours: 24,
  };
  return judgeEksRegion(facts);
}

describe('EKS cell: each EC2 node of a cluster is judged by Falcon', () => {
  it('some nodes report, others do not: the cluster and the cell are partial, naming the silent nodes', () => {
    const cell = judge([node(1), node(2), node(3)], [host(1), host(2)]);
    expect(cell.state).toBe('partial');
    expect(cell.counts).toMatchObject({ total: 1, partial: 1, protected: 0, unprotected: 0 });
    const item = cell.items[0];
    expect(item?.state).toBe('partial');
    expect(item?.reasons[0]?.code).toBe('nodes-partly-reporting');
    expect(item?.reasons[0]?.text).toContain(
      '2 of 3 EC2 nodes report to Falcon; not reporting: i-0c000000000000003',
    );
    expect(item?.facts).toMatchObject({
      ec2Nodes: 3,
      nodesReporting: 2,
      nodesNotReporting: 1,
      falconClusterId: 'falcon-cluster-c',
    });
    expect(cell.reasons[0]?.text).toBe(
      '1 cluster: 2 of 3 EC2 nodes report to Falcon; not reporting: i-0c000000000000003',
    );
  });

  it('a node Falcon saw too long ago does not report; when no node reports the cluster is unprotected', () => {
    const partly = judge([node(1), node(2)], [host(1), host(2, { lastSeen: '2026-11-27T12:00:00Z' })]);
    expect(partly.items[0]?.reasons[0]?.text).toContain(
      'not reporting: i-0c000000000000002 (1 known to Falcon, the latest sensor not seen for 48 hours',
    );
    const none = judge([node(1), node(2)], []);
    expect(none.state).toBe('unprotected');
    expect(none.items[0]?.reasons[0]?.code).toBe('nodes-not-reporting');
    expect(none.items[0]?.reasons[0]?.text).toContain('i-0c000000000000001, i-0c000000000000002');
    const allStale = judge([node(1)], [host(1, { lastSeen: '2026-11-27T12:00:00Z' })]);
    expect(allStale.items[0]?.reasons[0]?.code).toBe('sensor-stale');
    expect(judge([node(1), node(2)], [host(1), host(2)]).state).toBe('protected');
  });

  it('a node launched within the grace period and not seen yet is not judged', () => {
    const fresh = new Date(NOW_MS - (NODE_REPORT_GRACE_MINUTES - 5) * 60_000).toISOString();
    const withNew = judge([node(1), node(2, { launchedAt: fresh })], [host(1)]);
    expect(withNew.state).toBe('protected');
    expect(withNew.items[0]?.facts).toMatchObject({ ec2Nodes: 2, nodesReporting: 1, nodesStarting: 1 });
    const onlyNew = judge([node(2, { launchedAt: fresh })], []);
    expect(onlyNew.items[0]).toMatchObject({ state: 'unknown', reasons: [{ code: 'nodes-starting' }] });
    // Past the grace period the same node counts as not reporting.
    const old = new Date(NOW_MS - (NODE_REPORT_GRACE_MINUTES + 5) * 60_000).toISOString();
    expect(judge([node(1), node(2, { launchedAt: old })], [host(1)]).state).toBe('partial');
  });

  it('many silent nodes are named up to ten, the rest counted', () => {
    const nodes = Array.from({ length: 14 }, (_, i) =>
      node(0, { instanceId: `i-0d${String(i).padStart(15, '0')}` }),
    );
    const text = judge([node(1), ...nodes], [host(1)]).items[0]?.reasons[0]?.text ?? '';
    expect(text).toContain('1 of 15 EC2 nodes report');
    expect(text).toContain('i-0d000000000000009 and 4 more');
    expect(text).not.toContain('i-0d000000000000010');
  });

  it('no running EC2 node: nothing for Falcon to see (not applicable), not "not reporting"', () => {
    const cell = judge([{ instanceId: 'i-0e000000000000001', eksCluster: 'other' }], [host(1)]);
    expect(cell.state).toBe('not-applicable');
    expect(cell.items[0]?.reasons[0]?.code).toBe('no-nodes');
  });
});

describe('EKS cell: Fargate namespaces of a mixed cluster without the injection label', () => {
  const mixed = (uninjected?: string[]) =>
    run(
      [NODE_SENSOR, SIDECAR],
      uninjected !== undefined ? { fargateNamespacesWithoutInjection: uninjected } : {},
    );

  it('every node reports but Fargate namespaces get no sidecar: partial, and the namespaces are named', () => {
    const cell = judge([node(1)], [host(1)], mixed(['payments', 'web']));
    expect(cell.state).toBe('partial');
    const item = cell.items[0];
    expect(item?.state).toBe('partial');
    expect(item?.reasons.map((r) => r.code)).toEqual(['fargate-not-injected', 'nodes-reporting']);
    expect(item?.reasons[0]?.text).toContain('payments, web');
    expect(item?.reasons[0]?.text).toContain(
      'kubectl label namespace <name> sensor.falcon-system.crowdstrike.com/injection=enabled',
    );
    expect(item?.facts.fargateNamespacesWithoutInjection).toBe(2);
  });

  it('every namespace labelled: protected; no EC2 node at all: judged by the Fargate part alone', () => {
    expect(judge([node(1)], [host(1)], mixed([])).state).toBe('protected');
    expect(judge([node(1)], [host(1)], mixed([])).items[0]?.facts.fargateNamespacesWithoutInjection).toBe(0);
    expect(judge([], [], mixed([])).items[0]).toMatchObject({
      state: 'protected',
      reasons: [{ code: 'deployed' }],
    });
    expect(judge([], [], mixed(['batch'])).items[0]).toMatchObject({
      state: 'partial',
      reasons: [{ code: 'fargate-not-injected' }],
    });
  });

  it('silent nodes and unlabelled namespaces: both reasons, the nodes first', () => {
    const cell = judge([node(1), node(2)], [host(1)], mixed(['web']));
    expect(cell.items[0]?.reasons.map((r) => r.code)).toEqual([
      'nodes-partly-reporting',
      'fargate-not-injected',
    ]);
  });
});

describe('what the next sweep reads from the report', () => {
  it('lists clusters whose nodes do not or only partly report, with account, region and name', () => {
    const cells = [
      judge([node(1), node(2)], [host(1)]),
      { ...judge([node(1)], [host(1, { lastSeen: '2026-11-20T00:00:00Z' })]), region: 'us-east-1' },
      judge([node(1)], []),
      // Nothing a rebuild fixes: every node reports, only a namespace lacks its label.
      judge(
        [node(1)],
        [host(1)],
        run([NODE_SENSOR, SIDECAR], { fargateNamespacesWithoutInjection: ['web'] }),
      ),
      judge([node(1)], [host(1)], run([NODE_SENSOR], { outcome: 'failed', reason: 'boom' })),
    ];
    const repairs = eksNodeRepairs({ cells });
    expect(repairs.map((r) => [r.region, r.cluster, r.reporting, r.nodes, r.nodesReporting])).toEqual([
      [REGION, 'c', 'nodes-partly-reporting', 2, 1],
      ['us-east-1', 'c', 'nodes-not-reporting', 1, 0],
      [REGION, 'c', 'nodes-not-reporting', 1, 0],
    ]);
    expect(repairs[0]?.accountId).toBe(A);
    expect(repairs[0]?.reason).toContain('not reporting: i-0c000000000000002');
  });

  it('reads a stored report (JSON round trip) the same way', () => {
    const cells = [judge([node(1), node(2)], [host(1)])];
    const stored = JSON.parse(JSON.stringify({ cells })) as { cells: CoverageCell[] };
    expect(eksNodeRepairs(stored)).toEqual(eksNodeRepairs({ cells }));
    expect(eksNodeRepairs(stored)).toHaveLength(1);
  });
});
