import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDeployer } from '../../src/cluster/run.js';
import { DeployerHarness, settingsFor } from './harness.js';

const kinds = (h: DeployerHarness) =>
  h
    .customResources()
    .map((c) => String(c['kind']))
    .sort();

describe('deployer lifecycle', () => {
  let h: DeployerHarness;
  beforeEach(async () => {
    h = await DeployerHarness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  it('a second run on a protected cluster writes nothing and reports already-protected', async () => {
    expect((await h.run('nodes')).outcome).toBe('protected');
    const writesBefore = h.standIn.writes().length;
    const requestsBefore = h.standIn.requests.length;

    const again = await h.run('nodes');

    expect(again.outcome, again.reason).toBe('already-protected');
    expect(h.standIn.writes().length).toBe(writesBefore);
    // Everything is applied again (that is what repairs drift); no apply changed anything.
    const patches = h.standIn.requests.slice(requestsBefore).filter((r) => r.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(0);
    expect(patches.every((r) => r.status === 200 && r.wrote === undefined)).toBe(true);
    expect(again.components.map((c) => c.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(h.released.map((r) => r.outcome)).toEqual(['protected', 'already-protected']);
  });

  it('an upgrade to a newer pinned version applies only what changed', async () => {
    await h.run('nodes');
    const before = h.standIn.writes().length;

    const upgrade = await h.run('nodes', settingsFor('v1.1.0'));

    expect(upgrade.outcome, upgrade.reason).toBe('upgraded');
    const patched = h.standIn.writes().slice(before);
    // Only the two objects whose content differs between the releases are written.
    expect(patched.map((r) => r.path.split('/').slice(-2).join('/'))).toEqual([
      'customresourcedefinitions/falconnodesensors.falcon.crowdstrike.com',
      'deployments/falcon-operator-controller-manager',
    ]);
    expect(patched.map((r) => r.status).every((s) => s === 200)).toBe(true);
    const deployment = h.standIn.object(
      '/apis/apps/v1/namespaces/falcon-operator/deployments/falcon-operator-controller-manager',
    )!;
    expect(JSON.stringify(deployment)).toContain('falcon-operator:1.1.0');
    const crd = h.standIn.object(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/falconnodesensors.falcon.crowdstrike.com',
    )!;
    expect(JSON.stringify(crd['spec'])).toContain('subresources');
    expect(upgrade.components[0]).toEqual({ name: 'operator', version: 'v1.1.0', status: 'applied' });

    // And the upgraded cluster is then stable.
    expect((await h.run('nodes', settingsFor('v1.1.0'))).outcome).toBe('already-protected');
  });

  it('chooses custom resources by compute mode', async () => {
    await h.run(
      'fargate',
      settingsFor('v1.0.0', { admission: { enabled: false, failurePolicy: 'Fail', replicas: 1 } }),
    );
    expect(kinds(h)).toEqual(['FalconContainer']);
    const container = h.customResources()[0];
    expect((container['spec'] as Record<string, unknown>)['injector']).toEqual({
      disableDefaultNamespaceInjection: false,
      disableDefaultPodInjection: false,
    });
  });

  it('mixed clusters get the node sensor and opt-in sidecar injection; admission settings flow through', async () => {
    const result = await h.run(
      'mixed',
      settingsFor('v1.0.0', { admission: { enabled: true, failurePolicy: 'Fail', replicas: 3 } }),
    );
    expect(result.outcome, result.reason).toBe('protected');
    expect(kinds(h)).toEqual(['FalconAdmission', 'FalconContainer', 'FalconNodeSensor']);
    const container = h.customResources().find((c) => c['kind'] === 'FalconContainer')!;
    expect(
      (container['spec'] as Record<string, Record<string, unknown>>)['injector'][
        'disableDefaultNamespaceInjection'
      ],
    ).toBe(true);
    const kac = h.customResources().find((c) => c['kind'] === 'FalconAdmission')!;
    expect((kac['spec'] as Record<string, unknown>)['admissionConfig']).toEqual({
      failurePolicy: 'Fail',
      replicas: 3,
    });
    // verified: the injector Deployment and the KAC Deployment exist and are Available
    expect(
      h.standIn.object('/apis/apps/v1/namespaces/falcon-system/deployments/falcon-sidecar-injector'),
    ).toBeDefined();
  });

  it('turning admission off removes the FalconAdmission resource on the next run', async () => {
    await h.run('nodes');
    const result = await h.run(
      'nodes',
      settingsFor('v1.0.0', { admission: { enabled: false, failurePolicy: 'Ignore', replicas: 2 } }),
    );
    expect(result.outcome, result.reason).toBe('protected');
    expect(result.components).toContainEqual({ name: 'FalconAdmission', status: 'removed' });
    await h.clock.sleep(5000);
    expect(kinds(h)).toEqual(['FalconNodeSensor']);
  });

  it('uninstall removes the custom resources, waits for the operator to clean up, then removes the operator', async () => {
    await h.run('mixed');
    const before = h.standIn.requests.length;

    const result = await h.run('mixed', settingsFor(), 'uninstall');

    expect(result.outcome, result.reason).toBe('uninstalled');
    const deletes = h.standIn.requests.slice(before).filter((r) => r.method === 'DELETE' && r.status < 300);
    const names = deletes.map((r) => r.path.split('/').slice(-2).join('/'));
    expect(names.slice(0, 3)).toEqual([
      'falconnodesensors/falcon-node-sensor',
      'falconcontainers/falcon-container-sensor',
      'falconadmissions/falcon-kac',
    ]);
    // The operator Deployment is deleted only after the operator finished removing every CR (3 s).
    const operatorDelete = deletes.find((r) =>
      r.path.endsWith('/deployments/falcon-operator-controller-manager'),
    )!;
    expect(operatorDelete.at - deletes[2].at).toBeGreaterThanOrEqual(3000);
    expect(names.indexOf('deployments/falcon-operator-controller-manager')).toBeLessThan(
      names.indexOf('customresourcedefinitions/falconnodesensors.falcon.crowdstrike.com'),
    );
    expect(names.at(-1)).toBe('namespaces/falcon-operator');
    // Nothing Falcon is left: no sensors, no operator, no CRDs.
    expect(
      h.standIn
        .objects()
        .map((o) => (o['metadata'] as { name: string }).name)
        .sort(),
    ).toEqual(['default', 'kube-system']);
    expect(result.components).toEqual([
      { name: 'FalconNodeSensor', status: 'removed' },
      { name: 'FalconContainer', status: 'removed' },
      { name: 'FalconAdmission', status: 'removed' },
      { name: 'operator', status: 'removed' },
    ]);
    expect(h.accessEntries.size).toBe(0);
  });

  it('uninstall of a cluster that no longer exists reports uninstalled with the reason', async () => {
    h.cluster.statuses = ['GONE'];
    const result = await h.run('nodes', settingsFor(), 'uninstall');
    expect(result.outcome).toBe('uninstalled');
    expect(result.reason).toMatch(/does not exist/);
  });

  it('install after uninstall protects the cluster again', async () => {
    await h.run('nodes');
    await h.run('nodes', settingsFor(), 'uninstall');
    const again = await h.run('nodes');
    expect(again.outcome, again.reason).toBe('protected');
    expect(kinds(h)).toEqual(['FalconAdmission', 'FalconNodeSensor']);
  });

  it('after rotated Falcon credentials only the Secret is written again', async () => {
    await h.run('nodes');
    const before = h.standIn.writes().length;
    const result = await runDeployer(h.request('nodes', 'install', 'rotate'), settingsFor(), {
      ...h.deps(),
      credentials: () => Promise.resolve({ clientId: 'falcon-client-id', clientSecret: 'rotated-secret' }),
    });
    expect(result.outcome, result.reason).toBe('protected');
    const patched = h.standIn.writes().slice(before);
    expect(patched.map((r) => r.path)).toEqual([
      '/api/v1/namespaces/falcon-operator/secrets/falcon-org-api-credentials',
    ]);
    const secret = h.standIn.object('/api/v1/namespaces/falcon-operator/secrets/falcon-org-api-credentials')!;
    expect((secret['data'] as Record<string, string>)['falcon-client-secret']).toBe(
      Buffer.from('rotated-secret').toString('base64'),
    );
  });

  it('a run that crashed halfway (operator applied, entry left behind) is finished by the next run', async () => {
    // The crashed run: operator objects applied, nothing after; its tagged access entry left behind.
    h.standIn.options.deploymentAvailableAfterMs = 'never';
    expect((await h.run('nodes')).outcome).toBe('failed');
    h.accessEntries.set('arn:aws:iam::111122223333:role/falcon-org-eks-execution', {
      username: 'falcon-org-eks-deployer',
    });
    h.standIn.options.deploymentAvailableAfterMs = 5000;
    const before = h.standIn.writes().length;

    const next = await h.run('nodes');

    expect(next.outcome, next.reason).toBe('protected');
    const patched = h.standIn.writes().slice(before);
    // Operator objects already in place are not written again; the rest is.
    expect(patched.map((r) => r.path.split('/').slice(-2).join('/'))).toEqual([
      'secrets/falcon-org-api-credentials',
      'falconnodesensors/falcon-node-sensor',
      'falconadmissions/falcon-kac',
    ]);
    expect(h.accessEntries.size).toBe(0);
  });
});
