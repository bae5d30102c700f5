import {
  AssociateAccessPolicyCommand,
  DisassociateAccessPolicyCommand,
  type AccessScope,
} from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { DeployerHarness, settingsFor } from './harness.js';

const PRINCIPAL = 'arn:aws:iam::111122223333:role/falcon-org-eks-execution';
const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const VIEW = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';

describe('an access entry for the principal that someone else created', () => {
  let h: DeployerHarness;
  afterEach(async () => {
    await h.close();
  });

  const policies = (): Record<string, AccessScope> =>
    Object.fromEntries(h.associations.get(PRINCIPAL) ?? new Map<string, AccessScope>());

  it('gets the admin policy for the run only, and keeps the entry and its own policies', async () => {
    h = await DeployerHarness.start();
    h.accessEntries.set(PRINCIPAL, { username: 'platform-team' });
    h.associations.set(PRINCIPAL, new Map([[VIEW, { type: 'cluster' as const }]]));
    const result = await h.run('nodes');
    expect(result.outcome, result.reason).toBe('protected');
    expect(h.eks.commandCalls(AssociateAccessPolicyCommand)).toHaveLength(1);
    expect(h.accessEntries.get(PRINCIPAL)).toEqual({ username: 'platform-team' });
    expect(policies()).toEqual({ [VIEW]: { type: 'cluster' } });

    // Lifecycle: a second run associates and disassociates again; the entry survives both.
    expect((await h.run('nodes')).outcome).toBe('already-protected');
    expect(h.eks.commandCalls(DisassociateAccessPolicyCommand)).toHaveLength(2);
    expect(policies()).toEqual({ [VIEW]: { type: 'cluster' } });
    expect(h.accessEntries.has(PRINCIPAL)).toBe(true);
  });

  it('an entry that can already read (View) waits until the admin policy allows the writes, then installs', async () => {
    h = await DeployerHarness.start();
    h.accessEntries.set(PRINCIPAL, { username: 'platform-team' });
    h.associations.set(PRINCIPAL, new Map([[VIEW, { type: 'cluster' as const }]]));
    h.standIn.options.readAccessGrantedAt = h.clock.now(); // reads work from the start
    const start = h.clock.now();

    const result = await h.run('nodes');

    expect(result.outcome, result.reason).toBe('protected');
    // No write was refused: the first one came after the admin policy had propagated (20 s).
    expect(h.standIn.requests.filter((r) => r.status === 403 && r.method !== 'POST')).toEqual([]);
    const firstWrite = h.standIn.requests.find((r) => r.method === 'PATCH')!;
    expect(firstWrite.at - start).toBeGreaterThanOrEqual(20_000);
    // The reviews asked about writes, and were refused until then.
    const reviews = h.standIn.requests.filter((r) => r.path.endsWith('/selfsubjectaccessreviews'));
    expect(reviews.length).toBeGreaterThan(1);
    expect(policies()).toEqual({ [VIEW]: { type: 'cluster' } });
  });

  it('an admin policy the owner had already associated is neither associated again nor removed', async () => {
    h = await DeployerHarness.start();
    h.accessEntries.set(PRINCIPAL, {});
    h.associations.set(PRINCIPAL, new Map([[ADMIN, { type: 'cluster' as const }]]));
    h.standIn.options.accessGrantedAt = h.clock.now();
    const result = await h.run('nodes');
    expect(result.outcome, result.reason).toBe('protected');
    expect(h.eks.commandCalls(AssociateAccessPolicyCommand)).toHaveLength(0);
    expect(h.eks.commandCalls(DisassociateAccessPolicyCommand)).toHaveLength(0);
    expect(policies()).toEqual({ [ADMIN]: { type: 'cluster' } });
  });

  it('a namespace-scoped admin association is widened for the run and its scope put back', async () => {
    h = await DeployerHarness.start();
    h.accessEntries.set(PRINCIPAL, {});
    const scoped = { type: 'namespace' as const, namespaces: ['apps'] };
    h.associations.set(PRINCIPAL, new Map([[ADMIN, scoped]]));
    const result = await h.run('nodes');
    expect(result.outcome, result.reason).toBe('protected');
    expect(h.eks.commandCalls(AssociateAccessPolicyCommand)[0]?.args[0].input.accessScope).toEqual({
      type: 'cluster',
    });
    expect(h.eks.commandCalls(DisassociateAccessPolicyCommand)).toHaveLength(0);
    expect(policies()).toEqual({ [ADMIN]: scoped });
  });

  it('keepAccessEntry leaves the association in place; a failed run undoes it too', async () => {
    h = await DeployerHarness.start();
    h.accessEntries.set(PRINCIPAL, {});
    expect((await h.run('nodes', settingsFor('v1.0.0', { keepAccessEntry: true }))).outcome).toBe(
      'protected',
    );
    expect(policies()).toEqual({ [ADMIN]: { type: 'cluster' } });
    expect(h.accessEntries.has(PRINCIPAL)).toBe(true);

    await h.close();
    h = await DeployerHarness.start({ crdEstablishedAfterMs: 'never' });
    h.accessEntries.set(PRINCIPAL, {});
    expect((await h.run('nodes')).outcome).toBe('failed');
    expect(policies()).toEqual({});
    expect(h.accessEntries.has(PRINCIPAL)).toBe(true);
  });

  it('our own entry is still removed whole (no separate disassociation)', async () => {
    h = await DeployerHarness.start();
    expect((await h.run('nodes')).outcome).toBe('protected');
    expect(h.accessEntries.size).toBe(0);
    expect(h.eks.commandCalls(DisassociateAccessPolicyCommand)).toHaveLength(0);
  });
});
