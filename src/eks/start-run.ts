/**
 * Starting one deployer run: take the cluster's run lock, then start the HOME region's CodeBuild
 * project with the cluster named in environment overrides (RUN_ENV). The cluster's own region is an
 * input of the run, never where it is started: the project exists only in the home region.
 */
import { randomUUID } from 'node:crypto';
import { StartBuildCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { RUN_ENV, type ComputeMode, type RunMode, type RunRequest, type RunResult } from './run-contract.js';
import type { ClusterChangesTable, ClusterRef, RunsTable } from './runs-table.js';
import { describeError } from '../shared/describe-error.js';

/** Starts one build of the deployer project; the adapter is bound to the home region. */
export interface BuildStarter {
  /** Returns the build ID. */
  start(environment: Readonly<Record<string, string>>): Promise<string>;
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
  | { readonly status: 'failed'; readonly reason: string };

export interface RunStarterSettings {
  readonly partition: string;
  readonly executionRoleName: string;
  readonly lockTtlSeconds: number;
  /** @default randomUUID */
  readonly newRunId?: () => string;
  /** @default Date.now */
  readonly now?: () => number;
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
   * result. `repair` starts a run that only undoes what a killed run left on the cluster.
   */
  async start(ref: ClusterRef, compute: ComputeMode, mode: RunMode = 'install'): Promise<RunStart> {
    const runId = this.newRunId();
    const lock = await this.table.takeLock(ref, runId, this.settings.lockTtlSeconds);
    if (!lock.taken) return { status: 'in-progress', ...(lock.heldBy ? { heldBy: lock.heldBy } : {}) };
    const request: RunRequest = {
      ...ref,
      compute,
      executionRoleArn: `arn:${this.settings.partition}:iam::${ref.accountId}:role/${this.settings.executionRoleName}`,
      runId,
      mode,
    };
    const startedAt = new Date(this.now()).toISOString();
    try {
      const buildId = await this.builds.start(runEnvironment(request));
      return { status: 'started', runId, buildId, ...(mode === 'repair' ? { mode } : {}) };
    } catch (error) {
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

  async start(environment: Readonly<Record<string, string>>): Promise<string> {
    const out = await this.codeBuild.send(
      new StartBuildCommand({
        projectName: this.projectName,
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
