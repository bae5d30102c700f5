import { describe, expect, it } from 'vitest';
import { isTrueForCurrentSpec } from '../../src/cluster/conditions.js';
import { daemonSetRolledOut } from '../../src/cluster/verify.js';

describe('node-sensor DaemonSet readiness', () => {
  it('is not ready before the controller has observed the current generation (0 of 0)', () => {
    const fresh = { metadata: { generation: 1 }, status: { desiredNumberScheduled: 0, numberReady: 0 } };
    expect(daemonSetRolledOut(fresh)).toEqual({ done: false, seen: 'generation 1 not observed yet' });
  });

  it('is not ready during an upgrade while old pods are ready but not updated', () => {
    const upgrading = {
      metadata: { generation: 2 },
      status: { observedGeneration: 2, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 1 },
    };
    expect(daemonSetRolledOut(upgrading)).toEqual({
      done: false,
      seen: '3 of 3 pods ready, 1 updated',
    });
  });

  it('is ready when every desired pod is updated and ready', () => {
    const done = {
      metadata: { generation: 2 },
      status: { observedGeneration: 2, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3 },
    };
    expect(daemonSetRolledOut(done).done).toBe(true);
  });
});

describe('custom resource Success', () => {
  const cr = (generation: number, observedGeneration?: number) => ({
    metadata: { generation },
    status: {
      conditions: [
        {
          type: 'Success',
          status: 'True',
          ...(observedGeneration !== undefined ? { observedGeneration } : {}),
        },
      ],
    },
  });

  it('does not count a Success set for an older spec', () => {
    expect(isTrueForCurrentSpec(cr(2, 1), 'Success')).toBe(false);
    expect(isTrueForCurrentSpec(cr(2, 2), 'Success')).toBe(true);
  });

  it('accepts a Success without observedGeneration (operators that do not set it)', () => {
    expect(isTrueForCurrentSpec(cr(2), 'Success')).toBe(true);
  });
});
