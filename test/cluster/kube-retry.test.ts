import { afterEach, describe, expect, it } from 'vitest';
import type { KubeFault } from '../fakes/kube/server.js';
import { DeployerHarness } from './harness.js';

const SECRET = '/api/v1/namespaces/falcon-operator/secrets/falcon-org-api-credentials';
const NODE_SENSOR = '/apis/falcon.crowdstrike.com/v1alpha1/falconnodesensors/falcon-node-sensor';

/** Answers the first `count` requests matching `when` with the fault, then lets them through. */
function first(
  count: number,
  when: (r: { method: string; path: string }) => boolean,
  fault: KubeFault,
): (r: { method: string; path: string }) => KubeFault | undefined {
  let left = count;
  return (r) => {
    if (left === 0 || !when(r)) return undefined;
    left -= 1;
    return fault;
  };
}

describe('Kubernetes calls are retried on throttling, server errors and lost connections', () => {
  let h: DeployerHarness;
  afterEach(async () => {
    await h.close();
  });

  it('waits as long as Retry-After asks after a 429, backs off after 5xx and a reset, and the run succeeds', async () => {
    h = await DeployerHarness.start();
    const throttle = first(1, (r) => r.method === 'PATCH' && r.path === SECRET, {
      status: 429,
      headers: { 'retry-after': '7' },
    });
    const unavailable = first(2, (r) => r.method === 'PATCH' && r.path === NODE_SENSOR, { status: 503 });
    const reset = first(
      1,
      (r) => r.method === 'GET' && r.path.endsWith('/deployments/falcon-operator-controller-manager'),
      'reset',
    );
    h.standIn.options.faults = (r) => throttle(r) ?? unavailable(r) ?? reset(r);

    const result = await h.run('nodes');

    expect(result.outcome, result.reason).toBe('protected');
    const requests = h.standIn.requests;
    const throttled = requests.findIndex((r) => r.status === 429);
    const after = requests.slice(throttled + 1).find((r) => r.path === SECRET)!;
    expect(after.status).toBe(201);
    expect(after.at - requests[throttled].at).toBeGreaterThanOrEqual(7000);
    expect(
      requests.filter((r) => r.path === NODE_SENSOR && r.method === 'PATCH').map((r) => r.status),
    ).toEqual([503, 503, 201]);
    expect(requests.some((r) => r.status === 0)).toBe(true);
  });

  it('gives up after a bounded number of retries and names the status', async () => {
    h = await DeployerHarness.start();
    h.standIn.options.faults = (r) =>
      r.method === 'PATCH' && r.path === SECRET
        ? { status: 503, headers: { 'retry-after': '1' } }
        : undefined;

    const result = await h.run('nodes');

    expect(result.outcome).toBe('failed');
    expect(result.reason).toContain(`Kubernetes apply ${SECRET}: HTTP 503`);
    expect(h.standIn.requests.filter((r) => r.path === SECRET && r.method === 'PATCH')).toHaveLength(6);
    // The access entry is still cleaned up.
    expect(h.accessEntries.size).toBe(0);
  });

  it('a connection that keeps dropping ends the run with the operation and the attempts', async () => {
    h = await DeployerHarness.start();
    h.standIn.options.faults = (r) => (r.method === 'PATCH' && r.path === SECRET ? 'reset' : undefined);

    const result = await h.run('nodes');

    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(
      new RegExp(
        `^Kubernetes PATCH ${SECRET}\\?fieldManager=falcon-org&force=true: no answer after 6 attempts \\(`,
      ),
    );
  });
});
