import type { EKSClient } from '@aws-sdk/client-eks';
import {
  isOptedOut,
  OPT_OUT_TAG,
  type ClusterChanges,
  type RunComponent,
  type RunOutcome,
  type RunRequest,
  type RunResult,
} from '../eks/run-contract.js';
import type { ClusterChangesTable, RunsTable } from '../eks/runs-table.js';
import { requiredAccess, waitForAccess } from './access-review.js';
import { serverSideApply } from './apply.js';
import {
  accessEntryUndo,
  grantClusterAdmin,
  inspectAccessEntry,
  setPublicAccessCidrs,
  waitClusterActive,
  type ClusterEndpoint,
} from './aws-cluster.js';
import { deployerLog } from './deployer-log.js';
import { effectiveAllowList, memoryLedger, tableLedger, undoClusterChanges } from './changes.js';
import {
  credentialsSecret,
  FALCON_KINDS,
  falconCustomResources,
  type FalconApiCredentials,
  type ImageOverrides,
} from './custom-resources.js';
import { ClusterError, ClusterGoneError, FargateProfileMissingError, NotReachableError } from './errors.js';
import { falconNamespaces, fargateCoverageReason, uncoveredFargateNamespaces } from './fargate-coverage.js';
import { fargateNamespacesWithoutInjection } from './fargate-injection.js';
import type { KubeClient } from './kube-client.js';
import { ResourceMap, type KubeObject } from './kube-resources.js';
import { parseOperatorManifest, type ManifestSource } from './manifest.js';
import { installOperator, registerCrds } from './operator.js';
import { judgeReachability } from './reachability.js';
import { desiredState } from './desired-state.js';
import type { DeployerRunSettings } from './settings.js';
import { uninstallFalcon } from './uninstall.js';
import { verifySensors } from './verify.js';
import type { DeployerClock } from './wait.js';
import { capText, describeError } from '../shared/describe-error.js';

/** Everything a run talks to, created in one place (aws-deps.ts) and injected in tests. */
export interface DeployerDeps {
  /** EKS in the member account and the cluster's region. */
  readonly eks: EKSClient;
  /** The IAM role the deployer talks to Kubernetes as (the member execution role). */
  readonly principalArn: string;
  /** A Kubernetes client for the endpoint, authenticated with a renewing EKS token. */
  readonly kubeClient: (cluster: ClusterEndpoint) => KubeClient;
  readonly manifests: ManifestSource;
  /** Falcon API credentials (and CID) for the Kubernetes Secret. */
  readonly credentials: () => Promise<FalconApiCredentials>;
  /** Images mirrored into the home account's ECR, when mirroring is on. */
  readonly mirrorImages?: () => Promise<ImageOverrides>;
  /**
   * The runs table: the result releases the lock; an install records that Falcon may be on the
   * cluster before its first write, an uninstall that it is gone (destroy reads both); and the record
   * of what the run changes on the cluster (allow-list, access entry) before it changes it.
   */
  readonly runs?: Pick<RunsTable, 'releaseLock' | 'recordFalconInstalled' | 'recordFalconRemoved'> &
    ClusterChangesTable;
  readonly clock: DeployerClock;
  /** Receives the log lines (one JSON object each, the shape of src/cluster/deployer-log.ts). */
  readonly log: (line: string) => void;
}

class Durations {
  readonly values: Record<string, number> = {};
  constructor(private readonly clock: DeployerClock) {}
  async time<T>(step: string, work: () => Promise<T>): Promise<T> {
    const start = this.clock.now();
    try {
      return await work();
    } finally {
      this.values[step] = (this.values[step] ?? 0) + (this.clock.now() - start);
    }
  }
}

/**
 * One deployer run against one cluster: wait ACTIVE, undo what an earlier, killed run left on the
 * cluster, check reachability (widen the allow-list only if allowed), ensure access, then
 * install/upgrade or uninstall, verify, clean up, and report one RunResult (returned, logged,
 * written to the runs table). Before it changes the allow-list or the access entry it records what
 * was there (`ClusterChanges`), so its clean-up — or, if it is killed, the next run — can undo
 * exactly that. A `repair` run only does the undoing. Never throws.
 */
