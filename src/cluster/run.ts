import type { EKSClient } from '@aws-sdk/client-eks';
import {
  isOptedOut,
  OPT_OUT_TAG,
  type RunComponent,
  type RunOutcome,
  type RunRequest,
  type RunResult,
} from '../eks/run-contract.js';
import type { RunsTable } from '../eks/runs-table.js';
import { applyIfChanged } from './apply.js';
import {
  ensureAccessEntry,
  removeAccessEntry,
  restoreAccessPolicy,
  setPublicAccessCidrs,
  waitClusterActive,
  type AccessEntryState,
  type ClusterEndpoint,
} from './aws-cluster.js';
import {
  credentialsSecret,
  FALCON_KINDS,
  falconCustomResources,
  type FalconApiCredentials,
  type ImageOverrides,
} from './custom-resources.js';
import {
  ClusterGoneError,
  describeError,
  FargateProfileMissingError,
  KubeApiError,
  NotReachableError,
} from './errors.js';
import { falconNamespaces, fargateCoverageReason, uncoveredFargateNamespaces } from './fargate-coverage.js';
import type { KubeClient } from './kube-client.js';
import { ResourceMap, type KubeObject } from './kube-resources.js';
import { parseOperatorManifest, type ManifestSource } from './manifest.js';
import { installOperator } from './operator.js';
import { judgeReachability } from './reachability.js';
import type { DeployerRunSettings } from './settings.js';
import { uninstallFalcon } from './uninstall.js';
import { verifySensors } from './verify.js';
import { pollUntil, type DeployerClock } from './wait.js';

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
   * cluster before its first write, an uninstall that it is gone (destroy reads both).
   */
  readonly runs?: Pick<RunsTable, 'releaseLock' | 'recordFalconInstalled' | 'recordFalconRemoved'>;
  readonly clock: DeployerClock;
  /** One line of JSON per call. */
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

interface Cleanup {
  restoreCidrs?: readonly string[];
  accessEntry?: AccessEntryState;
}

/**
 * One deployer run against one cluster: wait ACTIVE, check reachability (widen the allow-list
 * only if allowed), ensure access, then install/upgrade or uninstall, verify, clean up, and report
 * one RunResult (returned, logged, written to the runs table). Never throws.
 */
