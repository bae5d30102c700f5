import { describe, expect, it } from 'vitest';
import type { DesiredState, RunResult } from '../../src/eks/run-contract.js';
import { decideRun, pendingFollowUp } from '../../src/eks/run-decision.js';
import { runStateUpdate } from '../../src/eks/run-state.js';
import type { RunsTableItem } from '../../src/eks/runs-table.js';

const T0 = Date.parse('2030-03-01T00:00:00Z');
const H = 3_600_000;
const REF = { accountId: '111111111111', region: 'us-east-1', cluster: 'c' };
const DESIRED: DesiredState = { fingerprint: 'a'.repeat(32), operatorVersion: '1.13.0', compute: 'nodes' };

function result(outcome: RunResult['outcome'], at: number, mode: RunResult['mode'] = 'install'): RunResult {
  const iso = new Date(at).toISOString();
  return {
    runId: `run-${at}`,
    ...REF,
    mode,
    outcome,
    components: [],
    startedAt: iso,
    finishedAt: iso,
    durationsMs: {},
  };
}

const protectedItem: RunsTableItem = {
  ...REF,
  lastRun: result('protected', T0),
  protectedState: { ...DESIRED, at: new Date(T0).toISOString(), runId: 'run-0' },
};

describe('decideRun', () => {
  it('leaves an up-to-date cluster alone and builds a changed one', () => {
    expect(decideRun({ item: protectedItem, desired: DESIRED, now: T0 + 48 * H })).toMatchObject({
      build: false,
      code: 'up-to-date',
    });
    const changed = decideRun({
      item: protectedItem,
      desired: { ...DESIRED, fingerprint: 'b'.repeat(32), operatorVersion: '1.14.0' },
      now: T0,
    });
    expect(changed).toMatchObject({ build: true, code: 'changed' });
    expect(changed.reason).toContain('operator 1.13.0 → 1.14.0');
  });

  it('builds a never-protected cluster and one protected before fingerprints were kept', () => {
    expect(decideRun({ item: undefined, desired: DESIRED, now: T0 }).code).toBe('never-protected');
    const legacy: RunsTableItem = { ...REF, lastRun: result('protected', T0) };
    expect(decideRun({ item: legacy, desired: DESIRED, now: T0 })).toMatchObject({
      build: true,
      code: 'never-protected',
    });
  });

  it('caps the backoff at the maximum (24 h by default)', () => {
    const failing: RunsTableItem = {
      ...protectedItem,
      lastRun: result('not-reachable', T0),
      failureStreak: 9,
    };
    expect(decideRun({ item: failing, desired: DESIRED, now: T0 + 23 * H }).code).toBe('backing-off');
    expect(decideRun({ item: failing, desired: DESIRED, now: T0 + 24 * H }).code).toBe('retry');
  });

  it('rebuilds a cluster coverage says does not (fully) report, with the same backoff between repairs', () => {
    expect(decideRun({ item: protectedItem, desired: DESIRED, now: T0, coverage: 'partial' })).toMatchObject({
      build: true,
      code: 'repair',
    });
    const repaired: RunsTableItem = {
      ...protectedItem,
      repairStreak: 1,
      lastTrigger: { runId: 'r', reason: 'repair', at: new Date(T0).toISOString() },
    };
    expect(
      decideRun({ item: repaired, desired: DESIRED, now: T0 + H / 2, coverage: 'not-reporting' }).code,
    ).toBe('backing-off');
    expect(decideRun({ item: repaired, desired: DESIRED, now: T0 + H, coverage: 'not-reporting' }).code).toBe(
      'repair',
    );
    expect(decideRun({ item: repaired, desired: DESIRED, now: T0, coverage: 'reporting' }).code).toBe(
      'up-to-date',
    );
  });

  it('serves a follow-up only until a run started after it has finished', () => {
    const at = new Date(T0 + H).toISOString();
    const waiting: RunsTableItem = { ...protectedItem, followUp: { reason: 'CreateFargateProfile', at } };
    expect(pendingFollowUp(waiting)).toBeDefined();
    expect(decideRun({ item: waiting, desired: DESIRED, now: T0 + 2 * H }).code).toBe('requested');
    const served: RunsTableItem = { ...waiting, lastRun: result('protected', T0 + 2 * H) };
    expect(pendingFollowUp(served)).toBeUndefined();
  });
});

describe('runStateUpdate (what a released result does to the record)', () => {
  it('keeps the desired state of a good install, counts failures, forgets it on uninstall', () => {
    expect(runStateUpdate({ ...result('protected', T0), desiredState: DESIRED }).set).toMatchObject({
      failureStreak: 0,
      protectedState: { ...DESIRED, runId: `run-${T0}` },
    });
    expect(runStateUpdate(result('failed', T0)).add).toEqual({ failureStreak: 1 });
    expect(runStateUpdate(result('uninstalled', T0, 'uninstall')).remove).toEqual(['protectedState']);
  });
});