export async function runDeployer(
  request: RunRequest,
  settings: DeployerRunSettings,
  deps: DeployerDeps,
): Promise<RunResult> {
  const startedAt = new Date(deps.clock.now()).toISOString();
  const durations = new Durations(deps.clock);
  const ledger = deps.runs
    ? tableLedger(deps.runs, {
        accountId: request.accountId,
        region: request.region,
        cluster: request.cluster,
      })
    : memoryLedger();
  /** What this run recorded before changing the cluster: its clean-up undoes exactly this. */
  let changes: ClusterChanges | undefined;
  const components: RunComponent[] = [];
  let outcome: RunOutcome = 'failed';
  let reason: string | undefined;
  let cluster: ClusterEndpoint | undefined;
  let uninjected: string[] | undefined;
  const log = deployerLog(deps.log, () => deps.clock.now(), {
    cluster: request.cluster,
    runId: request.runId,
  });
  const record = async (next: Pick<ClusterChanges, 'allowList' | 'accessEntry'>): Promise<void> => {
    const recorded: ClusterChanges = {
      runId: request.runId,
      recordedAt: new Date(deps.clock.now()).toISOString(),
      ...(next.allowList ? { allowList: next.allowList } : {}),
      ...(next.accessEntry ? { accessEntry: next.accessEntry } : {}),
    };
    await ledger.record(recorded);
    changes = recorded;
  };

  try {
    // The manifest is read and checked before anything on the cluster changes.
    const operatorObjects =
      request.mode === 'repair'
        ? []
        : await durations.time('manifest', async () =>
            parseOperatorManifest(
              await deps.manifests.read(settings.operator.manifestBucket, settings.operator.manifestKey),
              settings.operator.manifestSha256,
              settings.operator.version,
            ),
          );
    try {
      cluster = await durations.time('waitActive', () =>
        waitClusterActive(deps.eks, request.cluster, deps.clock, settings.deadlines.clusterActiveSeconds),
      );
    } catch (error) {
      if (!(error instanceof ClusterGoneError)) throw error;
      // Nothing of an earlier run can be undone on a cluster that is gone.
      if ((await ledger.read()) !== undefined) await ledger.clear(request.runId);
      if (request.mode === 'install') throw error;
      outcome = request.mode === 'uninstall' ? 'uninstalled' : 'repaired';
      reason = `${error.message}; nothing left to remove`;
    }
    if (cluster !== undefined) {
      const repaired = await durations.time('repair', () => undoLeftovers());
      if (repaired !== undefined) {
        cluster = await waitClusterActive(
          deps.eks,
          request.cluster,
          deps.clock,
          settings.deadlines.clusterActiveSeconds,
        );
      }
      if (request.mode === 'repair') {
        outcome = 'repaired';
        reason = repaired ?? 'no earlier run left anything to undo';
      } else if (request.mode === 'install' && isOptedOut(cluster.tags)) {
        // Checked here too, not only by discovery: a tag set after the run was started still counts.
        outcome = 'opted-out';
        reason = `the cluster is tagged ${OPT_OUT_TAG.key}=${cluster.tags[OPT_OUT_TAG.key] ?? ''}; nothing was installed (remove the tag, or run falcon-org eks deploy-cluster --opt-in, to protect it)`;
      } else {
        outcome = await change(cluster, operatorObjects);
      }
    }
  } catch (error) {
    outcome = error instanceof NotReachableError ? 'not-reachable' : 'failed';
    reason = describeError(error);
  } finally {
    await durations.time('cleanup', () => runCleanup());
  }
  return finish();

  /** Undoes what an earlier, killed run recorded and never undid; says what it put back. */
  async function undoLeftovers(): Promise<string | undefined> {
    const left = await ledger.read();
    if (left === undefined) return undefined;
    log.warn('leftovers-found', { fromRun: left.runId, changes: left });
    const undo = await undoClusterChanges(
      deps.eks,
      request.cluster,
      left,
      deps.clock,
      settings.deadlines.clusterActiveSeconds,
      log,
    );
    if (undo.problems.length > 0) {
      throw new ClusterError(
        `could not undo what run ${left.runId} left on the cluster: ${undo.problems.join('; ')}`,
      );
    }
    await ledger.clear(request.runId);
    const what = undo.undone.length > 0 ? undo.undone.join('; ') : 'nothing needed putting back';
    log.info('leftovers-undone', { fromRun: left.runId, undone: undo.undone });
    return `undid what run ${left.runId} left: ${what}`;
  }

  /** Reachability, access, then install or uninstall; the outcome. */
  async function change(
    endpoint: ClusterEndpoint,
    operatorObjects: readonly KubeObject[],
  ): Promise<RunOutcome> {
    if (endpoint.authenticationMode === 'CONFIG_MAP') {
      throw new NotReachableError(
        'the cluster uses authentication mode CONFIG_MAP, which has no access entries; switch it to API_AND_CONFIG_MAP (aws eks update-cluster-config --access-config authenticationMode=API_AND_CONFIG_MAP)',
      );
    }
    const reach = judgeReachability(endpoint, settings.egressCidrs, settings.allowListEgress);
    if (reach.kind === 'not-reachable') throw new NotReachableError(reach.reason);
    if (request.mode === 'install' && request.compute === 'fargate') {
      // Before anything changes (allow-list included): without a profile for its namespaces the
      // operator stays Pending and the run would only fail at the operator deadline.
      const missing = await durations.time('fargateProfiles', () =>
        uncoveredFargateNamespaces(deps.eks, request.cluster, falconNamespaces(settings.admission.enabled)),
      );
      if (missing.length > 0) {
        throw new FargateProfileMissingError(missing, fargateCoverageReason(request.cluster, missing));
      }
    }
    if (reach.kind === 'widen') {
      await record({
        allowList: { original: effectiveAllowList(endpoint.publicAccessCidrs), widened: [...reach.cidrs] },
      });
      log.info('allow-list-widened', { cidrs: reach.cidrs });
      await durations.time('allowList', () =>
        setPublicAccessCidrs(
          deps.eks,
          request.cluster,
          reach.cidrs,
          deps.clock,
          settings.deadlines.clusterActiveSeconds,
        ),
      );
    }
    await durations.time('accessEntry', async () => {
      const found = await inspectAccessEntry(
        deps.eks,
        request.cluster,
        deps.principalArn,
        settings.partition,
      );
      // keepAccessEntry: the entry and its policy are meant to stay, so there is nothing to undo.
      const undo = settings.keepAccessEntry
        ? undefined
        : accessEntryUndo(found, deps.principalArn, settings.partition);
      if (undo !== undefined) {
        await record({ ...(changes?.allowList ? { allowList: changes.allowList } : {}), accessEntry: undo });
      }
      await grantClusterAdmin(deps.eks, request.cluster, deps.principalArn, settings.partition, found);
    });
    const kube = deps.kubeClient(endpoint);
    const resources = new ResourceMap();
    registerCrds(resources, operatorObjects);
    await durations.time('accessPropagation', () =>
      waitForAccess(
        kube,
        requiredAccess(request.mode === 'uninstall' ? 'uninstall' : 'install', operatorObjects, resources),
        deps.clock,
        settings.deadlines.accessPropagationSeconds,
      ),
    );
    let result: RunOutcome;
    if (request.mode === 'uninstall') {
      components.push(
        ...(await durations.time('uninstall', () =>
          uninstallFalcon(kube, resources, operatorObjects, deps.clock, settings.deadlines.uninstallSeconds),
        )),
      );
      result = 'uninstalled';
    } else {
      // Before the first write to the cluster: from here on Falcon may be on it, also if this run is
      // killed; destroy uninstalls every cluster with this record. No record, no install.
      await deps.runs?.recordFalconInstalled(request, request.runId);
      result = await durations.time('install', () =>
        install(kube, resources, operatorObjects, request, settings, deps, components),
      );
      if (request.compute === 'mixed') {
        // What coverage names for a mixed cluster; a failed read leaves it out, never fails the run.
        try {
          uninjected = await durations.time('fargateInjection', () =>
            fargateNamespacesWithoutInjection(deps.eks, kube, request.cluster),
          );
        } catch (error) {
          log.warn('fargate-injection-unread', { error: describeError(error) });
        }
      }
    }
    log.info('run-done', { outcome: result });
    return result;
  }

  /** Undoes what this run recorded; when all of it is undone, the record goes. */
  async function runCleanup(): Promise<void> {
    if (changes === undefined) return;
    const undo = await undoClusterChanges(
      deps.eks,
      request.cluster,
      changes,
      deps.clock,
      settings.deadlines.clusterActiveSeconds,
      log,
    );
    const problems = [...undo.problems];
    if (problems.length === 0) {
      // Kept when something could not be undone: the next run on the cluster tries again.
      try {
        await ledger.clear(request.runId);
      } catch (error) {
        log.error('runs-table-failed', { error: describeError(error) });
      }
    }
    if (problems.length > 0) {
      outcome = 'failed';
      reason = [reason, ...problems].filter((p) => p !== undefined).join('; ');
    }
  }

  async function finish(): Promise<RunResult> {
    const result: RunResult = {
      runId: request.runId,
      accountId: request.accountId,
      region: request.region,
      cluster: request.cluster,
      mode: request.mode,
      outcome,
      // One cap on the whole reason (the run's own and its clean-up's), never one per message.
      ...(reason !== undefined ? { reason: capText(reason) } : {}),
      components,
      startedAt,
      finishedAt: new Date(deps.clock.now()).toISOString(),
      durationsMs: durations.values,
      ...(uninjected !== undefined ? { fargateNamespacesWithoutInjection: uninjected } : {}),
      // What the run worked towards: kept as the cluster's protected state when it got there.
      ...(request.mode === 'install' ? { desiredState: desiredState(settings, request.compute) } : {}),
    };
    log[outcome === 'failed' ? 'error' : outcome === 'not-reachable' ? 'warn' : 'info']('run-result', {
      result,
    });
    if (deps.runs) {
      if (request.mode === 'uninstall' && outcome === 'uninstalled') {
        try {
          await deps.runs.recordFalconRemoved(request, request.runId);
        } catch (error) {
          log.error('runs-table-failed', { error: describeError(error) });
        }
      }
      try {
        await (request.mode === 'repair'
          ? deps.runs.releaseRepairLock(result)
          : deps.runs.releaseLock(result));
      } catch (error) {
        log.error('runs-table-failed', { error: describeError(error) });
      }
    }
    return result;
  }
}

