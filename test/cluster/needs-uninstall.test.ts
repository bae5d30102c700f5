import { describe, expect, it } from 'vitest';
import { needsUninstall } from '../../src/cluster/uninstall-runs.js';
import type { RunResult } from '../../src/eks/run-contract.js';

const item = (mode: RunResult['mode'], outcome: RunResult['outcome']) => ({
  accountId: '111122223333',
  region: 'eu-west-1',
  cluster: 'prod',
  lastRun: {
    runId: 'r',
    accountId: '111122223333',
    region: 'eu-west-1',
    cluster: 'prod',
    mode,
    outcome,
    components: [],
    startedAt: '2026-11-01T00:00:00Z',
    finishedAt: '2026-11-01T00:10:00Z',
    durationsMs: {},
  },
});

describe('which clusters destroy uninstalls from', () => {
  it('a cluster Falcon was ever installed on, whatever its last run says, until an uninstall removed it', () => {
    const protectedOnce = { falconInstalledAt: '2026-10-01T00:00:00Z' };
    expect(needsUninstall({ ...item('install', 'not-reachable'), ...protectedOnce })).toBe(true);
    expect(needsUninstall({ ...item('install', 'opted-out'), ...protectedOnce })).toBe(true);
    expect(
      needsUninstall({
        ...item('uninstall', 'uninstalled'),
        ...protectedOnce,
        falconRemovedAt: '2026-11-01T00:10:00Z',
      }),
    ).toBe(false);
  });

  it('a cluster whose uninstall failed or could not reach it still has sensors: the next destroy tries again', () => {
    expect(needsUninstall(item('uninstall', 'failed'))).toBe(true);
    expect(needsUninstall(item('uninstall', 'not-reachable'))).toBe(true);
  });

  it('(items from before installs were recorded) a finished uninstall, an install that never reached the cluster and a cluster never run are left alone', () => {
    expect(needsUninstall(item('uninstall', 'uninstalled'))).toBe(false);
    expect(needsUninstall(item('install', 'not-reachable'))).toBe(false);
    expect(needsUninstall({ accountId: '111122223333', region: 'eu-west-1', cluster: 'prod' })).toBe(false);
    expect(needsUninstall(item('install', 'failed'))).toBe(true);
  });
});
