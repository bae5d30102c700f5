import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunsTableError } from '../../src/eks/errors.js';
import type { ClusterChanges, RunResult } from '../../src/eks/run-contract.js';
import { DynamoRunsTable } from '../../src/eks/runs-table.js';
import { FakeDynamoTable } from './fake-dynamo.js';

const TABLE = 'falcon-org-eks-runs';
const REF = { accountId: '111111111111', region: 'eu-west-1', cluster: 'prod' };
const T0 = Date.parse('2026-11-29T10:00:00Z');

function result(runId: string, startedAt = '2026-11-29T10:00:00.000Z'): RunResult {
  return {
    runId,
    ...REF,
    mode: 'install',
    outcome: 'protected',
    components: [{ name: 'operator', version: '1.2.0', status: 'applied' }],
    startedAt,
    finishedAt: '2026-11-29T10:05:00.000Z',
    durationsMs: { apply: 5000 },
  };
}

describe('runs table', () => {
  let fake: FakeDynamoTable;
  let now: number;
  let table: DynamoRunsTable;

  beforeEach(() => {
    fake = new FakeDynamoTable(TABLE);
    now = T0;
    table = new DynamoRunsTable(fake.client, TABLE, { now: () => now });
  });
  afterEach(() => fake.reset());

  it('lets exactly one of two concurrent takers have the lock, and tells the loser who holds it', async () => {
    const [a, b] = await Promise.all([
      table.takeLock(REF, 'run-a', 3600),
      table.takeLock(REF, 'run-b', 3600),
    ]);

    expect([a.taken, b.taken].sort()).toEqual([false, true]);
    const winner = a.taken ? 'run-a' : 'run-b';
    const loser = a.taken ? b : a;
    expect(loser).toEqual({ taken: false, heldBy: winner, expiresAt: T0 / 1000 + 3600 });
    expect(fake.items.get('111111111111#eu-west-1#prod')).toMatchObject({
      accountId: '111111111111',
      region: 'eu-west-1',
      clusterName: 'prod',
      lockRunId: winner,
      lockExpiresAt: T0 / 1000 + 3600,
    });
  });

  it('gives the pacing lease to one invocation at a time, to the next once it is released or its holder died, and keeps it out of the cluster list', async () => {
    const [a, b] = await Promise.all([table.takePacingLease('a', 240), table.takePacingLease('b', 240)]);
    expect([a, b].sort()).toEqual([false, true]);
    const holder = a ? 'a' : 'b';
    const other = a ? 'b' : 'a';
    // Released by its holder only.
    await table.releasePacingLease(other);
    expect(await table.takePacingLease('c', 240)).toBe(false);
    await table.releasePacingLease(holder);
    expect(await table.takePacingLease('c', 240)).toBe(true);
    // c dies holding it: nobody gets it for 240 s, then the next one does, and c's late release frees nothing.
    now = T0 + 239_000;
    expect(await table.takePacingLease('d', 240)).toBe(false);
    now = T0 + 241_000;
    expect(await table.takePacingLease('d', 240)).toBe(true);
    await table.releasePacingLease('c');
    expect(await table.takePacingLease('e', 240)).toBe(false);
    expect(fake.items.get('pacing')).toMatchObject({
      lockRunId: 'd',
      lockExpiresAt: (T0 + 241_000) / 1000 + 240,
    });
    // Not a cluster: builds in flight and every other reader of the table skip it.
    expect(await table.list()).toEqual([]);
  });

  it('keeps the lock while it is live and lets a new run take it once a crashed run’s lock expired', async () => {
    expect((await table.takeLock(REF, 'crashed', 600)).taken).toBe(true);
    now = T0 + 599_000;
    expect((await table.takeLock(REF, 'too-early', 600)).taken).toBe(false);
    now = T0 + 601_000; // the crashed run never released; its lease ran out

    const retry = await table.takeLock(REF, 'after-crash', 600);

    expect(retry).toEqual({ taken: true, runId: 'after-crash', expiresAt: (T0 + 601_000) / 1000 + 600 });
    expect((await table.get(REF))?.lockRunId).toBe('after-crash');
  });

  it('releases with the result only for the run holding the lock; a late run keeps its result without touching the new lock', async () => {
    await table.takeLock(REF, 'old', 60);
    now = T0 + 120_000;
    await table.takeLock(REF, 'new', 60);

    expect(await table.releaseLock(result('old', '2026-11-29T10:00:00.000Z'))).toBe('not-held');
    let item = await table.get(REF);
    expect(item?.lockRunId).toBe('new');
    expect(item?.lastRun?.runId).toBe('old');

    expect(await table.releaseLock(result('new', '2026-11-29T10:02:00.000Z'))).toBe('released');
    item = await table.get(REF);
    expect(item?.lockRunId).toBeUndefined();
    expect(item?.lockExpiresAt).toBeUndefined();
    expect(item?.lastRun?.runId).toBe('new');
    expect(item?.lastRun?.components).toEqual([{ name: 'operator', version: '1.2.0', status: 'applied' }]);

    // An even older straggler must not overwrite the newer result.
    expect(await table.releaseLock(result('ancient', '2026-11-29T09:00:00.000Z'))).toBe('not-held');
    expect((await table.get(REF))?.lastRun?.runId).toBe('new');
    // And the lock is free again: create → release → create again.
    expect((await table.takeLock(REF, 'again', 60)).taken).toBe(true);
  });

  it('records verdicts beside the lock and lists every item across pages', async () => {
    await table.takeLock(REF, 'run-1', 60);
    await table.recordVerdict(REF, { kind: 'eligible', code: 'eligible', reason: 'ok' });
    for (const cluster of ['a', 'b', 'c', 'd']) {
      await table.recordVerdict(
        { ...REF, cluster },
        { kind: 'ineligible', code: 'config-map-auth', reason: 'uses CONFIG_MAP' },
      );
    }

    const items = await table.list();

    expect(items.map((i) => i.cluster).sort()).toEqual(['a', 'b', 'c', 'd', 'prod']);
    const prod = items.find((i) => i.cluster === 'prod');
    expect(prod).toMatchObject({ lockRunId: 'run-1', verdict: { kind: 'eligible', code: 'eligible' } });
    expect(prod?.verdictAt).toBe(new Date(T0).toISOString());
    expect(fake.mock.commandCalls((await import('@aws-sdk/lib-dynamodb')).ScanCommand).length).toBe(3);
  });

  it('wraps other DynamoDB failures in RunsTableError naming the cluster', async () => {
    fake.failNext.push(
      Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }),
    );

    const attempt = table.takeLock(REF, 'run-1', 60);

    await expect(attempt).rejects.toBeInstanceOf(RunsTableError);
    await expect(attempt).rejects.toThrow(
      /cluster prod \(account 111111111111, eu-west-1\).*ProvisionedThroughput/,
    );
  });

  it('returns undefined for a cluster never seen', async () => {
    expect(await table.get({ ...REF, cluster: 'nope' })).toBeUndefined();
  });

  it('remembers that Falcon was installed until an uninstall removed it, and again after a new install', async () => {
    await table.recordFalconInstalled(REF, 'run-1');
    expect(await table.get(REF)).toMatchObject({ falconInstalledAt: new Date(T0).toISOString() });
    now = T0 + 60_000;
    await table.recordFalconRemoved(REF, 'run-2');
    expect(await table.get(REF)).toMatchObject({
      falconInstalledAt: new Date(T0).toISOString(),
      falconRemovedAt: new Date(T0 + 60_000).toISOString(),
    });
    now = T0 + 120_000;
    await table.recordFalconInstalled(REF, 'run-3');
    const item = await table.get(REF);
    expect(item?.falconInstalledAt).toBe(new Date(T0 + 120_000).toISOString());
    expect(item?.falconRemovedAt).toBeUndefined();
    expect(fake.items.get('111111111111#eu-west-1#prod')?.falconInstalledBy).toBe('run-3');
  });

  it('keeps the destroy mark in its own item (not a cluster, not an account) until it is lifted', async () => {
    expect(await table.destroying()).toBeUndefined();
    await table.markDestroying({
      since: '2026-11-29T10:00:00.000Z',
      by: 'arn:aws:iam::999999999999:role/Admin',
    });
    expect(await table.destroying()).toEqual({
      since: '2026-11-29T10:00:00.000Z',
      by: 'arn:aws:iam::999999999999:role/Admin',
    });
    expect(await table.list()).toEqual([]);
    expect(await table.listAccounts()).toEqual([]);
    await table.clearDestroying();
    expect(await table.destroying()).toBeUndefined();
  });

  it('gives back only its own lock, without a result', async () => {
    await table.takeLock(REF, 'run-1', 600);
    expect(await table.abandonLock(REF, 'someone-else')).toBe(false);
    expect((await table.get(REF))?.lockRunId).toBe('run-1');
    expect(await table.abandonLock(REF, 'run-1')).toBe(true);
    const item = await table.get(REF);
    expect(item?.lockRunId).toBeUndefined();
    expect(item?.lastRun).toBeUndefined();
  });

  it('scans strongly consistently when asked (destroy must see every lock taken before its mark)', async () => {
    const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
    await table.list({ consistent: true });
    await table.list();
    const calls = fake.mock.commandCalls(ScanCommand).map((c) => c.args[0].input.ConsistentRead);
    expect(calls).toEqual([true, undefined]);
  });
});

