import { randomUUID } from 'node:crypto';
import type { RunOutcome, RunRequest } from '../eks/run-contract.js';
import type { RunsTable, RunsTableItem } from '../eks/runs-table.js';
import { runEnvironment, type BuildStarter } from '../eks/start-run.js';
import { systemClock, type DeployerClock } from './wait.js';
import { describeError } from '../shared/describe-error.js';

/** How a build ended, as CodeBuild reports it. */
export type BuildStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'STOPPED' | 'TIMED_OUT';

export interface UninstallRunsDeps {
  readonly table: Pick<RunsTable, 'list' | 'takeLock' | 'get'>;
  readonly builds: BuildStarter;
  /** Current status of builds by ID (CodeBuild BatchGetBuilds). */
  buildStatuses(ids: readonly string[]): Promise<ReadonlyMap<string, BuildStatus>>;
  readonly partition: string;
  readonly executionRoleName: string;
  readonly lockTtlSeconds: number;
  /** How long to wait for every uninstall run to end. */
  readonly deadlineSeconds: number;
  readonly clock?: DeployerClock;
  readonly newRunId?: () => string;
  readonly progress?: (line: string) => void;
}

export interface ClusterUninstall {
  readonly accountId: string;
  readonly region: string;
  readonly cluster: string;
  readonly status: 'uninstalled' | 'failed' | 'in-progress' | 'timed-out';
  readonly reason?: string;
}

/**
 * Clusters whose last run may have left Falcon on them: an install that applied something, or an
 * uninstall that did not finish (a failed or unreachable uninstall leaves the sensors in place, and
 * the next destroy must try again rather than forget the cluster).
 */
export function needsUninstall(item: RunsTableItem): boolean {
  const run = item.lastRun;
  if (!run) return false;
  if (run.mode === 'uninstall') return run.outcome === 'failed' || run.outcome === 'not-reachable';
  const applied: readonly RunOutcome[] = ['protected', 'already-protected', 'upgraded', 'failed'];
  return applied.includes(run.outcome);
}

/**
 * Before the infrastructure goes (`falcon-org destroy`): starts one uninstall run per cluster the
 * deployer installed to, through the same CodeBuild project and run lock, and waits until they
 * have ended, so no cluster keeps sensors that nothing could remove any more.
 */
export async function runUninstallsBeforeDestroy(deps: UninstallRunsDeps): Promise<ClusterUninstall[]> {
  const clock = deps.clock ?? systemClock;
  const newRunId = deps.newRunId ?? randomUUID;
  const say = deps.progress ?? (() => undefined);
  const items = (await deps.table.list()).filter(needsUninstall);
  const started: { item: RunsTableItem; runId: string; buildId: string }[] = [];
  const results: ClusterUninstall[] = [];
  const ref = (i: RunsTableItem) => ({ accountId: i.accountId, region: i.region, cluster: i.cluster });
  for (const item of items) {
    const runId = newRunId();
    const lock = await deps.table.takeLock(ref(item), runId, deps.lockTtlSeconds);
    if (!lock.taken) {
      results.push({
        ...ref(item),
        status: 'in-progress',
        reason: `run ${lock.heldBy ?? '?'} holds the cluster`,
      });
      continue;
    }
    const request: RunRequest = {
      ...ref(item),
      compute: 'nodes',
      executionRoleArn: `arn:${deps.partition}:iam::${item.accountId}:role/${deps.executionRoleName}`,
      runId,
      mode: 'uninstall',
    };
    try {
      const buildId = await deps.builds.start(runEnvironment(request));
      started.push({ item, runId, buildId });
      say(`uninstall run ${runId} started for ${item.cluster} (${item.accountId}/${item.region})`);
    } catch (error) {
      results.push({ ...ref(item), status: 'failed', reason: `could not start: ${describeError(error)}` });
    }
  }
  const deadline = clock.now() + deps.deadlineSeconds * 1000;
  let pending = started;
  while (pending.length > 0) {
    const statuses = await deps.buildStatuses(pending.map((p) => p.buildId));
    const still: typeof pending = [];
    for (const p of pending) {
      const status = statuses.get(p.buildId) ?? 'IN_PROGRESS';
      if (status === 'IN_PROGRESS') {
        still.push(p);
        continue;
      }
      const last = (await deps.table.get(ref(p.item)))?.lastRun;
      const ours = last?.runId === p.runId ? last : undefined;
      results.push({
        ...ref(p.item),
        status: ours?.outcome === 'uninstalled' ? 'uninstalled' : 'failed',
        ...(ours?.outcome !== 'uninstalled'
          ? { reason: ours?.reason ?? `build ${p.buildId} ended ${status} without a result` }
          : {}),
      });
    }
    pending = still;
    if (pending.length === 0) break;
    if (clock.now() >= deadline) {
      for (const p of pending) {
        results.push({ ...ref(p.item), status: 'timed-out', reason: `build ${p.buildId} still running` });
      }
      break;
    }
    await clock.sleep(15_000);
  }
  return results;
}
