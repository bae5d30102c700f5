import { afterEach, describe, expect, it } from 'vitest';
import { DeployerHarness, settingsFor } from './harness.js';

const deadlines = settingsFor().deadlines;

describe('deployer failures', () => {
  let h: DeployerHarness;
  afterEach(async () => {
    await h.close();
  });

  it('a CRD that never becomes Established fails the run with the deadline and the last condition, before RBAC', async () => {
    h = await DeployerHarness.start({ crdEstablishedAfterMs: 'never' });
    const result = await h.run('nodes');
    expect(result.outcome).toBe('failed');
    expect(result.reason).toBe(
      'CRD falconnodesensors.falcon.crowdstrike.com to be Established: not done after 120 s (last seen: NamesAccepted=True (NoConflicts), Established=False (Installing))',
    );
    expect(h.standIn.writes().some((w) => /ClusterRole|Deployment/.test(w.wrote ?? ''))).toBe(false);
    expect(h.accessEntries.size).toBe(0);
    expect(h.released[0]?.outcome).toBe('failed');
  });

  it('an operator that never becomes Available fails the run and no custom resource is applied', async () => {
    h = await DeployerHarness.start({ deploymentAvailableAfterMs: 'never' });
    const result = await h.run('nodes');
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(
      /^Deployment falcon-operator\/falcon-operator-controller-manager to be Available: not done after 300 s \(last seen: Available=False \(MinimumReplicasUnavailable\)\)$/,
    );
    expect(h.customResources()).toEqual([]);
  });

  it('sensors that never get ready: the reason names the deadline and the pods seen', async () => {
    h = await DeployerHarness.start({ operator: { readyNodes: 2 } });
    const result = await h.run('nodes');
    expect(result.outcome).toBe('failed');
    expect(result.reason).toBe(
      'DaemonSet falcon-system/falcon-node-sensor to be ready: not done after 900 s (last seen: 2 of 3 pods ready, 3 updated)',
    );
  });

  it('a custom resource the operator fails: the reason carries its Failed condition', async () => {
    h = await DeployerHarness.start({ operator: { crFailure: 'FalconAdmission' } });
    const result = await h.run('nodes');
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/FalconAdmission falcon-kac to report Success: not done after 900 s/);
    expect(result.reason).toContain('Failed=True (InstallFailed: image pull failed: unauthorized)');
  });

  it('renews the token before it expires on a long run', async () => {
    h = await DeployerHarness.start({ deploymentAvailableAfterMs: 20 * 60_000 });
    const result = await h.run(
      'nodes',
      settingsFor('v1.0.0', { deadlines: { ...deadlines, operatorAvailableSeconds: 1800 } }),
    );
    expect(result.outcome, result.reason).toBe('protected');
    expect(h.standIn.tokensSeen.size).toBeGreaterThanOrEqual(3);
    expect(h.standIn.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('a token that expires mid-run (401) is renewed once and the request repeated', async () => {
    h = await DeployerHarness.start({ deploymentAvailableAfterMs: 20 * 60_000 });
    h.tokenRenewAfterMs = 24 * 3600_000; // no proactive renewal: the server's 15 minutes run out
    const result = await h.run(
      'nodes',
      settingsFor('v1.0.0', { deadlines: { ...deadlines, operatorAvailableSeconds: 1800 } }),
    );
    expect(result.outcome, result.reason).toBe('protected');
    const unauthorized = h.standIn.requests.filter((r) => r.status === 401);
    expect(unauthorized.length).toBe(1);
    const index = h.standIn.requests.findIndex((r) => r.status === 401);
    expect(h.standIn.requests[index + 1]?.path).toBe(unauthorized[0]?.path);
    expect(h.standIn.requests[index + 1]?.status).toBe(200);
  });

  it('a manifest checksum mismatch aborts before anything is applied or any access is granted', async () => {
    h = await DeployerHarness.start();
    const settings = settingsFor();
    const result = await h.run('nodes', {
      ...settings,
      operator: { ...settings.operator, manifestSha256: '0'.repeat(64) },
    });
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/SHA-256 is [0-9a-f]{64}, expected 0{64}; nothing was applied/);
    expect(h.standIn.requests).toEqual([]);
    expect(h.eks.calls()).toEqual([]);
  });

  it('waits through CREATING with backoff, and reports a cluster deleted while waiting', async () => {
    h = await DeployerHarness.start();
    h.cluster.statuses = ['CREATING', 'CREATING', 'CREATING', 'GONE'];
    const result = await h.run('nodes');
    expect(result.outcome).toBe('failed');
    expect(result.reason).toBe('cluster prod does not exist (deleted while waiting?)');
    expect(result.durationsMs['waitActive']).toBe(5000 + 7500 + 11250);
    expect(h.standIn.requests).toEqual([]);
  });

  it('a cluster that stays CREATING past the deadline fails with the last status', async () => {
    h = await DeployerHarness.start();
    h.cluster.statuses = ['CREATING'];
    const result = await h.run(
      'nodes',
      settingsFor('v1.0.0', { deadlines: { ...deadlines, clusterActiveSeconds: 120 } }),
    );
    expect(result.reason).toBe(
      'cluster prod to be ACTIVE: not done after 120 s (last seen: status CREATING)',
    );
  });

  it('a cluster that becomes ACTIVE after CREATING is protected', async () => {
    h = await DeployerHarness.start();
    h.cluster.statuses = ['CREATING', 'CREATING', 'ACTIVE'];
    expect((await h.run('fargate')).outcome).toBe('protected');
  });
});

describe('deployer endpoint reachability', () => {
  let h: DeployerHarness;
  afterEach(async () => {
    await h.close();
  });

  it('private-only clusters are reported not-reachable with the reason, untouched', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccess = false;
    const result = await h.run('nodes');
    expect(result.outcome).toBe('not-reachable');
    expect(result.reason).toMatch(/private endpoint only/);
    expect(h.accessEntries.size).toBe(0);
    expect(h.standIn.requests).toEqual([]);
    expect(h.released[0]?.outcome).toBe('not-reachable');
  });

  it('an allow-list that excludes the egress is not widened unless configured', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    const result = await h.run('nodes');
    expect(result.outcome).toBe('not-reachable');
    expect(result.reason).toMatch(
      /allow-list \(198\.51\.100\.0\/24\) excludes the deployer's egress 203\.0\.113\.10\/32/,
    );
    expect(h.cidrUpdates).toEqual([]);
  });

  it('an allow-list that already admits the egress needs no change', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccessCidrs = ['203.0.113.0/24'];
    expect((await h.run('nodes', settingsFor('v1.0.0', { allowListEgress: true }))).outcome).toBe(
      'protected',
    );
    expect(h.cidrUpdates).toEqual([]);
  });

  it('widens the allow-list for the run when configured and restores it afterwards', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    const result = await h.run('nodes', settingsFor('v1.0.0', { allowListEgress: true }));
    expect(result.outcome, result.reason).toBe('protected');
    expect(h.cidrUpdates).toEqual([['198.51.100.0/24', '203.0.113.10/32'], ['198.51.100.0/24']]);
    expect(h.cluster.publicAccessCidrs).toEqual(['198.51.100.0/24']);
  });

  it('restores the allow-list after a failed run too', async () => {
    h = await DeployerHarness.start({ crdEstablishedAfterMs: 'never' });
    h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    const result = await h.run('nodes', settingsFor('v1.0.0', { allowListEgress: true }));
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/Established/);
    expect(h.cluster.publicAccessCidrs).toEqual(['198.51.100.0/24']);
    expect(h.accessEntries.size).toBe(0);
  });

  it('a failed restore fails the run and says what the allow-list should be', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    h.cluster.failUpdatesAfter = 1;
    const result = await h.run('nodes', settingsFor('v1.0.0', { allowListEgress: true }));
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(
      /restoring the endpoint allow-list to 198\.51\.100\.0\/24 failed: .*simulated failure/,
    );
  });

  it('CONFIG_MAP-only clusters are reported with the fix', async () => {
    h = await DeployerHarness.start();
    h.cluster.authenticationMode = 'CONFIG_MAP';
    const result = await h.run('nodes');
    expect(result.outcome).toBe('not-reachable');
    expect(result.reason).toMatch(/API_AND_CONFIG_MAP/);
  });
});