describe('runs table: what a run changes on its cluster', () => {
  let fake: FakeDynamoTable;
  let now: number;
  let table: DynamoRunsTable;
  const changes = (runId: string): ClusterChanges => ({
    runId,
    recordedAt: '2026-11-29T10:01:00.000Z',
    allowList: { original: ['198.51.100.0/24'], widened: ['198.51.100.0/24', '203.0.113.10/32'] },
    accessEntry: { principalArn: 'arn:aws:iam::111111111111:role/x', action: 'remove-entry' },
  });

  beforeEach(() => {
    fake = new FakeDynamoTable(TABLE);
    now = T0;
    table = new DynamoRunsTable(fake.client, TABLE, { now: () => now });
  });
  afterEach(() => fake.reset());

  it('records, reads and clears only while the run holds the lock', async () => {
    expect(await table.recordClusterChanges(REF, changes('run-a'))).toBe('lock-lost'); // no lock taken
    expect(await table.readClusterChanges(REF)).toBeUndefined();

    await table.takeLock(REF, 'run-a', 60);
    expect(await table.recordClusterChanges(REF, changes('run-a'))).toBe('recorded');
    expect(await table.readClusterChanges(REF)).toEqual(changes('run-a'));

    // The lease runs out and another run takes the cluster: run-a may no longer write.
    now += 120_000;
    await table.takeLock(REF, 'run-b', 60);
    expect(await table.recordClusterChanges(REF, changes('run-a'))).toBe('lock-lost');
    expect(await table.clearClusterChanges(REF, 'run-a')).toBe('lock-lost');
    // run-b sees what run-a left, undoes it and clears it.
    expect((await table.get(REF))?.clusterChanges?.runId).toBe('run-a');
    expect(await table.clearClusterChanges(REF, 'run-b')).toBe('cleared');
    expect(await table.readClusterChanges(REF)).toBeUndefined();
    expect((await table.get(REF))?.lockRunId).toBe('run-b');
  });

  it("a repair run's release keeps the last install result and stores its own apart", async () => {
    await table.takeLock(REF, 'run-1', 60);
    await table.releaseLock(result('run-1'));
    await table.takeLock(REF, 'repair-1', 60);
    const repair: RunResult = { ...result('repair-1'), mode: 'repair', outcome: 'repaired', components: [] };

    expect(await table.releaseRepairLock(repair)).toBe('released');
    expect(await table.releaseRepairLock(repair)).toBe('not-held');

    const item = await table.get(REF);
    expect(item?.lastRun?.runId).toBe('run-1');
    expect(item?.lastRepair).toEqual(repair);
    expect(item?.lockRunId).toBeUndefined();
  });
});
