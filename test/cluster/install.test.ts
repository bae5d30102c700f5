import { AssociateAccessPolicyCommand } from '@aws-sdk/client-eks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_SECRET, DeployerHarness, settingsFor } from './harness.js';

describe('deployer install on a node-group cluster', () => {
  let h: DeployerHarness;
  beforeEach(async () => {
    h = await DeployerHarness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  it('applies namespace, CRDs (waits Established), RBAC, the operator (waits Available), then the Secret and CRs, and verifies', async () => {
    const result = await h.run('nodes');

    expect(result.outcome, result.reason).toBe('protected');
    const applies = h.standIn.requests.filter((r) => r.method === 'PATCH');
    // Every write is server-side apply with our field manager and force.
    for (const r of applies) {
      expect(r.contentType).toBe('application/apply-patch+yaml');
      expect(r.query).toEqual({ fieldManager: 'falcon-org', force: 'true' });
      expect(r.status).toBe(201);
    }
    const order = applies.map((r) => r.path.split('/').slice(-2).join('/'));
    expect(order).toEqual([
      'namespaces/falcon-operator',
      'customresourcedefinitions/falconnodesensors.falcon.crowdstrike.com',
      'customresourcedefinitions/falconcontainers.falcon.crowdstrike.com',
      'customresourcedefinitions/falconadmissions.falcon.crowdstrike.com',
      'clusterrolebindings/falcon-operator-manager-rolebinding',
      'serviceaccounts/falcon-operator-controller-manager',
      'clusterroles/falcon-operator-manager-role',
      'roles/falcon-operator-leader-election-role',
      'rolebindings/falcon-operator-leader-election-rolebinding',
      'deployments/falcon-operator-controller-manager',
      'secrets/falcon-org-api-credentials',
      'falconnodesensors/falcon-node-sensor',
      'falconadmissions/falcon-kac',
    ]);
    // RBAC only after every CRD reported Established (2 s after creation in the stand-in).
    const lastCrd = applies[3];
    const firstRbac = applies[4];
    expect(firstRbac.at - lastCrd.at).toBeGreaterThanOrEqual(2000);
    // The Secret only after the operator Deployment became Available (5 s).
    const deployment = applies[9];
    const secret = applies[10];
    expect(secret.at - deployment.at).toBeGreaterThanOrEqual(5000);

    // Credentials only in the Secret; CRs reference it and name the cloud explicitly.
    const crs = h.customResources();
    expect(crs.map((c) => c['kind']).sort()).toEqual(['FalconAdmission', 'FalconNodeSensor']);
    for (const cr of crs) {
      expect(JSON.stringify(cr)).not.toContain(CLIENT_SECRET);
      expect(JSON.stringify(cr)).not.toContain(Buffer.from(CLIENT_SECRET).toString('base64'));
      const spec = cr['spec'] as Record<string, Record<string, unknown>>;
      expect(spec['falconSecret']).toEqual({
        enabled: true,
        namespace: 'falcon-operator',
        secretName: 'falcon-org-api-credentials',
      });
      expect(spec['falcon_api']).toEqual({ cloud_region: 'us-gov-1' });
    }
    const sensor = crs.find((c) => c['kind'] === 'FalconNodeSensor')!;
    expect((sensor['spec'] as Record<string, unknown>)['node']).toEqual({ backend: 'bpf' });
    const kac = crs.find((c) => c['kind'] === 'FalconAdmission')!;
    expect((kac['spec'] as Record<string, unknown>)['admissionConfig']).toEqual({
      failurePolicy: 'Ignore',
      replicas: 2,
    });
    const stored = h.standIn.object('/api/v1/namespaces/falcon-operator/secrets/falcon-org-api-credentials')!;
    expect((stored['data'] as Record<string, string>)['falcon-client-secret']).toBe(
      Buffer.from(CLIENT_SECRET).toString('base64'),
    );
    // Nothing of the retired protection agent.
    expect(JSON.stringify(h.standIn.objects())).not.toMatch(/FalconProtection|falcon-kpa|kpa/i);

    // managedFields name our manager.
    const ns = h.standIn.object('/api/v1/namespaces/falcon-operator')!;
    expect(
      (ns['metadata'] as { managedFields: { manager: string }[] }).managedFields.map((m) => m.manager),
    ).toEqual(['falcon-org']);

    // Result: components, durations, written to the runs table; access entry removed afterwards.
    expect(result.components).toEqual([
      { name: 'operator', version: 'v1.0.0', status: 'applied' },
      { name: 'FalconNodeSensor', version: '7.20.0-1234', status: 'applied' },
      { name: 'FalconAdmission', version: '7.20.0-1234', status: 'applied' },
    ]);
    expect(Object.keys(result.durationsMs)).toEqual(
      expect.arrayContaining([
        'manifest',
        'waitActive',
        'accessEntry',
        'accessPropagation',
        'install',
        'cleanup',
      ]),
    );
    expect(h.released).toEqual([result]);
    expect(h.accessEntries.size).toBe(0);
    expect(h.logs.at(-1)).toContain('"message":"run-result"');
    expect(h.logs.join('\n')).not.toContain(CLIENT_SECRET);
  });

  it('retries while the new access entry propagates (403), then proceeds', async () => {
    h.cluster.accessPropagationMs = 45_000;
    const result = await h.run('nodes');
    expect(result.outcome, result.reason).toBe('protected');
    const denied = h.standIn.requests.filter((r) => r.status === 403);
    expect(denied.length).toBeGreaterThanOrEqual(2);
    expect(result.durationsMs['accessPropagation']).toBeGreaterThanOrEqual(45_000);
  });

  it('gives up on access after the deadline and still removes its access entry', async () => {
    h.cluster.accessPropagationMs = 10 * 60_000;
    const result = await h.run(
      'nodes',
      settingsFor('v1.0.0', { deadlines: { ...settingsFor().deadlines, accessPropagationSeconds: 60 } }),
    );
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(
      /Kubernetes access through the new access entry: not done after 60 s \(last seen: HTTP 403\)/,
    );
    expect(h.standIn.writes()).toEqual([]);
    expect(h.accessEntries.size).toBe(0);
  });

  it('reports the desired state it worked towards, which a setting that reaches the cluster changes', async () => {
    const plain = await h.run('nodes');
    expect(plain.outcome, plain.reason).toBe('protected');
    const kept = await h.run('nodes', settingsFor('v1.0.0', { keepAccessEntry: true }));
    expect(plain.desiredState).toMatchObject({ compute: 'nodes', operatorVersion: 'v1.0.0' });
    expect(plain.desiredState?.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(kept.desiredState?.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(kept.desiredState?.fingerprint).not.toBe(plain.desiredState?.fingerprint);
  });

  it('keeps the access entry when configured to', async () => {
    const result = await h.run('nodes', settingsFor('v1.0.0', { keepAccessEntry: true }));
    expect(result.outcome).toBe('protected');
    expect([...h.accessEntries.entries()]).toEqual([
      ['arn:aws:iam::111122223333:role/falcon-org-eks-execution', { username: 'falcon-org-eks-deployer' }],
    ]);
    expect(h.eks.commandCalls(AssociateAccessPolicyCommand)[0]?.args[0].input).toEqual({
      clusterName: 'prod',
      principalArn: 'arn:aws:iam::111122223333:role/falcon-org-eks-execution',
      policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
      accessScope: { type: 'cluster' },
    });
  });

  it('never removes an access entry someone else created for the same principal', async () => {
    h.accessEntries.set('arn:aws:iam::111122223333:role/falcon-org-eks-execution', {});
    const result = await h.run('nodes');
    expect(result.outcome, result.reason).toBe('protected');
    expect(h.accessEntries.size).toBe(1);
  });
});
