import { describe, expect, it } from 'vitest';
import { OwnershipRecordError } from '../../src/ecr/errors.js';
import { OwnershipLedger, parseRecord } from '../../src/ecr/ownership.js';
import { MemoryOwnershipStore } from './memory-ownership-store.js';

const ACCOUNT = '123456789012';

describe('ownership ledger', () => {
  it('writes every change through, and concurrent changes all survive', async () => {
    const store = new MemoryOwnershipStore();
    const ledger = await OwnershipLedger.open(store, 'prod', ACCOUNT);

    await Promise.all([
      ledger.recordOwned('us-east-1', 'a'),
      ledger.recordOwned('eu-west-1', 'b'),
      ledger.markPending('ap-south-1'),
    ]);

    expect(store.record).toMatchObject({
      connections: { 'us-east-1': 'a', 'eu-west-1': 'b' },
      pending: ['ap-south-1'],
    });
    // Changes waiting for the same write share it (SSM PutParameter allows only a few calls per second).
    expect(store.saves).toBe(1);
  });

  it('writes changes made during a write in one more write, which carries all of them', async () => {
    const store = new MemoryOwnershipStore();
    const ledger = await OwnershipLedger.open(store, 'prod', ACCOUNT);
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const firstStarted = new Promise<void>((resolve) => (started = resolve));
    const save = store.save.bind(store);
    let calls = 0;
    store.save = async (record) => {
      calls += 1;
      if (calls === 1) {
        started();
        await new Promise<void>((resolve) => (release = resolve));
      }
      return save(record);
    };

    const first = ledger.markPending('us-east-1');
    await firstStarted;
    const later = [ledger.recordOwned('us-east-1', 'a'), ledger.recordOwned('eu-west-1', 'b')];
    release();
    await Promise.all([first, ...later]);

    expect(calls).toBe(2);
    expect(store.record).toMatchObject({ connections: { 'us-east-1': 'a', 'eu-west-1': 'b' }, pending: [] });
  });

  it('does not start a queued write once the run was abandoned', async () => {
    const store = new MemoryOwnershipStore();
    const controller = new AbortController();
    const ledger = await OwnershipLedger.open(store, 'prod', ACCOUNT, controller.signal);

    const queued = ledger.recordOwned('us-east-1', 'a');
    controller.abort();

    await expect(queued).rejects.toThrow(OwnershipRecordError);
    expect(store.saves).toBe(0);
  });

  it('refuses writes once the run was abandoned at its deadline', async () => {
    const store = new MemoryOwnershipStore();
    const controller = new AbortController();
    const ledger = await OwnershipLedger.open(store, 'prod', ACCOUNT, controller.signal);
    await ledger.recordOwned('us-east-1', 'a');

    controller.abort();

    await expect(ledger.recordOwned('eu-west-1', 'b')).rejects.toThrow(OwnershipRecordError);
    expect(store.record.connections).toEqual({ 'us-east-1': 'a' });
  });

  it('refuses a record of another account', async () => {
    const store = new MemoryOwnershipStore({
      version: 1,
      deploymentId: 'prod',
      accountId: '210987654321',
      connections: {},
      pending: [],
    });
    await expect(OwnershipLedger.open(store, 'prod', ACCOUNT)).rejects.toThrow(
      /belongs to account 210987654321/,
    );
  });

  it('names what is wrong with a malformed record', () => {
    expect(() => parseRecord('not json', 'here')).toThrow('here: the ownership record is not JSON');
    expect(() =>
      parseRecord(
        JSON.stringify({ version: 1, deploymentId: 'p', accountId: ACCOUNT, connections: { x: 1 } }),
        'here',
      ),
    ).toThrow(/connections to map regions to connection IDs/);
  });

  it('keeps fingerprints and provisional regions, drops them with the region, and confirm clears provisional', async () => {
    const store = new MemoryOwnershipStore();
    const ledger = await OwnershipLedger.open(store, 'prod', ACCOUNT);
    ledger.startProvisional();
    await ledger.markPending('us-east-1', 'f1');
    await ledger.recordOwned('us-east-1', 'a', 'f1');
    await ledger.markPending('eu-west-1', 'f2');

    expect(store.record).toMatchObject({
      connections: { 'us-east-1': 'a' },
      pending: ['eu-west-1'],
      fingerprints: { 'us-east-1': 'f1', 'eu-west-1': 'f2' },
      provisional: ['us-east-1', 'eu-west-1'],
    });
    await ledger.forget('eu-west-1');
    expect(store.record.provisional).toEqual(['us-east-1']);
    expect(store.record.fingerprints).toEqual({ 'us-east-1': 'f1' });
    await ledger.confirm();
    expect(store.record).not.toHaveProperty('provisional');
    const saves = store.saves;
    await ledger.confirm();
    expect(store.saves).toBe(saves);
    expect(() =>
      parseRecord(
        JSON.stringify({
          version: 1,
          deploymentId: 'p',
          accountId: ACCOUNT,
          connections: {},
          provisional: 'x',
        }),
        'here',
      ),
    ).toThrow(/provisional to be a list of regions/);
  });
});
