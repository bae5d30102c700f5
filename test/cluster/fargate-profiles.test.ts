import { afterEach, describe, expect, it } from 'vitest';
import { DeployerHarness, settingsFor } from './harness.js';

const withAdmission = (enabled: boolean) =>
  settingsFor('v1.0.0', { admission: { enabled, failurePolicy: 'Ignore', replicas: 1 } });

describe('Fargate-only clusters: the Falcon namespaces need a Fargate profile', () => {
  let h: DeployerHarness;
  afterEach(async () => {
    await h.close();
  });

  it('without a profile for them the run fails at once naming the namespaces and the fix, applying nothing', async () => {
    h = await DeployerHarness.start();
    h.cluster.publicAccessCidrs = ['198.51.100.0/24'];
    h.fargateProfiles = [
      { fargateProfileName: 'default', status: 'ACTIVE', selectors: [{ namespace: 'default' }] },
      // A selector with pod labels does not select the operator's pods.
      {
        fargateProfileName: 'labelled',
        status: 'ACTIVE',
        selectors: [{ namespace: 'falcon-operator', labels: { team: 'x' } }],
      },
      // A profile being deleted does not count.
      { fargateProfileName: 'old', status: 'DELETING', selectors: [{ namespace: 'falcon-*' }] },
    ];
    const start = h.clock.now();
    const result = await h.run('fargate', { ...withAdmission(true), allowListEgress: true });
    expect(result.outcome).toBe('failed');
    expect(result.reason).toContain(
      'no Fargate profile of cluster prod selects namespace(s) falcon-operator, falcon-system, falcon-kac',
    );
    expect(result.reason).toContain(
      'Create a Fargate profile selecting namespaces falcon-operator, falcon-system, falcon-kac',
    );
    expect(result.reason).toContain('nothing was applied');
    // Nothing changed: no Kubernetes write, no access entry, no allow-list change, no waiting.
    expect(h.standIn.writes()).toEqual([]);
    expect(h.accessEntries.size).toBe(0);
    expect(h.cidrUpdates).toEqual([]);
    expect(h.clock.now() - start).toBeLessThan(60_000);
    expect(h.released[0]?.outcome).toBe('failed');
  });

  it('names only the namespaces missing, and falcon-kac only when admission is on', async () => {
    h = await DeployerHarness.start();
    h.fargateProfiles = [
      { fargateProfileName: 'apps', status: 'ACTIVE', selectors: [{ namespace: 'falcon-operator' }] },
    ];
    const result = await h.run('fargate', withAdmission(false));
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/selects namespace\(s\) falcon-system, so/);
    expect(result.reason).not.toContain('falcon-kac');
    expect(h.standIn.writes()).toEqual([]);
  });

  it('profiles on later pages and wildcard selectors count; the run then protects the cluster', async () => {
    h = await DeployerHarness.start();
    h.fargateProfiles = [
      { fargateProfileName: 'apps', status: 'ACTIVE', selectors: [{ namespace: 'default' }] },
      { fargateProfileName: 'op', status: 'ACTIVE', selectors: [{ namespace: 'falcon-operator' }] },
      {
        fargateProfileName: 'rest',
        status: 'CREATING',
        selectors: [{ namespace: 'falcon-??????' }, { namespace: 'falcon-k*' }],
      },
    ];
    const result = await h.run('fargate', withAdmission(true));
    expect(result.outcome, result.reason).toBe('protected');
  });

  it('after the missing profile is created, the next run protects the cluster', async () => {
    h = await DeployerHarness.start();
    h.fargateProfiles = [];
    expect((await h.run('fargate', withAdmission(false))).outcome).toBe('failed');
    h.fargateProfiles = [
      {
        fargateProfileName: 'falcon',
        status: 'ACTIVE',
        selectors: [{ namespace: 'falcon-operator' }, { namespace: 'falcon-system' }],
      },
    ];
    const result = await h.run('fargate', withAdmission(false));
    expect(result.outcome, result.reason).toBe('protected');
  });

  it('mixed and node clusters are not held to Fargate profiles', async () => {
    h = await DeployerHarness.start();
    h.fargateProfiles = [];
    expect((await h.run('nodes', withAdmission(false))).outcome).toBe('protected');
  });
});
