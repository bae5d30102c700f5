import { STATE_SEVERITY } from './cells.js';
import type { CoverageCell, CoverageFeature, CoverageReport } from './model.js';

export interface GridRow {
  readonly accountId: string;
  readonly accountName?: string;
  readonly cells: ReadonlyMap<string, CoverageCell>;
}

export interface FeatureGrid {
  readonly feature: CoverageFeature;
  readonly regions: readonly string[];
  /** Accounts with the worst cells first (unprotected, unknown, partial), then by ID. */
  readonly rows: readonly GridRow[];
}

/** One feature's cells as an accounts × regions grid, for the table and the heatmap. */
export function featureGrid(report: CoverageReport, feature: CoverageFeature): FeatureGrid {
  const names = new Map(report.accounts.map((a) => [a.id, a.name]));
  const cells = report.cells.filter((c) => c.feature === feature);
  const regions = [...new Set(cells.map((c) => c.region))].sort();
  const byAccount = new Map<string, Map<string, CoverageCell>>();
  for (const c of cells) {
    let row = byAccount.get(c.accountId);
    if (!row) {
      row = new Map<string, CoverageCell>();
      byAccount.set(c.accountId, row);
    }
    row.set(c.region, c);
  }
  const rows = [...byAccount.entries()]
    .map(([accountId, row]): GridRow => {
      const accountName = names.get(accountId);
      return { accountId, ...(accountName !== undefined ? { accountName } : {}), cells: row };
    })
    .sort((a, b) => badness(b) - badness(a) || a.accountId.localeCompare(b.accountId));
  return { feature, regions, rows };
}

function badness(row: GridRow): number {
  let n = 0;
  for (const c of row.cells.values()) n += STATE_SEVERITY[c.state] ** 3 * 1000 + c.counts.unprotected;
  return n;
}

/** "partial 1/3", "unprotected 0/1", "n/a", "unknown". */
export function cellSummary(c: CoverageCell, label: string): string {
  const applicable = c.counts.total - c.counts.notApplicable;
  return applicable > 0 ? `${label} ${c.counts.protected}/${applicable}` : label;
}
