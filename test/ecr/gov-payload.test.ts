import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialFingerprint } from '../../src/ecr/fingerprint.js';
import { RegionOutcome, type ReconcileReport } from '../../src/ecr/outcome.js';
import { OwnershipLedger } from '../../src/ecr/ownership.js';
import { reconcileConnections, type ConnectionSpec } from '../../src/ecr/reconcile.js';
import { StaticEnabledRegions } from '../../src/aws/account-regions.js';
import { MemoryFalcon } from './memory-falcon.js';
import { MemoryOwnershipStore } from './memory-ownership-store.js';

const ACCOUNT = '123456789012';
const DEPLOYMENT = 'prod';
const commercial: ConnectionSpec = {
  roleArn: `arn:aws:iam::${ACCOUNT}:role/falcon-org-ecr-connection`,
  externalId: 'ext-abc123',
  govUsingCommercialConnection: false,
};
const gov: ConnectionSpec = { ...commercial, govCloud: true };

async function apply(falcon: MemoryFalcon, store: MemoryOwnershipStore, spec: ConnectionSpec) {
  const ledger = await OwnershipLedger.open(store, DEPLOYMENT, ACCOUNT);
  return reconcileConnections(
    ACCOUNT,
    DEPLOYMENT,
    { kind: 'apply', regions: ['us-east-1'], connection: spec },
    { falcon, ledger, regionDirectory: new StaticEnabledRegions(['us-east-1']) },
  );
}

const outcome = (report: ReconcileReport) => report.results[0]?.outcome;

describe('the gov payload over an upgrade', () => {
  it('keeps the digest of commercial connections exactly as before, so none is replaced', () => {
    // The formula before the gov payload existed.
    const before = createHash('sha256')
      .update(
        `falcon-org ecr credential\n${JSON.stringify([commercial.roleArn, commercial.externalId, false])}`,
      )
      .digest('hex')
      .slice(0, 24);
    expect(credentialFingerprint(commercial)).toBe(before);
    expect(credentialFingerprint({ ...commercial, govCloud: false })).toBe(before);
    expect(credentialFingerprint(gov)).not.toBe(before);
  });

  it('replaces once a gov-side connection made without the gov payload (Falcon cannot patch it in), then keeps it', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    expect(outcome(await apply(falcon, store, commercial))).toBe(RegionOutcome.Created);
    const first = await apply(falcon, store, gov);
    const second = await apply(falcon, store, gov);
    expect(outcome(first)).toBe(RegionOutcome.Replaced);
    expect(outcome(second)).toBe(RegionOutcome.Kept);
    expect(falcon.all()).toHaveLength(1);
  });
});
