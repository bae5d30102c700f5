import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/cluster/kube-client.js';
import { TokenSource } from '../../src/cluster/token.js';
import { STAND_IN_CA_PEM } from '../fakes/kube/server.js';
import { ACCESS_KEY_ID, DeployerHarness } from './harness.js';

const NODE_SENSOR = '/apis/falcon.crowdstrike.com/v1alpha1/falconnodesensors/falcon-node-sensor';
const OPERATOR = '/apis/apps/v1/namespaces/falcon-operator/deployments/falcon-operator-controller-manager';

/** Someone with kubectl: another field manager taking fields over (as `kubectl apply --force-conflicts` or an edit does). */
function kubectl(h: DeployerHarness): KubeClient {
  return new KubeClient({
    server: h.standIn.url,
    caPem: STAND_IN_CA_PEM,
    token: new TokenSource({
      cluster: 'prod',
      region: 'eu-west-1',
      credentials: () => Promise.resolve({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: 's' }),
      now: h.clock.now,
    }),
  });
}

describe('drift on a protected cluster is repaired by the next run', () => {
  let h: DeployerHarness;
  beforeEach(async () => {
    h = await DeployerHarness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  it('a custom resource edited by hand is put back and the run says it applied it', async () => {
    expect((await h.run('nodes')).outcome).toBe('protected');
    const spec = () => (h.standIn.object(NODE_SENSOR)!['spec'] as { node: { backend: string } }).node.backend;
    expect(spec()).toBe('bpf');
    h.standIn.options.accessGrantedAt = 0;
    const edited = structuredClone(h.standIn.object(NODE_SENSOR)!) as Record<string, unknown> & {
      metadata: Record<string, unknown>;
    };
    await kubectl(h).apply(
      NODE_SENSOR,
      {
        apiVersion: 'falcon.crowdstrike.com/v1alpha1',
        kind: 'FalconNodeSensor',
        metadata: { name: String(edited.metadata['name']) },
        spec: { node: { backend: 'kernel' } },
      },
      'kubectl-edit',
    );
    h.standIn.options.accessGrantedAt = undefined;
    expect(spec()).toBe('kernel');

    const next = await h.run('nodes');

    expect(next.outcome, next.reason).toBe('protected');
    expect(next.components).toContainEqual(
      expect.objectContaining({ name: 'FalconNodeSensor', status: 'applied' }),
    );
    expect(spec()).toBe('bpf');
  });

  it('an operator Deployment scaled by hand is put back', async () => {
    expect((await h.run('nodes')).outcome).toBe('protected');
    h.standIn.options.accessGrantedAt = 0;
    await kubectl(h).apply(
      OPERATOR,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'falcon-operator-controller-manager', namespace: 'falcon-operator' },
        spec: { replicas: 0 },
      },
      'kubectl-scale',
    );
    h.standIn.options.accessGrantedAt = undefined;

    const next = await h.run('nodes');

    expect(next.outcome, next.reason).toBe('protected');
    expect(next.components[0]).toEqual({ name: 'operator', version: 'v1.0.0', status: 'applied' });
    expect((h.standIn.object(OPERATOR)!['spec'] as { replicas: number }).replicas).toBe(1);
  });
});
