/**
 * The closed loop: what the latest coverage report says about each cluster's nodes, for the next
 * sweep (src/eks/run-decision.ts rebuilds a cluster whose nodes do not, or only partly, report,
 * with the same backoff as failures). Reads the EKS cells of `latest.json` from the report bucket
 * once, line by line (src/coverage/latest-cells.ts), then the details of only the accounts with an
 * EKS cell that is not protected; `eksNodeRepairs` names the
 * clusters. A cluster in a protected EKS cell, or listed as protected, reports (its repair streak
 * resets); a cluster the report does not mention gets no signal.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { eksNodeRepairs } from './eks-repair.js';
import { withAccountDetails } from './latest.js';
import { readLatestCells } from './latest-cells.js';
import type { CellSummary, CoverageCell, CoverageItem, CoverageSummary } from './model.js';
import type { CoverageSignal } from '../eks/run-decision.js';
import type { ClusterRef } from '../eks/runs-table.js';

export interface CoverageSignals {
  /** When the report was made. */
  readonly generatedAt: string;
  /** Clusters coverage says need a rebuild. */
  readonly repairs: number;
  readonly signal: (ref: ClusterRef) => CoverageSignal | undefined;
}

const key = (accountId: string, region: string, cluster?: string) =>
  cluster === undefined ? `${accountId}/${region}` : `${accountId}/${region}/${cluster}`;

/** Reads the report bucket's latest report; rejects when it is missing or unreadable (the caller logs it). */
export async function readCoverageSignals(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  signal?: AbortSignal,
): Promise<CoverageSignals> {
  // Only the EKS cells, read line by line: the whole summary does not fit the function at 10,000 accounts.
  const summary = await readLatestCells(s3, bucket, ['eksProtection'], signal ? { signal } : {});
  const troubled = [
    ...new Set(
      eksCells(summary)
        .filter((c) => c.state === 'partial' || c.state === 'unprotected')
        .map((c) => c.accountId),
    ),
  ];
  const { report } = await withAccountDetails(s3, bucket, summary, troubled, signal ? { signal } : {});
  return coverageSignals(report);
}

/** The signals of a report whose troubled EKS cells carry their items. */
export function coverageSignals(report: CoverageSummary): CoverageSignals {
  const clusters = new Map<string, CoverageSignal>();
  const reportingCells = new Set<string>();
  const cells = eksCells(report).map((c) => ({ ...c, items: itemsOf(c) }));
  for (const cell of cells) {
    if (cell.state === 'protected') reportingCells.add(key(cell.accountId, cell.region));
    for (const item of cell.items) {
      if (item.kind === 'cluster' && item.state === 'protected')
        clusters.set(key(cell.accountId, cell.region, item.id), 'reporting');
    }
  }
  const repairs = eksNodeRepairs({ cells });
  for (const r of repairs) {
    clusters.set(
      key(r.accountId, r.region, r.cluster),
      r.reporting === 'nodes-partly-reporting' ? 'partial' : 'not-reporting',
    );
  }
  return {
    generatedAt: report.generatedAt,
    repairs: repairs.length,
    signal: (ref) =>
      clusters.get(key(ref.accountId, ref.region, ref.cluster)) ??
      (reportingCells.has(key(ref.accountId, ref.region)) ? 'reporting' : undefined),
  };
}

/** The items of a cell whose details were read (withAccountDetails), else none. */
function itemsOf(cell: CellSummary): readonly CoverageItem[] {
  const items: readonly CoverageItem[] | undefined = (cell as Partial<CoverageCell>).items;
  return items ?? [];
}

function eksCells(report: CoverageSummary) {
  return report.cells.filter((c) => c.feature === 'eksProtection');
}
