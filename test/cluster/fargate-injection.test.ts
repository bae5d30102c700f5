import { ListFargateProfilesCommand } from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { judgeEksRegion } from '../../src/coverage/eks.js';
import { DeployerHarness } from './harness.js';

const LABEL = 'sensor.falcon-system.crowdstrike.com/injection';

function addNamespace(h: DeployerHarness, name: string, labels: Record<string, string> = {}): void {
  h.standIn.putInternal(`/api/v1/namespaces/${name}`, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels },
  });
}

describe('mixed clusters: the run records the Fargate namespaces without the injection label', () => {
  let h: DeployerHarness;
  afterEach(async () => {
    await h.close();
  });

  it('names the namespaces a Fargate profile selects that lack the label; coverage then names them', async () => {
    // Prepare
    h = await DeployerHarness.start();
    h.fargateProfiles = [
      {
        fargateProfileName: 'apps',
        status: 'ACTIVE',
        selectors: [
          { namespace: 'payments' },
          { namespace: 'web-*' },
          // Pod labels still put some of the namespace's pods on Fargate.
          { namespace: 'batch', labels: { compute: 'fargate' } },
          // CoreDNS on Fargate: the control plane's namespace is not the injector's business.
          { namespace: 'kube-system' },
        ],
      },
      { fargateProfileName: 'going', status: 'DELETING', selectors: [{ namespace: 'legacy' }] },
    ];
    addNamespace(h, 'payments');
    addNamespace(h, 'web-a', { [LABEL]: 'enabled' });
    addNamespace(h, 'web-b', { [LABEL]: 'disabled' });
    addNamespace(h, 'batch');
    addNamespace(h, 'legacy');
    addNamespace(h, 'on-nodes-only');

    // Act
    const result = await h.run('mixed');

    // Assess
    expect(result.outcome, result.reason).toBe('protected');
    expect(result.fargateNamespacesWithoutInjection).toEqual(['batch', 'payments', 'web-b']);
    expect(h.released[0]?.fargateNamespacesWithoutInjection).toEqual(['batch', 'payments', 'web-b']);
    // What coverage makes of the recorded result: every node reports, the cluster is still partial.
    const cell = judgeEksRegion({
      accountId: '111122223333',
      region: 'eu-west-1',
      clusters: ['prod'],
      instances: [{ instanceId: 'i-0f0000000000000a1', eksCluster: 'prod' }],
      runs: [{ accountId: '111122223333', region: 'eu-west-1', cluster: 'prod', lastRun: result }],
      hosts: [{ deviceId: 'd1', instanceId: 'i-0f0000000000000a1' }],
      nowSeconds: h.clock.now() / 1000,
      hostStaleAfterHours: 24,
    });
    expect(cell.state).toBe('partial');
    expect(cell.items[0]?.reasons[0]?.text).toContain('batch, payments, web-b');
  });

  it('labelling a namespace takes it off the list at the next run; other compute modes record nothing', async () => {
    h = await DeployerHarness.start();
    h.fargateProfiles = [
      { fargateProfileName: 'apps', status: 'ACTIVE', selectors: [{ namespace: 'web-*' }] },
    ];
    addNamespace(h, 'web-a');
    addNamespace(h, 'web-b');
    expect((await h.run('mixed')).fargateNamespacesWithoutInjection).toEqual(['web-a', 'web-b']);
    addNamespace(h, 'web-a', { [LABEL]: 'enabled' });
    const again = await h.run('mixed');
    expect(again.outcome).toBe('already-protected');
    expect(again.fargateNamespacesWithoutInjection).toEqual(['web-b']);
    const nodes = await h.run('nodes');
    expect(nodes.fargateNamespacesWithoutInjection).toBeUndefined();
  });

  it('reads every page of namespaces', async () => {
    h = await DeployerHarness.start();
    h.fargateProfiles = [
      { fargateProfileName: 'apps', status: 'ACTIVE', selectors: [{ namespace: 'team-*' }] },
    ];
    const names = Array.from({ length: 620 }, (_, i) => `team-${String(i).padStart(3, '0')}`);
    for (const name of names) addNamespace(h, name);
    const result = await h.run('mixed');
    expect(result.fargateNamespacesWithoutInjection).toEqual(names);
    const lists = h.standIn.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces');
    expect(lists.map((r) => r.query['limit'])).toEqual(['500', '500']);
    expect(lists[1]?.query['continue']).toBeDefined();
  });

  it('a failed read is logged and leaves the field out; the run keeps its outcome', async () => {
    h = await DeployerHarness.start();
    h.eks
      .on(ListFargateProfilesCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const result = await h.run('mixed');
    expect(result.outcome, result.reason).toBe('protected');
    expect(result).not.toHaveProperty('fargateNamespacesWithoutInjection');
    expect(
      h.logs.some((l) => l.includes('"message":"fargate-injection-unread"') && l.includes('Rate exceeded')),
    ).toBe(true);
  });
});
