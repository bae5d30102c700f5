/**
 * Starting one deployer run — the one place every build of the deployer project is started from
 * (discovery, events, and destroy's uninstall runs): take the cluster's run lock, check that the
 * deployment is not being destroyed (install runs), then start the HOME region's CodeBuild project
 * with the cluster named in environment overrides (RUN_ENV) and the run ID as idempotency token.
 * The cluster's own region is an input of the run, never where it is started: the project exists
 * only in the home region.
 */
import { randomUUID } from 'node:crypto';
import { StartBuildCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { isThrottlingError } from '../fanout/throttling.js';
import { retryDelay, type BackoffPolicy } from '../shared/backoff.js';
import { describeError } from '../shared/describe-error.js';
import { RUN_ENV, type ComputeMode, type RunMode, type RunRequest, type RunResult } from './run-contract.js';
import type { ClusterChangesTable, ClusterRef, RunsTable } from './runs-table.js';

/** Starts one build of the deployer project; the adapter is bound to the home region. */
export interface BuildStarter {
  /**
   * Returns the build ID. `idempotencyToken` (the run ID) makes a retried request — an SDK retry
   * after an answer that was lost — return the same build instead of starting a second one.
   */
  start(environment: Readonly<Record<string, string>>, idempotencyToken: string): Promise<string>;
}

/** What happened when a run was asked for. */
export type RunStart =
  | {
      readonly status: 'started';
      readonly runId: string;
      readonly buildId: string;
      /** Present for a run that only undoes what a killed run left (`repair`). */
      readonly mode?: 'repair';
    }
  /** Another run holds the cluster's lock (duplicate event, or discovery overlapping an event). */
  | { readonly status: 'in-progress'; readonly heldBy?: string }
  /**
   * CodeBuild refused for capacity (AccountLimitExceeded, throttling) after every retry: the lock was
   * given back and nothing recorded against the cluster; the next sweep (or follow-up) starts it.
   */
  | { readonly status: 'deferred'; readonly reason: string }
  /** The deployment is being destroyed: no install run starts (the lock was given back). */
  | { readonly status: 'stopped'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string };

export interface RunStarterSettings {
  readonly partition: string;
  readonly executionRoleName: string;
  readonly lockTtlSeconds: number;
  /** @default randomUUID */
  readonly newRunId?: () => string;
  /** @default Date.now */
  readonly now?: () => number;
  /** Retries of a StartBuild CodeBuild refused for capacity. @default START_RETRY */
  readonly startRetry?: BackoffPolicy;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A refused StartBuild is tried 5 times over about a minute before the run is deferred. */
export const START_RETRY: BackoffPolicy = { retries: 4, baseDelayMs: 4_000, maxDelayMs: 30_000 };

/**
 * CodeBuild said "not now", not "no": the concurrent-build quota and its queue are full
 * (`AccountLimitExceededException`), or the API throttled. Never a failure of the cluster.
 */
export function isBuildCapacityRefusal(error: unknown): boolean {
  return (
    (error instanceof Error && error.name === 'AccountLimitExceededException') || isThrottlingError(error)
  );
}

export class RunStarter {
  private readonly newRunId: () => string;
  private readonly now: () => number;

  constructor(
    private readonly table: RunsTable & Partial<Pick<ClusterChangesTable, 'releaseRepairLock'>>,
    private readonly builds: BuildStarter,
    private readonly settings: RunStarterSettings,
  ) {
    this.newRunId = settings.newRunId ?? randomUUID;
    this.now = settings.now ?? Date.now;
  }

  /**
   * Takes the lock and starts the build; a build that cannot start frees the lock with a failed
   * result. `repair` starts a run that only undoes what a killed run left on the cluster. Install
   * runs are refused while the deployment is being destroyed; uninstall runs (which destroy itself
   * starts) are not.
   */
  async start(ref: ClusterRef, compute: ComputeMode, mode: RunMode = 'install'): Promise<RunStart> {
    const runId = this.newRunId();
    const lock = await this.table.takeLock(ref, runId, this.settings.lockTtlSeconds);
    if (!lock.taken) return { status: 'in-progress', ...(lock.heldBy ? { heldBy: lock.heldBy } : {}) };
    if (mode === 'install') {
      const stopped = await destroyingCheck(this.table, ref, runId);
      if (stopped) return stopped;
    }
    const request: RunRequest = {
      ...ref,
      compute,
      executionRoleArn: `arn:${this.settings.partition}:iam::${ref.accountId}:role/${this.settings.executionRoleName}`,
      runId,
      mode,
    };
    const startedAt = new Date(this.now()).toISOString();
    const policy = this.settings.startRetry ?? START_RETRY;
    const sleep = this.settings.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let retry = 0; ; retry += 1) {
      try {
        // The same run ID as idempotency token: a retry never starts a second build.
        const buildId = await this.builds.start(runEnvironment(request), runId);
        return { status: 'started', runId, buildId, ...(mode === 'repair' ? { mode } : {}) };
      } catch (error) {
        if (!isBuildCapacityRefusal(error)) return this.failedToStart(request, startedAt, error);
        if (retry >= policy.retries) {
          await this.table.abandonLock(ref, runId).catch(() => undefined); // else it expires on its own
          return {
            status: 'deferred',
            reason: `CodeBuild refused the build ${retry + 1} times (${describeError(error)}): its concurrent-build quota and queue are full; not a failure of the cluster, the next sweep starts it`,
          };
        }
        await sleep(retryDelay(policy, retry, undefined));
      }
    }
  }

  /** A build that could not start: the lock is freed now with a failed result that says why. */
  private async failedToStart(request: RunRequest, startedAt: string, error: unknown): Promise<RunStart> {
    const { runId, mode } = request;
    const ref = { accountId: request.accountId, region: request.region, cluster: request.cluster };
    const reason = `could not start the deployer build: ${describeError(error)}`;
    const result: RunResult = {
      runId,
      ...ref,
      mode,
      outcome: 'failed',
      reason,
      components: [],
      startedAt,
      finishedAt: new Date(this.now()).toISOString(),
      durationsMs: {},
    };
    // Free the cluster now instead of leaving it locked for the whole TTL, and say why (a repair's
    // result is kept apart from the cluster's last install).
    const release =
      mode !== 'repair'
        ? this.table.releaseLock(result)
        : (this.table.releaseRepairLock?.(result) ?? Promise.resolve('not-held'));
    await release.catch(() => undefined); // the lock then expires on its own; the reason is still reported
    return { status: 'failed', reason };
  }
}

/**
 * After the lock is taken, before anything starts: is the deployment being destroyed? Lock first,
 * then the mark — destroy writes the mark first, then waits for every lock it sees (both sides read
 * strongly consistently), so either this read sees the mark or destroy sees this lock and waits for
 * it. When destroying (or when the mark cannot be read) the lock is given back and nothing starts.
 * The CLI uses the same check.
 */
export async function destroyingCheck(
  table: Pick<RunsTable, 'destroying' | 'abandonLock'>,
  ref: ClusterRef,
  runId: string,
): Promise<{ readonly status: 'stopped' | 'failed'; readonly reason: string } | undefined> {
  let reason: string | undefined;
  let status: 'stopped' | 'failed' = 'stopped';
  try {
    const mark = await table.destroying();
    if (mark) {
      reason = `the deployment is being destroyed (since ${mark.since}, by ${mark.by}); no install run starts`;
    }
  } catch (error) {
    status = 'failed';
    reason = `could not read whether the deployment is being destroyed: ${describeError(error)}`;
  }
  if (reason === undefined) return undefined;
  await table.abandonLock(ref, runId).catch(() => undefined); // else it expires on its own
  return { status, reason };
}

/** The CodeBuild environment overrides of one run. */
export function runEnvironment(request: RunRequest): Record<string, string> {
  return {
    [RUN_ENV.accountId]: request.accountId,
    [RUN_ENV.region]: request.region,
    [RUN_ENV.cluster]: request.cluster,
    [RUN_ENV.compute]: request.compute,
    [RUN_ENV.executionRoleArn]: request.executionRoleArn,
    [RUN_ENV.runId]: request.runId,
    [RUN_ENV.mode]: request.mode,
  };
}

/** `BuildStarter` over a CodeBuild client created for the HOME region. */
export class CodeBuildStarter implements BuildStarter {
  constructor(
    private readonly codeBuild: CodeBuildClient,
    private readonly projectName: string,
  ) {}

  async start(environment: Readonly<Record<string, string>>, idempotencyToken: string): Promise<string> {
    const out = await this.codeBuild.send(
      new StartBuildCommand({
        projectName: this.projectName,
        idempotencyToken,
        environmentVariablesOverride: Object.entries(environment).map(([name, value]) => ({
          name,
          value,
          type: 'PLAINTEXT', // identifiers only; secrets reach the project as Secrets Manager references
        })),
      }),
    );
    const id = out.build?.id;
    if (!id) throw new Error('StartBuild answered without a build ID');
    return id;
  }
}
