import { describe, expect, it } from 'vitest';
import { ReconcileSetupError, OwnershipRecordError } from '../../src/ecr/errors.js';
import { FalconRateLimitError } from '../../src/falcon/errors.js';
import { RegionOutcome, type ReconcileReport } from '../../src/ecr/outcome.js';
import { OwnershipLedger, type WantedRegions } from '../../src/ecr/ownership.js';
import { reconcileConnections, type ConnectionSpec, type ReconcileMode } from '../../src/ecr/reconcile.js';
import { type RegionDirectory } from '../../src/ecr/regions.js';
import { StaticEnabledRegions } from '../../src/aws/account-regions.js';
import { connectionAlias, ecrRegistryUrl } from '../../src/ecr/urls.js';
import { MemoryFalcon } from './memory-falcon.js';
import { MemoryOwnershipStore } from './memory-ownership-store.js';

const ACCOUNT = '123456789012';
const DEPLOYMENT = 'prod';
const spec: ConnectionSpec = {
  roleArn: `arn:aws:iam::${ACCOUNT}:role/falcon-org-ecr-connection`,
  externalId: 'ext-abc123',
  govUsingCommercialConnection: false,
};

/** One reconcile run against a fresh ledger opened from the store (as each Lambda invocation does). */
async function run(
  falcon: MemoryFalcon,
  store: MemoryOwnershipStore,
  mode: WantedRegions | 'disconnect',
  options: { directory?: RegionDirectory; signal?: AbortSignal; concurrency?: number } = {},
): Promise<ReconcileReport> {
  const ledger = await OwnershipLedger.open(store, DEPLOYMENT, ACCOUNT);
  const m: ReconcileMode =
    mode === 'disconnect' ? { kind: 'disconnect' } : { kind: 'apply', regions: mode, connection: spec };
  return reconcileConnections(ACCOUNT, DEPLOYMENT, m, {
    falcon,
    ledger,
    regionDirectory: options.directory ?? new StaticEnabledRegions(['us-east-1']),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
}

const outcomes = (report: ReconcileReport): Record<string, string> =>
  Object.fromEntries(report.results.map((r) => [r.region, r.outcome]));

describe('reconcileConnections', () => {
  it('creates a connection per wanted region on the first run and records ownership', async () => {
    // Prepare
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    // Act
    const report = await run(falcon, store, ['us-east-1', 'eu-west-1']);
    // Assess
    expect(outcomes(report)).toEqual({ 'eu-west-1': 'created', 'us-east-1': 'created' });
    const created = falcon.byUrl(ecrRegistryUrl(ACCOUNT, 'eu-west-1'));
    expect(created?.credential).toEqual({ roleArn: spec.roleArn, externalId: spec.externalId, gov: false });
    expect(created?.userDefinedAlias).toBe(connectionAlias(DEPLOYMENT, ACCOUNT, 'eu-west-1'));
    expect(store.record.connections).toEqual({
      'us-east-1': falcon.byUrl(ecrRegistryUrl(ACCOUNT, 'us-east-1'))?.id,
      'eu-west-1': created?.id,
    });
    expect(store.record.pending).toEqual([]);
  });

  it('changes nothing when run again: every region kept, no create or delete calls', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    await run(falcon, store, ['us-east-1', 'eu-west-1']);
    const before = { ...falcon.calls };
    const savesBefore = store.saves;

    const report = await run(falcon, store, ['us-east-1', 'eu-west-1']);

    expect(outcomes(report)).toEqual({ 'eu-west-1': 'kept', 'us-east-1': 'kept' });
    expect(report.results.every((r) => r.owned)).toBe(true);
    expect(falcon.calls.create).toBe(before.create);
    expect(falcon.calls.delete).toBe(before.delete);
    expect(store.saves).toBe(savesBefore);
  });

  it('applies a region change: adds the new region, deletes the owned connection of the removed one', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    await run(falcon, store, ['us-east-1', 'eu-west-1']);
    const euId = store.record.connections['eu-west-1'];

    const report = await run(falcon, store, ['us-east-1', 'ap-south-1']);

    expect(outcomes(report)).toEqual({
      'ap-south-1': 'created',
      'eu-west-1': 'deleted',
      'us-east-1': 'kept',
    });
    expect(falcon.deletedIds).toEqual([euId]);
    expect(falcon.byUrl(ecrRegistryUrl(ACCOUNT, 'eu-west-1'))).toBeUndefined();
    expect(Object.keys(store.record.connections).sort()).toEqual(['ap-south-1', 'us-east-1']);
  });

  it('keeps but never owns or deletes a connection for the same registry that it did not create', async () => {
    const falcon = new MemoryFalcon();
    const foreign = falcon.seed(ecrRegistryUrl(ACCOUNT, 'eu-west-1'), 'made by hand');
    // Another account whose ID contains ours as a substring, in a region we own: never matched.
    const lookalike = falcon.seed(`https://9${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`);
    const store = new MemoryOwnershipStore();

    const first = await run(falcon, store, ['us-east-1', 'eu-west-1']);
    expect(first.results.find((r) => r.region === 'eu-west-1')).toMatchObject({
      outcome: RegionOutcome.Kept,
      owned: false,
      connectionId: foreign.id,
    });
    expect(first.results.find((r) => r.region === 'us-east-1')?.outcome).toBe(RegionOutcome.Created);

    const removal = await run(falcon, store, 'disconnect');
    expect(outcomes(removal)).toEqual({ 'us-east-1': 'deleted' });
    expect(
      falcon
        .all()
        .map((c) => c.id)
        .sort(),
    ).toEqual([foreign.id, lookalike.id].sort());
  });

  it('reports a failing region by name with its reason while the other regions succeed', async () => {
    const falcon = new MemoryFalcon();
    falcon.failCreateFor.set(ecrRegistryUrl(ACCOUNT, 'eu-west-1'), 'HTTP 400 invalid credential');
    const store = new MemoryOwnershipStore();

    const report = await run(falcon, store, ['us-east-1', 'eu-west-1', 'ap-south-1']);

    expect(outcomes(report)).toEqual({
      'ap-south-1': 'created',
      'eu-west-1': 'failed',
      'us-east-1': 'created',
    });
    expect(report.results.find((r) => r.region === 'eu-west-1')?.reason).toBe('HTTP 400 invalid credential');

    falcon.failCreateFor.clear();
    const retry = await run(falcon, store, ['us-east-1', 'eu-west-1', 'ap-south-1']);
    expect(outcomes(retry)).toEqual({ 'ap-south-1': 'kept', 'eu-west-1': 'created', 'us-east-1': 'kept' });
  });

  it('connects every enabled region when none are configured, and picks up a newly enabled region', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    const enabled = ['us-east-1', 'us-west-2'];
    const directory: RegionDirectory = { list: () => Promise.resolve([...enabled]) };

    const first = await run(falcon, store, 'all', { directory });
    expect(outcomes(first)).toEqual({ 'us-east-1': 'created', 'us-west-2': 'created' });

    enabled.push('eu-central-1');
    const second = await run(falcon, store, 'all', { directory });
    expect(outcomes(second)).toEqual({ 'eu-central-1': 'created', 'us-east-1': 'kept', 'us-west-2': 'kept' });
  });

  it('refuses to guess when the enabled regions cannot be listed, and deletes nothing', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    await run(falcon, store, ['us-east-1']);
    const broken: RegionDirectory = { list: () => Promise.reject(new Error('AccessDenied')) };
    const empty: RegionDirectory = { list: () => Promise.resolve([]) };

    await expect(run(falcon, store, 'all', { directory: broken })).rejects.toThrow(ReconcileSetupError);
    await expect(run(falcon, store, 'all', { directory: empty })).rejects.toThrow(/no enabled regions/);
    expect(falcon.calls.delete).toBe(0);
    expect(falcon.all()).toHaveLength(1);
  });

  it('repairs drift: recreates an owned connection deleted in Falcon and records the new ID', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    await run(falcon, store, ['us-east-1']);
    const oldId = store.record.connections['us-east-1'];
    falcon.removeBehindBack(oldId);

    const report = await run(falcon, store, ['us-east-1']);

    expect(outcomes(report)).toEqual({ 'us-east-1': 'created' });
    const newId = store.record.connections['us-east-1'];
    expect(newId).toBeDefined();
    expect(newId).not.toBe(oldId);
    expect(falcon.byUrl(ecrRegistryUrl(ACCOUNT, 'us-east-1'))?.id).toBe(newId);
  });

  it('adopts a connection whose create was interrupted before its ID was recorded', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    // The create reaches Falcon but recording the answer fails (as if the function died right after).
    falcon.beforeCreate = () => {
      store.failSave = 'throttled';
      return Promise.resolve();
    };
    const crashed = await run(falcon, store, ['us-east-1']);
    expect(crashed.results[0]).toMatchObject({ outcome: 'failed', reason: 'throttled' });
    expect(store.record.pending).toEqual(['us-east-1']);
    falcon.beforeCreate = undefined;
    store.failSave = undefined;

    const report = await run(falcon, store, ['us-east-1']);

    expect(report.results[0]).toMatchObject({ outcome: RegionOutcome.Adopted, owned: true });
    expect(store.record.connections['us-east-1']).toBe(
      falcon.byUrl(ecrRegistryUrl(ACCOUNT, 'us-east-1'))?.id,
    );
    expect(falcon.all()).toHaveLength(1);
  });

  it('does not adopt a connection without its alias even when a create was pending', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore({
      version: 1,
      deploymentId: DEPLOYMENT,
      accountId: ACCOUNT,
      connections: {},
      pending: ['us-east-1'],
    });
    const foreign = falcon.seed(ecrRegistryUrl(ACCOUNT, 'us-east-1'), 'someone else');

    const kept = await run(falcon, store, ['us-east-1']);
    const removed = await run(falcon, store, []);

    expect(kept.results[0]).toMatchObject({ outcome: 'kept', owned: false });
    expect(removed.results).toEqual([]);
    expect(falcon.all().map((c) => c.id)).toEqual([foreign.id]);
  });

  it('does not own a connection someone else created between the listing and the create (duplicate answer)', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    let foreignId: string | undefined;
    // Falcon answers the create as a duplicate of a connection made by hand a moment earlier.
    falcon.beforeCreate = (url) => {
      foreignId = falcon.seed(url, 'made by hand').id;
      return Promise.resolve();
    };

    const report = await run(falcon, store, ['us-east-1']);
    falcon.beforeCreate = undefined;
    const removal = await run(falcon, store, []);

    expect(report.results[0]).toMatchObject({ outcome: 'kept', owned: false, connectionId: foreignId });
    expect(store.record.connections).toEqual({});
    expect(store.record.pending).toEqual([]);
    expect(removal.results).toEqual([]);
    expect(falcon.all().map((c) => c.id)).toEqual([foreignId]);
  });

  it('owns a duplicate that carries its own alias (its retried create had landed)', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    falcon.beforeCreate = (url) => {
      falcon.seed(url, connectionAlias(DEPLOYMENT, ACCOUNT, 'us-east-1'));
      return Promise.resolve();
    };

    const report = await run(falcon, store, ['us-east-1']);

    expect(report.results[0]).toMatchObject({ outcome: 'created', owned: true });
    expect(store.record.connections['us-east-1']).toBe(falcon.all()[0]?.id);
  });

  it('disconnect deletes exactly the owned connections and a second disconnect does nothing', async () => {
    const falcon = new MemoryFalcon();
    const foreign = falcon.seed(ecrRegistryUrl(ACCOUNT, 'eu-west-1'));
    const store = new MemoryOwnershipStore();
    await run(falcon, store, ['us-east-1', 'us-west-2', 'eu-west-1']);

    const first = await run(falcon, store, 'disconnect');
    const second = await run(falcon, store, 'disconnect');

    expect(outcomes(first)).toEqual({ 'us-east-1': 'deleted', 'us-west-2': 'deleted' });
    expect(second.results).toEqual([]);
    expect(falcon.all().map((c) => c.id)).toEqual([foreign.id]);
    expect(store.record.connections).toEqual({});
  });

  it('fails every region by name and deletes nothing when Falcon connections cannot be listed', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    await run(falcon, store, ['us-east-1', 'eu-west-1']);
    falcon.failList = 'HTTP 503 service unavailable';

    const report = await run(falcon, store, ['us-east-1']);

    expect(outcomes(report)).toEqual({ 'eu-west-1': 'failed', 'us-east-1': 'failed' });
    expect(report.results[0]?.reason).toMatch(/could not list Falcon registry connections: HTTP 503/);
    expect(falcon.calls.delete).toBe(0);
    expect(Object.keys(store.record.connections).sort()).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('never deletes a connection of another registry even if the ownership record names its ID', async () => {
    const falcon = new MemoryFalcon();
    const other = falcon.seed('https://210987654321.dkr.ecr.us-east-1.amazonaws.com');
    const store = new MemoryOwnershipStore({
      version: 1,
      deploymentId: DEPLOYMENT,
      accountId: ACCOUNT,
      connections: { 'us-east-1': other.id },
      pending: [],
    });

    const report = await run(falcon, store, 'disconnect');

    expect(report.results[0]).toMatchObject({ outcome: 'failed' });
    expect(report.results[0]?.reason).toMatch(/but Falcon has it for https:\/\/210987654321/);
    expect(falcon.all().map((c) => c.id)).toEqual([other.id]);
  });

  it('forgets an owned connection that is already gone when its region is removed', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    await run(falcon, store, ['us-east-1', 'eu-west-1']);
    falcon.removeBehindBack(store.record.connections['eu-west-1']);

    const report = await run(falcon, store, ['us-east-1']);

    expect(outcomes(report)).toEqual({ 'eu-west-1': 'absent', 'us-east-1': 'kept' });
    expect(falcon.calls.delete).toBe(0);
    expect(Object.keys(store.record.connections)).toEqual(['us-east-1']);
  });

  it('defers regions not started when the signal is aborted (the budget ran out)', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    const controller = new AbortController();
    falcon.beforeCreate = () => {
      controller.abort();
      return Promise.resolve();
    };

    const report = await run(falcon, store, ['us-east-1', 'us-west-2', 'eu-west-1'], {
      signal: controller.signal,
      concurrency: 1,
    });

    expect(outcomes(report)).toEqual({
      'eu-west-1': 'created',
      'us-east-1': 'deferred',
      'us-west-2': 'deferred',
    });
    expect(report.results.find((r) => r.region === 'us-east-1')?.reason).toBe(
      "not reached before the run's time budget ran out",
    );
  });

  it('handles regions concurrently', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    let inFlight = 0;
    let most = 0;
    const gate: Array<() => void> = [];
    falcon.beforeCreate = () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      return new Promise<void>((resolve) => {
        gate.push(() => {
          inFlight -= 1;
          resolve();
        });
        if (gate.length === 3) for (const open of gate.splice(0)) open();
      });
    };

    const report = await run(falcon, store, ['us-east-1', 'us-west-2', 'eu-west-1'], { concurrency: 3 });

    expect(most).toBe(3);
    expect(report.results.every((r) => r.outcome === 'created')).toBe(true);
    expect(Object.keys(store.record.connections)).toHaveLength(3);
  });

  it('refuses an ownership record of another deployment', async () => {
    const store = new MemoryOwnershipStore({
      version: 1,
      deploymentId: 'other',
      accountId: ACCOUNT,
      connections: { 'us-east-1': 'x' },
      pending: [],
    });
    await expect(OwnershipLedger.open(store, DEPLOYMENT, ACCOUNT)).rejects.toThrow(OwnershipRecordError);
  });

  it('asks for the government flag when a commercial account connects to a government Falcon cloud', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    const ledger = await OwnershipLedger.open(store, DEPLOYMENT, ACCOUNT);
    await reconcileConnections(
      ACCOUNT,
      DEPLOYMENT,
      { kind: 'apply', regions: ['us-east-1'], connection: { ...spec, govUsingCommercialConnection: true } },
      { falcon, ledger, regionDirectory: new StaticEnabledRegions([]) },
    );
    expect(falcon.all()[0]?.credential.gov).toBe(true);
  });

  it('replaces an owned connection made with another external ID, and records the new fingerprint', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    await run(falcon, store, ['us-east-1']);
    const oldId = store.record.connections['us-east-1'];
    const oldPrint = store.record.fingerprints?.['us-east-1'];
    const ledger = await OwnershipLedger.open(store, DEPLOYMENT, ACCOUNT);

    const report = await reconcileConnections(
      ACCOUNT,
      DEPLOYMENT,
      { kind: 'apply', regions: ['us-east-1'], connection: { ...spec, externalId: 'ext-new456' } },
      { falcon, ledger, regionDirectory: new StaticEnabledRegions(['us-east-1']) },
    );

    expect(outcomes(report)).toEqual({ 'us-east-1': 'replaced' });
    expect(falcon.deletedIds).toEqual([oldId]);
    const now = falcon.byUrl(ecrRegistryUrl(ACCOUNT, 'us-east-1'));
    expect(now?.credential.externalId).toBe('ext-new456');
    expect(store.record.connections['us-east-1']).toBe(now?.id);
    expect(store.record.fingerprints?.['us-east-1']).toMatch(/^[0-9a-f]{24}$/);
    expect(store.record.fingerprints?.['us-east-1']).not.toBe(oldPrint);
    // The record never holds the external ID itself.
    expect(store.text).not.toContain('ext-new456');
    expect(store.text).not.toContain(spec.externalId);
  });

  it('replaces once a connection recorded before fingerprints existed, then keeps it', async () => {
    const falcon = new MemoryFalcon();
    const legacy = falcon.seed(
      ecrRegistryUrl(ACCOUNT, 'us-east-1'),
      connectionAlias(DEPLOYMENT, ACCOUNT, 'us-east-1'),
    );
    const store = new MemoryOwnershipStore({
      version: 1,
      deploymentId: DEPLOYMENT,
      accountId: ACCOUNT,
      connections: { 'us-east-1': legacy.id },
      pending: [],
    });

    const first = await run(falcon, store, ['us-east-1']);
    const second = await run(falcon, store, ['us-east-1']);

    expect(outcomes(first)).toEqual({ 'us-east-1': 'replaced' });
    expect(outcomes(second)).toEqual({ 'us-east-1': 'kept' });
    expect(falcon.byUrl(ecrRegistryUrl(ACCOUNT, 'us-east-1'))?.credential.externalId).toBe(spec.externalId);
  });

  it('replaces an interrupted create of another credential instead of adopting it', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    const ledger = await OwnershipLedger.open(store, DEPLOYMENT, ACCOUNT);
    await ledger.markPending('us-east-1', 'fingerprint-of-an-old-external-id');
    const landed = falcon.seed(
      ecrRegistryUrl(ACCOUNT, 'us-east-1'),
      connectionAlias(DEPLOYMENT, ACCOUNT, 'us-east-1'),
    );

    const report = await run(falcon, store, ['us-east-1']);

    expect(outcomes(report)).toEqual({ 'us-east-1': 'replaced' });
    expect(falcon.deletedIds).toEqual([landed.id]);
  });

  it('defers regions when Falcon keeps answering 429 beyond the allowance, and fails them for other errors', async () => {
    const falcon = new MemoryFalcon();
    const store = new MemoryOwnershipStore();
    falcon.listConnections = () =>
      Promise.reject(
        new FalconRateLimitError('still rate limited after 10 waits', {
          operation: 'GET /container-security/queries/registries/v1',
          status: 429,
        }),
      );

    const report = await run(falcon, store, ['us-east-1', 'eu-west-1']);

    expect(outcomes(report)).toEqual({ 'eu-west-1': 'deferred', 'us-east-1': 'deferred' });
    expect(report.results[0]?.reason).toMatch(/^Falcon's rate limit allowance ran out: could not list/);
  });
});
