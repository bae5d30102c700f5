import { AssociateAccessPolicyCommand } from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { DeployerHarness } from './harness.js';

describe('access entry cleanup when the policy association fails', () => {
  let h: DeployerHarness;
  afterEach(async () => {
    await h.close();
  });

  it('removes the access entry it had just created and reports the failure', async () => {
    h = await DeployerHarness.start();
    h.eks.on(AssociateAccessPolicyCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: eks:AssociateAccessPolicy'), {
        name: 'AccessDeniedException',
      }),
    );
    const result = await h.run('nodes');
    expect(result.outcome).toBe('failed');
    expect(result.reason).toContain('eks:AssociateAccessPolicy');
    expect(h.accessEntries.size).toBe(0);
  });
});
