import { BatchGetBuildsCommand, BatchGetProjectsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResolvedConfig } from '../config/load.js';
import { PROJECT_ENV } from '../eks/run-contract.js';
import { DynamoRunsTable } from '../eks/runs-table.js';
import { CodeBuildStarter } from '../eks/start-run.js';
import { runUninstallsBeforeDestroy, type ClusterUninstall } from './uninstall-runs.js';
import { ClusterError } from './errors.js';
import type { DeployerClock } from './wait.js';
import { describeError } from '../shared/describe-error.js';

export interface DestroyHookClients {
  readonly codeBuild: Pick<CodeBuildClient, 'send'>;
  /** Created for the runs table the project names. */
  readonly documentClient: () => DynamoDBDocumentClient;
}

export function createDestroyHookClients(homeRegion: string): DestroyHookClients {
  return {
    codeBuild: new CodeBuildClient({ region: homeRegion }),
    documentClient: () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: homeRegion })),
  };
}

/**
 * Called by `destroy` before it deletes anything: when EKS Protection is deployed, starts an
 * uninstall run for every cluster the deployer installed to and waits for them (the project, its
 * role and the member execution roles must still exist for that). Returns undefined when there is
 * nothing to do (feature off, or the deployer project does not exist).
 */
export async function uninstallEksClustersBeforeDestroy(
  config: ResolvedConfig,
  progress: (line: string) => void,
  clients: DestroyHookClients = createDestroyHookClients(config.aws.homeRegion),
  clock?: DeployerClock,
): Promise<ClusterUninstall[] | undefined> {
  const eks = config.features.eksProtection;
  if (!eks.enabled) return undefined;
  const projectName = `${config.resourcePrefix}-eks-deployer`;
  const project = (await clients.codeBuild.send(new BatchGetProjectsCommand({ names: [projectName] })))
    .projects?.[0];
  const tableName = project?.environment?.environmentVariables?.find(
    (v) => v.name === PROJECT_ENV.runsTable,
  )?.value;
  if (!project || !tableName) {
    progress(`EKS deployer project ${projectName} not found; no clusters to uninstall from.`);
    return undefined;
  }
  progress(
    'Removing the Falcon Operator and sensors from protected clusters before the infrastructure goes...',
  );
  const results = await runUninstallsBeforeDestroy({
    table: new DynamoRunsTable(clients.documentClient(), tableName),
    builds: new CodeBuildStarter(clients.codeBuild as CodeBuildClient, projectName),
    buildStatuses: async (ids) => {
      const builds =
        (await clients.codeBuild.send(new BatchGetBuildsCommand({ ids: [...ids] }))).builds ?? [];
      return new Map(builds.map((b) => [b.id ?? '', b.buildStatus ?? 'IN_PROGRESS']));
    },
    partition: config.aws.partition,
    executionRoleName: `${config.resourcePrefix}-eks-execution`,
    lockTtlSeconds: eks.lockTtlMinutes * 60,
    deadlineSeconds: eks.lockTtlMinutes * 60,
    ...(clock ? { clock } : {}),
    progress,
  });
  for (const r of results) {
    progress(`  ${r.cluster} (${r.accountId}/${r.region}): ${r.status}${r.reason ? ` — ${r.reason}` : ''}`);
  }
  return results;
}

/**
 * `destroy`'s call: runs the uninstalls and stops the destroy (nothing deleted yet) when a cluster
 * could not be cleaned, because afterwards nothing could remove its sensors any more.
 */
export async function uninstallClustersOrStop(
  config: ResolvedConfig,
  progress: (line: string) => void,
  clients?: DestroyHookClients,
  clock?: DeployerClock,
): Promise<void> {
  let results: ClusterUninstall[] | undefined;
  try {
    results = await uninstallEksClustersBeforeDestroy(config, progress, clients, clock);
  } catch (error) {
    throw new ClusterError(
      `could not run the EKS uninstalls before destroy: ${describeError(error)}; fix that, or re-run destroy with --keep-cluster-sensors to leave the sensors on the clusters`,
      { cause: error },
    );
  }
  const left = (results ?? []).filter((r) => r.status !== 'uninstalled');
  if (left.length > 0) {
    throw new ClusterError(
      `the Falcon Operator could not be removed from ${left.length} cluster(s) (${left.map((r) => `${r.cluster} in ${r.accountId}/${r.region}: ${r.status}`).join('; ')}); nothing was deleted. Fix them and re-run destroy, or re-run with --keep-cluster-sensors to leave the sensors in place`,
    );
  }
}
