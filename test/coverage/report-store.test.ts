/**
 * The ReportStore a run streams its accounts to: items go to the spool file and come back exactly,
 * per account and per feature; what stays in memory per cell is the cell's summary, whose counts and
 * reasons are shared with every other cell that says the same (so memory grows with the organization by
 * a few pointers per cell, not by its reasons and counts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountResult } from '../../src/coverage/build.js';
import { cellOf, unknownCell } from '../../src/coverage/cells.js';
import type { AccountDetails, CoverageItem, ReportScope } from '../../src/coverage/model.js';
import { groupsOf, ReportStore } from '../../src/coverage/report-store.js';

const REGIONS = ['eu-west-1', 'us-east-1'];
let store: ReportStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

function instance(account: string, region: string, n: number, managed: boolean): CoverageItem {
  return managed
    ? {
        kind: 'instance',
        id: `i-${account}${region.length}${n}`,
        state: 'protected',
        reasons: [{ code: 'reporting', text: 'Falcon sees the sensor.' }],
        facts: { region },
      }
    : {
        kind: 'instance',
        id: `i-${account}${region.length}${n}`,
        state: 'unprotected',
        reasons: [
          { code: 'not-ssm-managed', text: `Not covered: not SSM-managed. Instance ${n} has no agent.` },
        ],
        facts: { region },
      };
}

function account(n: number): AccountResult {
  const id = String(100000000000 + n);
  return {
    account: { id, name: `account-${n}`, readable: true },
    cells: REGIONS.flatMap((region) => [
      cellOf(
        { accountId: id, region, feature: 'ssmDistributor' },
        [instance(id, region, 1, true), instance(id, region, 2, false)],
        [],
        'instance',
      ),
      unknownCell(
        { accountId: id, region, feature: 'eksProtection' },
        { code: 'region-unreadable', text: 'Could not be read: AccessDenied.' },
      ),
    ]),
  };
}

/** The scope of the reports these tests build. */
const SCOPE = {
  partition: 'aws',
  homeRegion: 'us-east-1',
  targets: ['r-ab12'],
  excludeAccounts: [],
  features: ['ssmDistributor', 'eksProtection'],
} satisfies ReportScope;

describe('ReportStore', () => {
  it("gives back each account's items exactly, by feature group and as the account's details", async () => {
    store = await ReportStore.open();
    const results = [account(2), account(1), account(3)];
    for (const r of results) await store.add(r);
    const summary = store.summary({
      generatedAt: '2026-11-29T06:00:00.000Z',
      scope: SCOPE,
      accounts: results.map((r) => r.account),
    });
    for (const group of groupsOf(summary.cells)) {
      const items = await store.itemsOf(group.cells);
      const source = results.find((r) => r.account.id === group.accountId);
      expect(items.map((t) => JSON.parse(t) as unknown)).toEqual(
        group.cells.map(
          (c) =>
            source?.cells.find((x) => x.feature === c.feature && x.region === c.region)?.items ?? 'missing',
        ),
      );
    }
    const details = JSON.parse(
      (await store.accountDetails('100000000003', '2026-11-29T06:00:00.000Z')) ?? '{}',
    ) as AccountDetails;
    expect(details.account.id).toBe('100000000003');
    expect(details.cells.map((c) => [c.feature, c.region, c.items.length])).toEqual([
      ['ssmDistributor', 'eu-west-1', 2],
      ['ssmDistributor', 'us-east-1', 2],
      ['eksProtection', 'eu-west-1', 0],
      ['eksProtection', 'us-east-1', 0],
    ]);
    expect(await store.accountDetails('999999999999', '2026-11-29T06:00:00.000Z')).toBeUndefined();
  });

  it('keeps per cell only its summary, sharing counts and reasons between cells that say the same', async () => {
    store = await ReportStore.open();
    for (let n = 0; n < 50; n += 1) await store.add(account(n));
    const summary = store.summary({
      generatedAt: '2026-11-29T06:00:00.000Z',
      scope: SCOPE,
      accounts: [],
    });
    const ssm = summary.cells.filter((c) => c.feature === 'ssmDistributor');
    const eks = summary.cells.filter((c) => c.feature === 'eksProtection');
    expect(ssm).toHaveLength(100);
    expect(summary.cells.every((c) => !('items' in c))).toBe(true);
    // One counts object and one reasons list for the 100 SSM cells, one of each for the EKS cells.
    expect(new Set(ssm.map((c) => c.counts)).size).toBe(1);
    expect(new Set(ssm.map((c) => c.reasons)).size).toBe(1);
    expect(new Set(eks.map((c) => c.counts)).size).toBe(1);
    expect(new Set(eks.map((c) => c.reasons)).size).toBe(1);
    expect(ssm[0]?.reasons).toEqual([
      { code: 'not-ssm-managed', text: '1 instance: Not covered: not SSM-managed' },
    ]);
    expect(ssm[0]?.counts).toEqual({
      total: 2,
      protected: 1,
      partial: 0,
      unprotected: 1,
      notApplicable: 0,
      unknown: 0,
    });
  });
});
