import { BatchGetBuildsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResolvedConfig } from '../config/load.js';
import { eksNames } from '../config/names.js';
import { chunk } from '../eks/discovery-queue.js';
import { DynamoRunsTable } from '../eks/runs-table.js';
import { CodeBuildStarter, RunStarter } from '../eks/start-run.js';
import {
  AwsDeploymentTriggers,
  describeStopped,
  type DeploymentTriggers,
  type StoppedTriggers,
} from './deployment-triggers.js';
import { ClusterError } from './errors.js';
import { runsTableOfProject } from './project-runs-table.js';
import {
  runUninstallsBeforeDestroy,
  waitForRunsInFlight,
  type BuildStatus,
  type ClusterSkips,
  type ClusterUninstall,
} from './uninstall-runs.js';
import type { DeployerClock } from './wait.js';
import { describeError } from '../shared/describe-error.js';

/** BatchGetBuilds answers at most this many build IDs per call (CodeBuild API reference). */
export const BATCH_GET_BUILDS_MAX = 100;

export interface DestroyHookClients {
  readonly codeBuild: Pick<CodeBuildClient, 'send'>;
  /** Created for the runs table the project names. */
  readonly documentClient: () => DynamoDBDocumentClient;
  readonly eventBridge: Pick<EventBridgeClient, 'send'>;
  readonly lambda: Pick<LambdaClient, 'send'>;
}

export function createDestroyHookClients(homeRegion: string): DestroyHookClients {
  return {
    codeBuild: new CodeBuildClient({ region: homeRegion }),
    documentClient: () =>
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: homeRegion }), {
        marshallOptions: { removeUndefinedValues: true },
      }),
    eventBridge: new EventBridgeClient({ region: homeRegion }),
    lambda: new LambdaClient({ region: homeRegion }),
  };
}

export interface EksDestroyOptions {
  /** Leave Falcon on every cluster (no uninstall runs); the triggers are still stopped if they can be. */
  readonly keepClusterSensors?: boolean;
  readonly skip?: ClusterSkips;
  /** Who destroys (the caller's ARN), written into the mark. */
  readonly by: string;
  readonly clients?: DestroyHookClients;
  readonly clock?: DeployerClock;
}

/** What destroy did to EKS Protection before deleting the stack (rendered, and in --json). */
export interface EksDestroyReport {
  /** The runs table is kept when the stack goes (removal policy RETAIN): what was left where. */
  readonly runsTable: { readonly name: string; readonly region: string };
  /** What was switched off before anything else. */
  readonly stopped: string;
  /** One entry per cluster Falcon was ever installed on (none with keepClusterSensors). */
  readonly clusters: readonly ClusterUninstall[];
  readonly keptClusterSensors: boolean;
}

/**
 * `destroy`'s EKS step, before anything is deleted:
 * 1. mark the deployment as being destroyed in the runs table (from then on no install run starts:
 *    eks-discover, eks-event and the CLI check the mark after taking a cluster's lock);
 * 2. switch off the schedule, the cluster-event rule and the discovery queue's event source;
 * 3. wait for the runs already in flight (their locks), at most the lock TTL;
 * 4. one uninstall run per cluster Falcon was ever installed on, except the skipped ones, and wait.
 * When a cluster could not be cleaned (not reachable, failed, timed out) nothing is deleted: the
 * triggers are switched on again, the mark is lifted, and the error names each cluster and the
 * flags that skip it. Returns undefined when EKS Protection is off or not deployed.
 */
