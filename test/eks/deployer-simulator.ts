import {
  BatchGetBuildsCommand,
  BatchGetProjectsCommand,
  StartBuildCommand,
  type CodeBuildClient,
} from '@aws-sdk/client-codebuild';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { BuildStatus } from '../../src/cluster/uninstall-runs.js';
import {
  RUN_ENV,
  type ComputeMode,
  type DesiredState,
  type RunMode,
  type RunOutcome,
  type RunResult,
} from '../../src/eks/run-contract.js';
import type { ClusterRef, RunsTable } from '../../src/eks/runs-table.js';

interface SimulatedBuild {
  readonly id: string;
  readonly env: Readonly<Record<string, string>>;
  readonly idempotencyToken?: string;
  /** When StartBuild was called (a run result's `startedAt`). */
  readonly startedAt?: string;
  status: BuildStatus;
}

const APPLIED: readonly RunOutcome[] = ['protected', 'already-protected', 'upgraded'];

/**
 * CodeBuild running the deployer, as far as the runs table and the clusters are concerned: builds
 * are started (by a BuildStarter or the CodeBuild mock), stay IN_PROGRESS until `finish`, and then
 * do what the real deployer does to the runs table — an install records that Falcon may be on the
 * cluster before its first write and releases the lock with its result; an uninstall that succeeds
 * records that Falcon is gone. `falconOn` is the ground truth: the clusters Falcon is on now.
 */
export class DeployerSimulator {
  readonly builds: SimulatedBuild[] = [];
  /** How the next run on a cluster ends (key `account/region/cluster`); default protected / uninstalled. */
  readonly outcomes = new Map<string, RunOutcome>();
  readonly falconOn = new Set<string>();

  constructor(
    private readonly table: Pick<RunsTable, 'releaseLock' | 'recordFalconInstalled' | 'recordFalconRemoved'>,
    private readonly now: () => number = Date.now,
    /** As the real deployer (src/cluster/run.ts): install results carry the desired state they worked towards. */
    private readonly desired?: (compute: ComputeMode) => DesiredState,
  ) {}

  /** Records a started build and returns its ID. */
  started(projectName: string, env: Readonly<Record<string, string>>, idempotencyToken?: string): string {
    const id = `${projectName}:build-${this.builds.length + 1}`;
    this.builds.push({
      id,
      env: { ...env },
      status: 'IN_PROGRESS',
      startedAt: new Date(this.now()).toISOString(),
      ...(idempotencyToken !== undefined ? { idempotencyToken } : {}),
    });
    return id;
  }

  /** A BuildStarter over this simulator. */
  starter(projectName = 'falcon-org-eks-deployer') {
    return {
      start: (env: Readonly<Record<string, string>>, token: string) =>
        Promise.resolve(this.started(projectName, env, token)),
    };
  }

  statuses = (ids: readonly string[]): Promise<ReadonlyMap<string, BuildStatus>> =>
    Promise.resolve(
      new Map(this.builds.filter((b) => ids.includes(b.id)).map((b) => [b.id, b.status] as const)),
    );

  inProgress(mode?: RunMode): SimulatedBuild[] {
    return this.builds.filter(
      (b) => b.status === 'IN_PROGRESS' && (mode === undefined || b.env[RUN_ENV.mode] === mode),
    );
  }

  /** Runs every build still in progress to its end. */
  async finishAll(): Promise<void> {
    for (const b of this.inProgress()) await this.finish(b.id);
  }

  async finish(id: string): Promise<void> {
    const build = this.builds.find((b) => b.id === id);
    if (!build || build.status !== 'IN_PROGRESS') return;
    const ref: ClusterRef = {
      accountId: build.env[RUN_ENV.accountId] ?? '',
      region: build.env[RUN_ENV.region] ?? '',
      cluster: build.env[RUN_ENV.cluster] ?? '',
    };
    const key = `${ref.accountId}/${ref.region}/${ref.cluster}`;
    const mode = build.env[RUN_ENV.mode] === 'uninstall' ? 'uninstall' : 'install';
    const runId = build.env[RUN_ENV.runId] ?? '';
    const outcome = this.outcomes.get(key) ?? (mode === 'install' ? 'protected' : 'uninstalled');
    if (mode === 'install' && (APPLIED.includes(outcome) || outcome === 'failed')) {
      await this.table.recordFalconInstalled(ref, runId);
      this.falconOn.add(key); // a failed install may have left part of Falcon behind
    }
    if (mode === 'uninstall' && outcome === 'uninstalled') {
      this.falconOn.delete(key);
      await this.table.recordFalconRemoved(ref, runId);
    }
    const at = new Date(this.now()).toISOString();
    const result: RunResult = {
      runId,
      ...ref,
      mode,
      outcome,
      ...(outcome === 'not-reachable'
        ? { reason: 'the public endpoint admits only 10.0.0.0/8, which excludes the deployer' }
        : {}),
      components: [],
      startedAt: build.startedAt ?? at,
      finishedAt: at,
      durationsMs: {},
      ...(mode === 'install' && this.desired
        ? { desiredState: this.desired((build.env[RUN_ENV.compute] ?? 'none') as ComputeMode) }
        : {}),
    };
    await this.table.releaseLock(result);
    build.status = outcome === 'failed' || outcome === 'not-reachable' ? 'FAILED' : 'SUCCEEDED';
  }
}

/**
 * The deployer project in the home account behind a CodeBuild mock: BatchGetProjects names the runs
 * table in its environment, StartBuild starts a simulated build (recording the idempotency token),
 * BatchGetBuilds answers from the simulator and, as CodeBuild does, refuses more than 100 IDs.
 */
export function serveDeployerProject(
  codeBuild: AwsClientStub<CodeBuildClient>,
  simulator: DeployerSimulator,
  options: { readonly projectName: string; readonly runsTable: string },
): { readonly batchGetCalls: number[] } {
  const batchGetCalls: number[] = [];
  codeBuild.on(BatchGetProjectsCommand).callsFake((input: { names: string[] }) =>
    input.names.includes(options.projectName)
      ? {
          projects: [
            {
              name: options.projectName,
              environment: {
                type: 'LINUX_CONTAINER',
                image: 'aws/codebuild/standard:7.0',
                computeType: 'BUILD_GENERAL1_SMALL',
                environmentVariables: [{ name: 'FALCON_ORG_RUNS_TABLE', value: options.runsTable }],
              },
            },
          ],
        }
      : { projects: [], projectsNotFound: input.names },
  );
  codeBuild
    .on(StartBuildCommand)
    .callsFake(
      (input: {
        projectName: string;
        idempotencyToken?: string;
        environmentVariablesOverride?: { name: string; value: string }[];
      }) => ({
        build: {
          id: simulator.started(
            input.projectName,
            Object.fromEntries((input.environmentVariablesOverride ?? []).map((v) => [v.name, v.value])),
            input.idempotencyToken,
          ),
        },
      }),
    );
  codeBuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => {
    batchGetCalls.push(input.ids.length);
    if (input.ids.length > 100) {
      throw Object.assign(
        new Error(
          '1 validation error detected: Value at ids failed to satisfy constraint: Member must have length less than or equal to 100',
        ),
        {
          name: 'InvalidInputException',
        },
      );
    }
    const statuses = await simulator.statuses(input.ids);
    return { builds: [...statuses].map(([id, buildStatus]) => ({ id, buildStatus })) };
  });
  return { batchGetCalls };
}
