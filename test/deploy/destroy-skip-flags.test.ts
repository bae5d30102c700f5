import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/config/errors.js';
import { clusterSkips } from '../../src/deploy/command.js';

describe('destroy --skip-account / --skip-cluster', () => {
  it('reads accounts and clusters (ACCOUNT/REGION/NAME or ARN)', () => {
    expect(
      clusterSkips({
        skipAccount: ['444455556666'],
        skipCluster: [
          '111122223333/eu-west-1/prod',
          'arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/gov',
        ],
      }),
    ).toEqual({
      skipClusterAccounts: ['444455556666'],
      skipClusters: [
        { accountId: '111122223333', region: 'eu-west-1', cluster: 'prod' },
        { accountId: '111122223333', region: 'us-gov-west-1', cluster: 'gov' },
      ],
    });
    expect(clusterSkips({})).toEqual({ skipClusterAccounts: [], skipClusters: [] });
  });

  it('names every bad value at once, as input the user can fix (exit 2)', () => {
    let error: unknown;
    try {
      clusterSkips({ skipAccount: ['4444'], skipCluster: ['prod'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as Error).message).toBe(
      '--skip-account "4444": expected a 12-digit account ID; --skip-cluster "prod" is not a cluster: expected ACCOUNT/REGION/NAME (e.g. 111122223333/eu-west-1/prod) or a cluster ARN',
    );
  });
});
