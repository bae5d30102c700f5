import { describe, expect, it } from 'vitest';
import { runUninstallsBeforeDestroy, type BuildStatus } from '../../src/cluster/uninstall-runs.js';
import { RUN_ENV, type RunResult } from '../../src/eks/run-contract.js';
import type { ClusterRef, LockAttempt, RunsTableItem } from '../../src/eks/runs-table.js';
import { VirtualClock } from './harness.js';

function lastRun(
  cluster: string,
  outcome: RunResult['outcome'],
  mode: RunResult['mode'] = 'install',
): RunResult {
  return {
    runId: `old-${cluster}`,
    accountId: '111122223333',
    region: 'eu-west-1',
    cluster,
    mode,
    outcome,
    components: [],
    startedAt: '2026-11-01T00:00:00Z',
    finishedAt: '2026-11-01T00:10:00Z',
    durationsMs: {},
  };
}

/** Runs table and CodeBuild in memory: a build "runs" the uninstall and writes its result after two polls. */
class FakeHome {
  readonly items = new Map<string, RunsTableItem>();
  readonly started: Record<string, string>[] = [];
  private readonly polls = new Map<string, number>();
  failCluster: string | undefined;

  add(item: RunsTableItem): void {
    this.items.set(item.cluster, item);
  }

  table = {
    list: () => Promise.resolve([...this.items.values()]),
    get: (ref: ClusterRef) => Promise.resolve(this.items.get(ref.cluster)),
    takeLock: (ref: ClusterRef, runId: string): Promise<LockAttempt> => {
      const item = this.items.get(ref.cluster)!;
      if (item.lockRunId) return Promise.resolve({ taken: false, heldBy: item.lockRunId });
      this.items.set(ref.cluster, { ...item, lockRunId: runId });
      return Promise.resolve({ taken: true, runId, expiresAt: 0 });
    },
  };

  builds = {
    start: (env: Readonly<Record<string, string>>) => {
      this.started.push({ ...env });
      return Promise.resolve(`build-${env[RUN_ENV.cluster]}`);
    },
  };

  buildStatuses = (ids: readonly string[]): Promise<ReadonlyMap<string, BuildStatus>> => {
    const out = new Map<string, BuildStatus>();
    for (const id of ids) {
      const n = (this.polls.get(id) ?? 0) + 1;
      this.polls.set(id, n);
      const cluster = id.replace('build-', '');
      if (n < 3) {
        out.set(id, 'IN_PROGRESS');
        continue;
      }
      const env = this.started.find((s) => s[RUN_ENV.cluster] === cluster)!;
      const failed = cluster === this.failCluster;
      const item = this.items.get(cluster)!;
      this.items.set(cluster, {
        ...item,
        lockRunId: undefined,
        lastRun: {
          ...lastRun(cluster, failed ? 'failed' : 'uninstalled', 'uninstall'),
          runId: env[RUN_ENV.runId],
          ...(failed ? { reason: 'the operator to remove FalconNodeSensor: not done after 600 s' } : {}),
        },
      });
      out.set(id, failed ? 'FAILED' : 'SUCCEEDED');
    }
    return Promise.resolve(out);
  };
}

const ref = (cluster: string) => ({ accountId: '111122223333', region: 'eu-west-1', cluster });

describe('uninstall runs before destroy', () => {
  it('starts uninstall runs only for clusters with an install, waits for them and reports each', async () => {
    const home = new FakeHome();
    home.add({ ...ref('a'), lastRun: lastRun('a', 'protected') });
    home.add({ ...ref('b'), lastRun: lastRun('b', 'failed') });
    home.add({ ...ref('c'), lastRun: lastRun('c', 'not-reachable') });
    home.add({ ...ref('d'), lastRun: lastRun('d', 'uninstalled', 'uninstall') });
    home.add({ ...ref('e') });
    home.add({ ...ref('f'), lastRun: lastRun('f', 'upgraded'), lockRunId: 'running-install' });
    home.failCluster = 'b';
    const clock = new VirtualClock();
    let n = 0;

    const results = await runUninstallsBeforeDestroy({
      table: home.table,
      builds: home.builds,
      buildStatuses: home.buildStatuses,
      partition: 'aws',
      executionRoleName: 'falcon-org-eks-execution',
      lockTtlSeconds: 3600,
      deadlineSeconds: 3600,
      clock,
      newRunId: () => `uninstall-${++n}`,
    });

    expect(home.started).toEqual([
      expect.objectContaining({
        [RUN_ENV.cluster]: 'a',
        [RUN_ENV.mode]: 'uninstall',
        [RUN_ENV.region]: 'eu-west-1',
      }),
      expect.objectContaining({ [RUN_ENV.cluster]: 'b', [RUN_ENV.mode]: 'uninstall' }),
    ]);
    expect(home.started[0]?.[RUN_ENV.executionRoleArn]).toBe(
      'arn:aws:iam::111122223333:role/falcon-org-eks-execution',
    );
    expect(results).toEqual([
      { ...ref('f'), status: 'in-progress', reason: 'run running-install holds the cluster' },
      { ...ref('a'), status: 'uninstalled' },
      {
        ...ref('b'),
        status: 'failed',
        reason: 'the operator to remove FalconNodeSensor: not done after 600 s',
      },
    ]);
    expect(clock.now() - Date.parse('2026-11-29T12:00:00Z')).toBe(30_000);
  });

  it('reports runs still going at the deadline as timed out', async () => {
    const home = new FakeHome();
    home.add({ ...ref('a'), lastRun: lastRun('a', 'protected') });
    const results = await runUninstallsBeforeDestroy({
      table: home.table,
      builds: home.builds,
      buildStatuses: () => Promise.resolve(new Map([['build-a', 'IN_PROGRESS' as const]])),
      partition: 'aws',
      executionRoleName: 'x',
      lockTtlSeconds: 3600,
      deadlineSeconds: 60,
      clock: new VirtualClock(),
    });
    expect(results).toEqual([{ ...ref('a'), status: 'timed-out', reason: 'build build-a still running' }]);
  });
});