export async function prepareEksForDestroy(
  config: ResolvedConfig,
  progress: (line: string) => void,
  options: EksDestroyOptions,
): Promise<EksDestroyReport | undefined> {
  const eks = config.features.eksProtection;
  if (!eks.enabled) return undefined;
  const clients = options.clients ?? createDestroyHookClients(config.aws.homeRegion);
  const keep = options.keepClusterSensors === true;
  const names = eksNames(config);
  const projectName = names.deployerProject;
  let tableName: string | undefined;
  try {
    tableName = await runsTableOfProject(clients.codeBuild, projectName);
  } catch (error) {
    if (keep) {
      progress(
        `Could not look for EKS deployer project ${projectName} (${describeError(error)}); not stopping it.`,
      );
      return undefined;
    }
    throw new ClusterError(
      `could not run the EKS uninstalls before destroy: ${describeError(error)}; fix that, or re-run destroy with --keep-cluster-sensors to leave the sensors on the clusters`,
      { cause: error },
    );
  }
  if (tableName === undefined) {
    progress(`EKS deployer project ${projectName} not found; no clusters to uninstall from.`);
    return undefined;
  }
  const table = new DynamoRunsTable(clients.documentClient(), tableName);
  const triggers: DeploymentTriggers = new AwsDeploymentTriggers(clients.eventBridge, clients.lambda, {
    discoverFunction: names.discoverFunction,
    eventFunction: names.eventFunction,
    eventBus: names.eventBus,
  });
  const runsTable = { name: tableName, region: config.aws.homeRegion };
  const clock = options.clock;

  let stopped: StoppedTriggers = { rules: [], eventSources: [] };
  const undo = async (): Promise<string> => {
    const problems: string[] = [];
    await triggers
      .restore(stopped)
      .catch((e: unknown) => problems.push(`switching the triggers on again failed: ${describeError(e)}`));
    await table
      .clearDestroying()
      .catch((e: unknown) => problems.push(`lifting the destroy mark failed: ${describeError(e)}`));
    return problems.length > 0
      ? ` (${problems.join('; ')}: re-run destroy, or deploy again)`
      : '; EKS Protection runs again as before';
  };
  try {
    await table.markDestroying({ since: new Date((clock?.now ?? Date.now)()).toISOString(), by: options.by });
    stopped = await triggers.stop();
  } catch (error) {
    const undone = await undo();
    if (keep) {
      progress(`Could not stop EKS Protection before the delete (${describeError(error)})${undone}.`);
      return undefined;
    }
    throw new ClusterError(
      `could not stop EKS Protection before destroy: ${describeError(error)}; nothing was deleted${undone}. Fix that, or re-run with --keep-cluster-sensors to leave the sensors on the clusters`,
      { cause: error },
    );
  }
  progress(`EKS Protection stopped: no install run starts any more (${describeStopped(stopped)}).`);
  if (keep) return { runsTable, stopped: describeStopped(stopped), clusters: [], keptClusterSensors: true };

  let results: ClusterUninstall[];
  try {
    const lockTtlSeconds = eks.lockTtlMinutes * 60;
    const held = await waitForRunsInFlight(table, lockTtlSeconds + 60, clock, progress);
    if (held.length > 0) {
      throw new ClusterError(
        `${held.length} run(s) still hold their cluster after the lock TTL: ${held.map((h) => `${h.cluster} in ${h.accountId}/${h.region}`).join(', ')}`,
      );
    }
    progress(
      'Removing the Falcon Operator and sensors from every cluster it was installed on before the infrastructure goes...',
    );
    results = await runUninstallsBeforeDestroy({
      table,
      runs: new RunStarter(table, new CodeBuildStarter(clients.codeBuild as CodeBuildClient, projectName), {
        partition: config.aws.partition,
        executionRoleName: names.executionRole,
        lockTtlSeconds,
      }),
      buildStatuses: (ids) => buildStatuses(clients.codeBuild, ids),
      deadlineSeconds: lockTtlSeconds,
      ...(options.skip ? { skip: options.skip } : {}),
      ...(clock ? { clock } : {}),
      progress,
    });
  } catch (error) {
    const undone = await undo();
    throw new ClusterError(
      `could not run the EKS uninstalls before destroy: ${describeError(error)}; nothing was deleted${undone}. Fix that, or re-run destroy with --keep-cluster-sensors to leave the sensors on the clusters`,
      { cause: error },
    );
  }
  for (const r of results) {
    progress(`  ${r.cluster} (${r.accountId}/${r.region}): ${r.status}${r.reason ? ` — ${r.reason}` : ''}`);
  }
  const left = results.filter((r) => r.status !== 'uninstalled' && r.status !== 'skipped');
  if (left.length > 0) {
    const undone = await undo();
    const accounts = [...new Set(left.map((r) => r.accountId))];
    throw new ClusterError(
      `the Falcon Operator could not be removed from ${left.length} cluster(s) (${left.map((r) => `${r.cluster} in ${r.accountId}/${r.region}: ${r.status}${r.reason ? ` — ${r.reason}` : ''}`).join('; ')}); nothing was deleted${undone}. Fix them and re-run destroy; or leave Falcon on them with ${left.map((r) => `--skip-cluster ${r.accountId}/${r.region}/${r.cluster}`).join(' ')} (or --skip-account ${accounts.join(' ')} for a closed or suspended account), or on every cluster with --keep-cluster-sensors`,
    );
  }
  return { runsTable, stopped: describeStopped(stopped), clusters: results, keptClusterSensors: false };
}

/** Build statuses by ID, BATCH_GET_BUILDS_MAX IDs per call. */
export async function buildStatuses(
  codeBuild: Pick<CodeBuildClient, 'send'>,
  ids: readonly string[],
): Promise<ReadonlyMap<string, BuildStatus>> {
  const out = new Map<string, BuildStatus>();
  for (const batch of chunk(ids, BATCH_GET_BUILDS_MAX)) {
    const builds = (await codeBuild.send(new BatchGetBuildsCommand({ ids: batch }))).builds ?? [];
    for (const b of builds) if (b.id) out.set(b.id, b.buildStatus ?? 'IN_PROGRESS');
  }
  return out;
}
