/**
 * What `destroy` does to clusters before the infrastructure goes: wait for the runs already in
 * flight, then one uninstall run per cluster Falcon was ever installed on (through the same
 * CodeBuild project, run lock and start as every other run), waiting for each to end, and a status
 * per cluster — including the ones it could not reach and the ones the caller chose to skip.
 */
import type { RunOutcome } from '../eks/run-contract.js';
import type { ClusterRef, RunsTable, RunsTableItem } from '../eks/runs-table.js';
import type { RunStarter } from '../eks/start-run.js';
import { systemClock, type DeployerClock } from './wait.js';

/** How a build ended, as CodeBuild reports it. */
export type BuildStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'STOPPED' | 'TIMED_OUT';

/** Clusters destroy leaves alone (a closed or suspended account must not hold up every other one). */
export interface ClusterSkips {
  /** Every cluster of these accounts. */
  readonly accounts: readonly string[];
  readonly clusters: readonly ClusterRef[];
}

export interface UninstallRunsDeps {
  readonly table: Pick<RunsTable, 'list' | 'get'>;
  /** Starts uninstall runs (mode "uninstall": not refused while the deployment is being destroyed). */
  readonly runs: Pick<RunStarter, 'start'>;
  /** Current status of builds by ID (CodeBuild BatchGetBuilds). */
  buildStatuses(ids: readonly string[]): Promise<ReadonlyMap<string, BuildStatus>>;
  /** How long to wait for every uninstall run to end. */
  readonly deadlineSeconds: number;
  readonly skip?: ClusterSkips;
  readonly clock?: DeployerClock;
  readonly progress?: (line: string) => void;
}

export type UninstallStatus =
  /** Falcon is gone (or so is the cluster). */
  | 'uninstalled'
  /** The run could not reach the cluster (private endpoint, allow-list, access): Falcon stays. */
  | 'not-reachable'
  | 'failed'
  /** Another run held the cluster's lock. */
  | 'in-progress'
  | 'timed-out'
  /** Left alone on request (--skip-account / --skip-cluster): Falcon stays. */
  | 'skipped';

export interface ClusterUninstall extends ClusterRef {
  readonly status: UninstallStatus;
  readonly reason?: string;
}

/** How often build statuses and locks are read while waiting. */
const POLL_MS = 15_000;

/**
 * Clusters Falcon may be on: an install run began writing to it and no uninstall removed it since.
 * Items from before the runs table recorded installs fall back to their last run (an install that
 * applied something, or an uninstall that did not finish).
 */
export function needsUninstall(item: RunsTableItem): boolean {
  if (item.falconInstalledAt !== undefined) return item.falconRemovedAt === undefined;
  const run = item.lastRun;
  if (!run) return false;
  if (run.mode === 'uninstall') return run.outcome === 'failed' || run.outcome === 'not-reachable';
  const applied: readonly RunOutcome[] = ['protected', 'already-protected', 'upgraded', 'failed'];
  return applied.includes(run.outcome);
}

/** Whether the caller asked to leave this cluster alone. */
export function isSkipped(ref: ClusterRef, skip: ClusterSkips | undefined): boolean {
  if (!skip) return false;
  return (
    skip.accounts.includes(ref.accountId) ||
    skip.clusters.some(
      (c) => c.accountId === ref.accountId && c.region === ref.region && c.cluster === ref.cluster,
    )
  );
}

/**
 * Reads `ACCOUNT/REGION/CLUSTER` or a cluster ARN (`arn:aws:eks:REGION:ACCOUNT:cluster/NAME`);
 * the error says which form is expected.
 */
export function parseClusterRef(text: string): ClusterRef | { readonly error: string } {
  const arn = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):(\d{12}):cluster\/([0-9A-Za-z][A-Za-z0-9_-]*)$/.exec(text);
  if (arn) return { accountId: arn[2] ?? '', region: arn[1] ?? '', cluster: arn[3] ?? '' };
  const parts = /^(\d{12})\/([a-z0-9-]+)\/([0-9A-Za-z][A-Za-z0-9_-]*)$/.exec(text);
  if (parts) return { accountId: parts[1] ?? '', region: parts[2] ?? '', cluster: parts[3] ?? '' };
  return {
    error: `"${text}" is not a cluster: expected ACCOUNT/REGION/NAME (e.g. 111122223333/eu-west-1/prod) or a cluster ARN`,
  };
}

