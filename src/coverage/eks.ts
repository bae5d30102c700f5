import { FALCON_CONTAINER_INJECTION_LABEL } from '../config/eks-deployer-schema.js';
import type { RunsTableItem } from '../eks/runs-table.js';
import { cellOf } from './cells.js';
import { fresher, isStale, notSeenFor } from './host-freshness.js';
import type {
  CoverageCell,
  CoverageItem,
  CoverageReason,
  Ec2Instance,
  FalconHost,
  ItemState,
} from './model.js';

export interface EksRegionFacts {
  readonly accountId: string;
  readonly region: string;
  readonly clusters: readonly string[];
  /** Running instances of the region (nodes carry their cluster's tag). */
  readonly instances: readonly Ec2Instance[];
  /** Runs-table items of this account and region; undefined when EKS protection keeps no table. */
  readonly runs: readonly RunsTableItem[] | undefined;
  /** Hosts Falcon sees in the account, or why they could not be read. */
  readonly hosts: readonly FalconHost[] | { readonly unreadable: string };
  /** Epoch seconds, to tell a live run lock from a stale one, and a current host from a stale one. */
  readonly nowSeconds: number;
  /** A node host last seen longer ago than this does not count as reporting. */
  readonly hostStaleAfterHours: number;
}

const GOOD_OUTCOMES = new Set(['protected', 'already-protected', 'upgraded']);

/**
 * Per cluster: the discovery verdict and the deployer's last run from the runs table ("not deployed"
 * when there is no item), then whether Falcon sees each of the cluster's EC2 nodes: all of them →
 * protected, some → partial, none → unprotected. A Fargate-only cluster runs sidecar sensors that
 * are not hosts, so its run result is the evidence; on a mixed cluster the Fargate namespaces the
 * run found without the injection label make it partial and are named.
 */