async function install(
  kube: KubeClient,
  resources: ResourceMap,
  operatorObjects: readonly KubeObject[],
  request: RunRequest,
  settings: DeployerRunSettings,
  deps: DeployerDeps,
  components: RunComponent[],
): Promise<RunOutcome> {
  const operator = await installOperator(kube, resources, operatorObjects, deps.clock, {
    version: settings.operator.version,
    crdEstablishedSeconds: settings.deadlines.crdEstablishedSeconds,
    operatorAvailableSeconds: settings.deadlines.operatorAvailableSeconds,
  });
  components.push({
    name: 'operator',
    version: settings.operator.version,
    status: operator.changed > 0 ? 'applied' : 'unchanged',
  });
  let changed = operator.changed;
  const secret = await serverSideApply(kube, resources, credentialsSecret(await deps.credentials()));
  if (secret.changed) changed++;
  const images = settings.mirrorImages.enabled && deps.mirrorImages ? await deps.mirrorImages() : {};
  const crs = falconCustomResources(request.compute, settings, images);
  const statuses = new Map<string, RunComponent['status']>();
  for (const cr of crs) {
    const applied = await serverSideApply(kube, resources, cr);
    statuses.set(cr.kind, applied.changed ? 'applied' : 'unchanged');
    if (applied.changed) changed++;
  }
  // Custom resources this configuration no longer wants (admission turned off, compute changed).
  for (const { kind, name } of FALCON_KINDS) {
    if (crs.some((c) => c.kind === kind)) continue;
    const path = resources.pathOf({
      apiVersion: 'falcon.crowdstrike.com/v1alpha1',
      kind,
      metadata: { name },
    });
    const existing = await kube.get(path);
    if (existing?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'falcon-org') {
      await kube.delete(path);
      components.push({ name: kind, status: 'removed' });
      changed++;
    }
  }
  const versions = await verifySensors(
    kube,
    resources,
    crs,
    deps.clock,
    settings.deadlines.sensorsReadySeconds,
  );
  for (const cr of crs) {
    const version = versions.get(cr.kind);
    components.push({
      name: cr.kind,
      ...(version !== undefined ? { version } : {}),
      status: statuses.get(cr.kind) ?? 'unchanged',
    });
  }
  if (changed === 0) return 'already-protected';
  if (operator.previousVersion !== undefined && operator.previousVersion !== settings.operator.version) {
    return 'upgraded';
  }
  return 'protected';
}