export async function runDeployer(
  request: RunRequest,
  settings: DeployerRunSettings,
  deps: DeployerDeps,
): Promise<RunResult> {
  const startedAt = new Date(deps.clock.now()).toISOString();
  const durations = new Durations(deps.clock);
  const cleanup: Cleanup = {};
  const components: RunComponent[] = [];
  let outcome: RunOutcome = 'failed';
  let reason: string | undefined;
  let cluster: ClusterEndpoint | undefined;
  const log = (event: string, data: Record<string, unknown> = {}) =>
    deps.log(JSON.stringify({ event, cluster: request.cluster, runId: request.runId, ...data }));

  try {
    // The manifest is read and checked before anything on the cluster changes.
    const operatorObjects = await durations.time('manifest', async () =>
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
      if (error instanceof ClusterGoneError && request.mode === 'uninstall') {
        outcome = 'uninstalled';
        reason = `${error.message}; nothing left to remove`;
        return finish();
      }
      throw error;
    }
    if (request.mode === 'install' && isOptedOut(cluster.tags)) {
      // Checked here too, not only by discovery: a tag set after the run was started still counts.
      outcome = 'opted-out';
      reason = `the cluster is tagged ${OPT_OUT_TAG.key}=${cluster.tags[OPT_OUT_TAG.key] ?? ''}; nothing was installed (remove the tag, or run falcon-org eks deploy-cluster --opt-in, to protect it)`;
      return finish();
    }
    if (cluster.authenticationMode === 'CONFIG_MAP') {
      throw new NotReachableError(
        'the cluster uses authentication mode CONFIG_MAP, which has no access entries; switch it to API_AND_CONFIG_MAP (aws eks update-cluster-config --access-config authenticationMode=API_AND_CONFIG_MAP)',
      );
    }
    const reach = judgeReachability(cluster, settings.egressCidrs, settings.allowListEgress);
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
      const original =
        cluster.publicAccessCidrs.length === 0 ? ['0.0.0.0/0'] : [...cluster.publicAccessCidrs];
      cleanup.restoreCidrs = original;
      log('allow-list-widened', { cidrs: reach.cidrs });
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
    cleanup.accessEntry = await durations.time('accessEntry', () =>
      ensureAccessEntry(deps.eks, request.cluster, deps.principalArn, settings.partition),
    );
    const kube = deps.kubeClient(cluster);
    await durations.time('accessPropagation', () =>
      waitForAccess(kube, deps.clock, settings.deadlines.accessPropagationSeconds),
    );
    const resources = new ResourceMap();
    if (request.mode === 'uninstall') {
      components.push(
        ...(await durations.time('uninstall', () =>
          uninstallFalcon(kube, resources, operatorObjects, deps.clock, settings.deadlines.uninstallSeconds),
        )),
      );
      outcome = 'uninstalled';
    } else {
      // Before the first write to the cluster: from here on Falcon may be on it, also if this run is
      // killed; destroy uninstalls every cluster with this record. No record, no install.
      await deps.runs?.recordFalconInstalled(request, request.runId);
      outcome = await durations.time('install', () =>
        install(kube, resources, operatorObjects, request, settings, deps, components),
      );
    }
    log('run-done', { outcome });
  } catch (error) {
    outcome = error instanceof NotReachableError ? 'not-reachable' : 'failed';
    reason = describeError(error);
  } finally {
    await durations.time('cleanup', () => runCleanup());
  }
  return finish();

  async function runCleanup(): Promise<void> {
    const problems: string[] = [];
    if (cleanup.restoreCidrs !== undefined) {
      try {
        await setPublicAccessCidrs(
          deps.eks,
          request.cluster,
          cleanup.restoreCidrs,
          deps.clock,
          settings.deadlines.clusterActiveSeconds,
        );
        log('allow-list-restored', { cidrs: cleanup.restoreCidrs });
      } catch (error) {
        problems.push(
          `restoring the endpoint allow-list to ${cleanup.restoreCidrs.join(', ')} failed: ${describeError(error)}`,
        );
      }
    }
    if (cleanup.accessEntry?.ours === true && !settings.keepAccessEntry) {
      try {
        await removeAccessEntry(deps.eks, request.cluster, deps.principalArn);
        log('access-entry-removed');
      } catch (error) {
        problems.push(`removing the access entry of ${deps.principalArn} failed: ${describeError(error)}`);
      }
    }
    const policyChange = cleanup.accessEntry?.policyAssociated;
    if (policyChange !== undefined && !settings.keepAccessEntry) {
      try {
        await restoreAccessPolicy(deps.eks, request.cluster, deps.principalArn, policyChange);
        log('access-policy-restored', { policyArn: policyChange.policyArn });
      } catch (error) {
        problems.push(
          `undoing the association of ${policyChange.policyArn} with the access entry of ${deps.principalArn} failed: ${describeError(error)}`,
        );
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
      ...(reason !== undefined ? { reason } : {}),
      components,
      startedAt,
      finishedAt: new Date(deps.clock.now()).toISOString(),
      durationsMs: durations.values,
    };
    deps.log(JSON.stringify({ event: 'run-result', result }));
    if (deps.runs) {
      if (request.mode === 'uninstall' && outcome === 'uninstalled') {
        try {
          await deps.runs.recordFalconRemoved(request, request.runId);
        } catch (error) {
          deps.log(JSON.stringify({ event: 'runs-table-failed', error: describeError(error) }));
        }
      }
      try {
        await deps.runs.releaseLock(result);
      } catch (error) {
        deps.log(JSON.stringify({ event: 'runs-table-failed', error: describeError(error) }));
      }
    }
    return result;
  }
}

/** Retries while a new access entry propagates (401/403), up to the deadline. */
async function waitForAccess(kube: KubeClient, clock: DeployerClock, deadlineSeconds: number): Promise<void> {
  await pollUntil(
    clock,
    { what: 'Kubernetes access through the new access entry', deadlineSeconds, initialDelayMs: 2000 },
    async () => {
      const response = await kube.raw({ method: 'GET', path: '/api/v1/namespaces/kube-system' });
      if (response.status === 401 || response.status === 403) {
        return { done: false, seen: `HTTP ${response.status}` };
      }
      if (response.status !== 200) {
        throw new KubeApiError('GET /api/v1/namespaces/kube-system', response.status, '');
      }
      return { done: true, seen: 'ok' };
    },
  );
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
  const secret = await applyIfChanged(kube, resources, credentialsSecret(await deps.credentials()), {}, true);
  if (secret.changed) changed++;
  const images = settings.mirrorImages.enabled && deps.mirrorImages ? await deps.mirrorImages() : {};
  const crs = falconCustomResources(request.compute, settings, images);
  const statuses = new Map<string, RunComponent['status']>();
  for (const cr of crs) {
    const applied = await applyIfChanged(kube, resources, cr);
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