export function judgeEksRegion(facts: EksRegionFacts): CoverageCell {
  const where = { accountId: facts.accountId, region: facts.region, feature: 'eksProtection' as const };
  if (facts.clusters.length === 0) {
    return { ...cellOf(where, []), reasons: [{ code: 'no-clusters', text: 'No EKS clusters.' }] };
  }
  const runs = new Map((facts.runs ?? []).map((r) => [r.cluster, r]));
  const hosts = 'unreadable' in facts.hosts ? undefined : facts.hosts;
  // Indexed once per region: a region may hold hundreds of clusters and thousands of nodes.
  const hostsByInstance = new Map<string, FalconHost[]>();
  for (const host of hosts ?? []) {
    if (host.instanceId === undefined) continue;
    const list = hostsByInstance.get(host.instanceId);
    if (list === undefined) hostsByInstance.set(host.instanceId, [host]);
    else list.push(host);
  }
  const nodesByCluster = new Map<string, Ec2Instance[]>();
  for (const instance of facts.instances) {
    if (instance.eksCluster === undefined) continue;
    const list = nodesByCluster.get(instance.eksCluster);
    if (list === undefined) nodesByCluster.set(instance.eksCluster, [instance]);
    else list.push(instance);
  }
  const items = facts.clusters.map((cluster): CoverageItem => {
    const item = runs.get(cluster);
    const base = { kind: 'cluster' as const, id: cluster };
    const running = item?.lockRunId !== undefined && (item.lockExpiresAt ?? 0) >= facts.nowSeconds;
    const itemFacts: Record<string, string | number | boolean> = {
      ...(item?.verdict !== undefined ? { verdict: item.verdict.kind, verdictCode: item.verdict.code } : {}),
      ...(item?.lastRun !== undefined
        ? {
            lastRunOutcome: item.lastRun.outcome,
            lastRunAt: item.lastRun.finishedAt,
            lastRunId: item.lastRun.runId,
          }
        : {}),
      ...(running ? { runInProgress: true } : {}),
    };
    const unprotected = (reason: CoverageReason): CoverageItem => ({
      ...base,
      state: 'unprotected',
      reasons: [reason],
      facts: itemFacts,
    });
    if (item === undefined) {
      return unprotected({
        code: 'not-deployed',
        text:
          facts.runs === undefined
            ? 'Not deployed: EKS protection is not enabled. Enable features.eksProtection and deploy.'
            : 'Not deployed: no run has been recorded for this cluster yet. Run discovery again or check the eks-discover logs.',
      });
    }
    if (item.verdict?.kind === 'ineligible') {
      return unprotected({
        code: 'ineligible',
        text: `Ineligible (${item.verdict.code}): ${item.verdict.reason}`,
      });
    }
    const run = item.lastRun;
    if (run === undefined || run.mode === 'uninstall' || run.outcome === 'uninstalled') {
      if (running)
        return unprotected({
          code: 'run-in-progress',
          text: 'A deployer run is in progress; the first result is not in yet.',
        });
      return unprotected({
        code: 'not-deployed',
        text: 'Not deployed: the Falcon operator is not installed on this cluster.',
      });
    }
    if (!GOOD_OUTCOMES.has(run.outcome)) {
      return unprotected({
        code: 'run-failed',
        text: `The last deployer run (${run.runId}) ended "${run.outcome}"${run.reason !== undefined ? `: ${run.reason}` : ''}. Fix the cause and run discovery again.`,
      });
    }
    const hasNodeSensor = run.components.some((c) => c.name === 'FalconNodeSensor');
    const hasSidecar = run.components.some((c) => c.name === 'FalconContainer');
    if (hasSidecar && !hasNodeSensor) {
      return {
        ...base,
        state: 'protected',
        reasons: [
          {
            code: 'deployed',
            text: `Deployed (${run.outcome}); Fargate sidecar sensors are not listed as hosts.`,
          },
        ],
        facts: itemFacts,
      };
    }
    if (hosts === undefined) {
      return {
        ...base,
        state: 'unknown',
        reasons: [
          {
            code: 'falcon-unreadable',
            text: `Deployed (${run.outcome}), but Falcon's host list could not be read: ${(facts.hosts as { unreadable: string }).unreadable}`,
          },
        ],
        facts: itemFacts,
      };
    }
    const census = nodeCensus(nodesByCluster.get(cluster) ?? [], hostsByInstance, facts);
    Object.assign(itemFacts, census.facts);
    // Mixed clusters only: the run named the Fargate namespaces its sidecar does not reach.
    const uninjected = hasSidecar ? (run.fargateNamespacesWithoutInjection ?? []) : [];
    if (hasSidecar && run.fargateNamespacesWithoutInjection !== undefined) {
      itemFacts.fargateNamespacesWithoutInjection = uninjected.length;
    }
    const fargateGap: CoverageReason[] =
      uninjected.length === 0
        ? []
        : [
            {
              code: 'fargate-not-injected',
              text: `Fargate namespace(s) not labelled ${FALCON_CONTAINER_INJECTION_LABEL}=enabled when run ${run.runId} looked (${run.finishedAt}): ${named(uninjected)}. Their Fargate pods start without a Falcon sidecar. Label them (kubectl label namespace <name> ${FALCON_CONTAINER_INJECTION_LABEL}=enabled --overwrite) and restart their pods.`,
            },
          ];
    const judged = (state: ItemState, reasons: CoverageReason[]): CoverageItem => ({
      ...base,
      state,
      reasons,
      facts: itemFacts,
    });
    if (census.nodes === 0) {
      if (hasSidecar) {
        return fargateGap.length > 0
          ? judged('partial', fargateGap)
          : judged('protected', [
              {
                code: 'deployed',
                text: `Deployed (${run.outcome}); no EC2 node is running and Fargate sidecar sensors are not listed as hosts.`,
              },
            ]);
      }
      return judged('not-applicable', [
        {
          code: 'no-nodes',
          text: `Deployed (${run.outcome}); no running EC2 instance is a node of this cluster (tagged ${NODE_TAGS}), so there is nothing for Falcon to see. Nodes that join get the sensor.`,
        },
      ]);
    }
    const stalePart =
      census.latestStale === undefined
        ? ''
        : ` (${census.stale.length} known to Falcon, the latest ${notSeenFor(census.latestStale, facts.nowSeconds)}, more than coverage.hostStaleAfterHours (${facts.hostStaleAfterHours}))`;
    if (census.reporting === 0 && census.notReporting.length > 0) {
      const allStale = census.stale.length === census.notReporting.length;
      return judged('unprotected', [
        {
          code: allStale ? 'sensor-stale' : 'nodes-not-reporting',
          text: `Deployed (${run.outcome}), but no EC2 node of this cluster reports to Falcon: ${named(census.notReporting)}${stalePart}. Check the FalconNodeSensor pods on them and their access to the Falcon cloud.`,
        },
        ...fargateGap,
      ]);
    }
    if (census.notReporting.length > 0) {
      return judged('partial', [
        {
          code: 'nodes-partly-reporting',
          text: `${census.reporting} of ${census.reporting + census.notReporting.length} EC2 nodes report to Falcon; not reporting: ${named(census.notReporting)}${stalePart}. Check the FalconNodeSensor pods on them (tolerations, node selectors, image pull) and their access to the Falcon cloud.`,
        },
        ...fargateGap,
      ]);
    }
    if (census.reporting === 0) {
      return judged('unknown', [
        {
          code: 'nodes-starting',
          text: `Deployed (${run.outcome}); its ${census.starting} EC2 node(s) started less than ${NODE_REPORT_GRACE_MINUTES} minutes ago and have not reported to Falcon yet. Judged again in the next report.`,
        },
        ...fargateGap,
      ]);
    }
    const reporting: CoverageReason = {
      code: 'nodes-reporting',
      text: `${census.reporting} ${census.reporting === 1 ? 'EC2 node reports' : 'EC2 nodes report'} to Falcon${census.starting > 0 ? ` (${census.starting} started in the last ${NODE_REPORT_GRACE_MINUTES} minutes, not judged yet)` : ''}.`,
    };
    return fargateGap.length > 0
      ? judged('partial', [...fargateGap, reporting])
      : judged('protected', [reporting]);
  });
  return cellOf(where, items, [], 'cluster');
}