/**
 * Waits until no run holds a cluster lock (the runs started before the deployment was marked as
 * being destroyed), at most `deadlineSeconds` — a lock never outlives its TTL, so the lock TTL is
 * enough. Returns the items still locked at the deadline.
 */
export async function waitForRunsInFlight(
  table: Pick<RunsTable, 'list'>,
  deadlineSeconds: number,
  clock: DeployerClock = systemClock,
  progress: (line: string) => void = () => undefined,
): Promise<RunsTableItem[]> {
  const deadline = clock.now() + deadlineSeconds * 1000;
  let reported = -1;
  for (;;) {
    const nowSeconds = Math.floor(clock.now() / 1000);
    const held = (await table.list({ consistent: true })).filter(
      (i) => i.lockRunId !== undefined && (i.lockExpiresAt ?? 0) >= nowSeconds,
    );
    if (held.length === 0) return [];
    if (held.length !== reported) {
      reported = held.length;
      progress(
        `Waiting for ${held.length} deployer run(s) already in flight: ${held
          .slice(0, 5)
          .map((i) => `${i.cluster} (${i.accountId}/${i.region}, run ${i.lockRunId ?? '?'})`)
          .join(', ')}${held.length > 5 ? ', …' : ''}`,
      );
    }
    if (clock.now() >= deadline) return held;
    await clock.sleep(Math.min(POLL_MS, Math.max(1, deadline - clock.now())));
  }
}

/**
 * Starts one uninstall run per cluster that needs one (skipped ones are reported, not started),
 * waits until every run has ended or the deadline passed, and reports each cluster.
 */
export async function runUninstallsBeforeDestroy(deps: UninstallRunsDeps): Promise<ClusterUninstall[]> {
  const clock = deps.clock ?? systemClock;
  const say = deps.progress ?? (() => undefined);
  const items = (await deps.table.list({ consistent: true })).filter(needsUninstall);
  const started: { ref: ClusterRef; runId: string; buildId: string }[] = [];
  const results: ClusterUninstall[] = [];
  for (const item of items) {
    const ref = refOf(item);
    if (isSkipped(ref, deps.skip)) {
      results.push({ ...ref, status: 'skipped', reason: 'skipped on request: Falcon stays on this cluster' });
      continue;
    }
    const run = await deps.runs.start(ref, 'nodes', 'uninstall');
    switch (run.status) {
      case 'started':
        started.push({ ref, runId: run.runId, buildId: run.buildId });
        say(`uninstall run ${run.runId} started for ${ref.cluster} (${ref.accountId}/${ref.region})`);
        break;
      case 'in-progress':
        results.push({ ...ref, status: 'in-progress', reason: `run ${run.heldBy ?? '?'} holds the cluster` });
        break;
      default:
        results.push({ ...ref, status: 'failed', reason: run.reason });
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
      const last = (await deps.table.get(p.ref))?.lastRun;
      const ours = last?.runId === p.runId ? last : undefined;
      if (ours?.outcome === 'uninstalled') {
        results.push({ ...p.ref, status: 'uninstalled' });
        continue;
      }
      results.push({
        ...p.ref,
        status: ours?.outcome === 'not-reachable' ? 'not-reachable' : 'failed',
        reason: ours?.reason ?? `build ${p.buildId} ended ${status} without a result`,
      });
    }
    pending = still;
    if (pending.length === 0) break;
    if (clock.now() >= deadline) {
      for (const p of pending) {
        results.push({ ...p.ref, status: 'timed-out', reason: `build ${p.buildId} still running` });
      }
      break;
    }
    await clock.sleep(POLL_MS);
  }
  return results;
}

function refOf(item: RunsTableItem): ClusterRef {
  return { accountId: item.accountId, region: item.region, cluster: item.cluster };
}
