import { describe, expect, it } from 'vitest';
import { deploymentRolledOut } from '../../src/cluster/conditions.js';

const available = { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' };

function deployment(status: Record<string, unknown>, replicas = 1, generation = 2) {
  return {
    metadata: { generation },
    spec: { replicas },
    status: { observedGeneration: generation, conditions: [available], ...status },
  };
}

describe('deploymentRolledOut follows kubectl rollout status', () => {
  it('is not done while the old pod serves and the new one is unavailable (a broken upgrade)', () => {
    // What the API server shows while the new operator pod crash-loops: Available=True from the old pod.
    const seen = deploymentRolledOut(deployment({ replicas: 2, updatedReplicas: 1, unavailableReplicas: 1 }));
    expect(seen.done).toBe(false);
    expect(seen.seen).toContain('1 old replicas pending termination');
    const noOld = deploymentRolledOut(
      deployment({ replicas: 1, updatedReplicas: 1, unavailableReplicas: 1 }),
    );
    expect(noOld).toEqual({
      done: false,
      seen: 'Available=True (MinimumReplicasAvailable); 0 of 1 updated replicas available',
    });
  });

  it('applies each of kubectl rules in order', () => {
    expect(
      deploymentRolledOut(
        deployment({ observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }),
      ).seen,
    ).toContain('generation 2 not observed yet');
    expect(
      deploymentRolledOut(deployment({ replicas: 3, updatedReplicas: 2, availableReplicas: 3 }, 3)).seen,
    ).toContain('2 of 3 new replicas updated');
    expect(
      deploymentRolledOut(deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 2 }, 3)).seen,
    ).toContain('2 of 3 updated replicas available');
    expect(
      deploymentRolledOut(deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 3)),
    ).toEqual({
      done: true,
      seen: 'Available=True (MinimumReplicasAvailable)',
    });
    expect(deploymentRolledOut(undefined)).toEqual({ done: false, seen: 'not found' });
  });

  it('ends the wait at once when the rollout exceeded its progress deadline', () => {
    const stuck = deployment({
      replicas: 2,
      updatedReplicas: 1,
      availableReplicas: 1,
      conditions: [
        available,
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'RS "x" has timed out',
        },
      ],
    });
    expect(() => deploymentRolledOut(stuck)).toThrow(
      /exceeded its progress deadline .*ProgressDeadlineExceeded/,
    );
  });
});