/** The tags that make an EC2 instance a node of a cluster (src/coverage/aws-readers.ts, `clusterOf`). */
const NODE_TAGS = 'eks:cluster-name, eks:eks-cluster-name or kubernetes.io/cluster/<name>';

/** A node Falcon has not seen yet is given this long after its launch before it counts as not reporting. */
export const NODE_REPORT_GRACE_MINUTES = 15;

/** Names in a reason, at most this many (the facts carry the counts). */
const NAMED_MAX = 10;

function named(names: readonly string[]): string {
  const shown = names.slice(0, NAMED_MAX).join(', ');
  return names.length > NAMED_MAX ? `${shown} and ${names.length - NAMED_MAX} more` : shown;
}

interface NodeCensus {
  /** EC2 nodes of the cluster. */
  readonly nodes: number;
  readonly reporting: number;
  /** New nodes Falcon has not seen yet, inside the grace period: not judged. */
  readonly starting: number;
  /** Instance IDs of nodes that do not report (never seen, or seen longer ago than the stale limit). */
  readonly notReporting: readonly string[];
  /** The freshest host of each node Falcon knows but saw too long ago. */
  readonly stale: readonly FalconHost[];
  readonly latestStale: FalconHost | undefined;
  readonly facts: Record<string, number | string>;
}

/**
 * Which EC2 nodes of a cluster report to Falcon. A node reports when a host of the account carries
 * its instance ID and was seen within `coverage.hostStaleAfterHours` (a reinstalled sensor leaves
 * its old host behind, so any current host counts). Falcon's device API names no EKS cluster (it has
 * `k8s_cluster_id`, Falcon's own ID): the instance's cluster tags tie a node to its cluster, and the
 * instance ID is unique, so no region check is needed.
 */
function nodeCensus(
  nodes: readonly Ec2Instance[],
  hostsByInstance: ReadonlyMap<string, readonly FalconHost[]>,
  facts: Pick<EksRegionFacts, 'nowSeconds' | 'hostStaleAfterHours'>,
): NodeCensus {
  let reporting = 0;
  let starting = 0;
  let falconClusterId: string | undefined;
  const notReporting: string[] = [];
  const stale: FalconHost[] = [];
  for (const node of nodes) {
    const known = hostsByInstance.get(node.instanceId) ?? [];
    const current = known.filter((h) => !isStale(h, facts.nowSeconds, facts.hostStaleAfterHours));
    if (current.length > 0) {
      reporting += 1;
      falconClusterId ??= current.find((h) => h.k8sClusterId !== undefined)?.k8sClusterId;
    } else if (known.length === 0 && isNew(node, facts.nowSeconds)) {
      starting += 1;
    } else {
      notReporting.push(node.instanceId);
      const latest = known.reduce<FalconHost | undefined>((a, b) => fresher(a, b), undefined);
      if (latest !== undefined) stale.push(latest);
    }
  }
  notReporting.sort();
  const latestStale = stale.reduce<FalconHost | undefined>((a, b) => fresher(a, b), undefined);
  return {
    nodes: nodes.length,
    reporting,
    starting,
    notReporting,
    stale,
    latestStale,
    facts: {
      ...(nodes.length > 0
        ? { ec2Nodes: nodes.length, nodesReporting: reporting, nodesNotReporting: notReporting.length }
        : {}),
      ...(starting > 0 ? { nodesStarting: starting } : {}),
      ...(falconClusterId !== undefined ? { falconClusterId } : {}),
    },
  };
}

/** Launched less than the grace period ago (an instance without a launch time is not new). */
function isNew(node: Ec2Instance, nowSeconds: number): boolean {
  if (node.launchedAt === undefined) return false;
  const launched = Date.parse(node.launchedAt);
  return !Number.isNaN(launched) && nowSeconds * 1000 - launched < NODE_REPORT_GRACE_MINUTES * 60_000;
}
