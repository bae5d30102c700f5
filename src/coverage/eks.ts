import { OPT_OUT_TAG } from '../eks/run-contract.js';
import type { RunsTableItem } from '../eks/runs-table.js';
import { VERDICT_CODES } from '../eks/verdict.js';
import { cellOf } from './cells.js';
import { fresher, isStale, notSeenFor } from './host-freshness.js';
import type { CoverageCell, CoverageItem, CoverageReason, Ec2Instance, FalconHost } from './model.js';

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
 * when there is no item), then whether Falcon sees the cluster's nodes. A Fargate-only cluster runs
 * sidecar sensors that are not hosts, so its run result is the evidence.
 */
export function judgeEksRegion(facts: EksRegionFacts): CoverageCell {
  const where = { accountId: facts.accountId, region: facts.region, feature: 'eksProtection' as const };
  if (facts.clusters.length === 0) {
    return { ...cellOf(where, []), reasons: [{ code: 'no-clusters', text: 'No EKS clusters.' }] };
  }
  const runs = new Map((facts.runs ?? []).map((r) => [r.cluster, r]));
  const hosts = 'unreadable' in facts.hosts ? undefined : facts.hosts;
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
    if (item.verdict?.code === VERDICT_CODES.optedOut || item.lastRun?.outcome === 'opted-out') {
      // Left out on purpose by the cluster's owner: not a gap in protection.
      return {
        ...base,
        state: 'not-applicable',
        reasons: [
          {
            code: 'opted-out',
            text: `Opted out: the cluster is tagged ${OPT_OUT_TAG.key}=${OPT_OUT_TAG.value}. Remove the tag to have it protected.`,
          },
        ],
        facts: itemFacts,
      };
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
    const fargateOnly =
      run.components.some((c) => c.name === 'FalconContainer') &&
      !run.components.some((c) => c.name === 'FalconNodeSensor');
    if (fargateOnly) {
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
    // A node reports when Falcon names the cluster (in this region: hosts are the whole account's, and a
    // cluster name is unique per region only), or sees the instance ID of an EC2 node of the cluster.
    const ec2Nodes = new Set(
      facts.instances.filter((i) => i.eksCluster === cluster).map((i) => i.instanceId),
    );
    const nodes = hosts.filter(
      (h) =>
        (h.clusterName === cluster && inRegion(h.zoneGroup, facts.region)) ||
        (h.instanceId !== undefined && ec2Nodes.has(h.instanceId)),
    );
    if (ec2Nodes.size > 0) itemFacts.ec2Nodes = ec2Nodes.size;
    const current = nodes.filter((h) => !isStale(h, facts.nowSeconds, facts.hostStaleAfterHours));
    if (current.length === 0 && nodes.length > 0) {
      const latest = nodes.reduce<FalconHost | undefined>((a, b) => fresher(a, b), undefined);
      return unprotected({
        code: 'sensor-stale',
        text: `Deployed (${run.outcome}), but no node of this cluster reports to Falcon: ${nodes.length} known to Falcon, the latest ${latest === undefined ? '' : notSeenFor(latest, facts.nowSeconds)}, more than coverage.hostStaleAfterHours (${facts.hostStaleAfterHours}). Check the FalconNodeSensor pods and their access to the Falcon cloud.`,
      });
    }
    if (nodes.length === 0) {
      return unprotected({
        code: 'nodes-not-reporting',
        text: `Deployed (${run.outcome}), but no node of this cluster reports to Falcon${ec2Nodes.size > 0 ? ` (${ec2Nodes.size} EC2 node(s) running)` : ''}. Check the FalconNodeSensor pods and their access to the Falcon cloud.`,
      });
    }
    return {
      ...base,
      state: 'protected',
      reasons: [
        {
          code: 'nodes-reporting',
          text: `${current.length} ${current.length === 1 ? 'node reports' : 'nodes report'} to Falcon.`,
        },
      ],
      facts: { ...itemFacts, nodesReporting: current.length },
    };
  });
  return cellOf(where, items, [], 'cluster');
}

/** Whether a host's availability zone (`zone_group`, e.g. "eu-west-1a") is in the region; unknown counts. */
function inRegion(zoneGroup: string | undefined, region: string): boolean {
  return (
    zoneGroup === undefined || (zoneGroup.startsWith(region) && !/^\d/.test(zoneGroup.slice(region.length)))
  );
}
