/*
 * What the next EKS sweep needs from a coverage report: the clusters whose nodes stopped reporting
 * to Falcon, or only partly report, with where they are. A rebuild (a new deployer run) can fix
 * those; it cannot fix what only the cluster's owner can (an unlabelled Fargate namespace, an
 * ineligible cluster, a failed run, which has its own backoff), so those are not listed.
 *
 * It reads the report document (`CoverageReport`, or the stored `latest.json` read back), never the
 * judges' inputs, so a sweep in another process can use the last published report as it is.
 */
import type { CoverageReport, ReasonCode } from './model.js';

/** Why a cluster is listed: none of its EC2 nodes reports, or some do and others do not. */
export type EksNodeReporting = 'nodes-not-reporting' | 'nodes-partly-reporting';

export interface EksNodeRepair {
  readonly accountId: string;
  readonly region: string;
  readonly cluster: string;
  readonly reporting: EksNodeReporting;
  /** EC2 nodes of the cluster when the report was made, and how many of them reported. */
  readonly nodes?: number;
  readonly nodesReporting?: number;
  /** The report's reason, for the sweep's own verdict ("nodes stopped reporting: …"). */
  readonly reason: string;
}

/** Item reason codes a rebuild answers, and what they mean for the sweep. */
const REPAIRABLE: Partial<Record<ReasonCode, EksNodeReporting>> = {
  'nodes-not-reporting': 'nodes-not-reporting',
  'sensor-stale': 'nodes-not-reporting',
  'nodes-partly-reporting': 'nodes-partly-reporting',
};

/**
 * The EKS clusters of a report whose nodes do not, or only partly, report to Falcon, in report order
 * (feature, account, region, cluster).
 *
 * @example
 * const report = await readLatestReport(…);
 * for (const c of eksNodeRepairs(report)) queueRun(c.accountId, c.region, c.cluster, `coverage: ${c.reporting}`);
 */
export function eksNodeRepairs(report: Pick<CoverageReport, 'cells'>): EksNodeRepair[] {
  const out: EksNodeRepair[] = [];
  for (const cell of report.cells) {
    if (cell.feature !== 'eksProtection') continue;
    for (const item of cell.items) {
      if (item.kind !== 'cluster') continue;
      const reason = item.reasons.find((r) => REPAIRABLE[r.code] !== undefined);
      const reporting = reason === undefined ? undefined : REPAIRABLE[reason.code];
      if (reason === undefined || reporting === undefined) continue;
      const nodes = item.facts.ec2Nodes;
      const nodesReporting = item.facts.nodesReporting;
      out.push({
        accountId: cell.accountId,
        region: cell.region,
        cluster: item.id,
        reporting,
        ...(typeof nodes === 'number' ? { nodes } : {}),
        ...(typeof nodesReporting === 'number' ? { nodesReporting } : {}),
        reason: reason.text,
      });
    }
  }
  return out;
}
