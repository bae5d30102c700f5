import { STATE_SEVERITY } from './cells.js';
import type { CellSummary, CoverageFeature, CoverageSummary } from './model.js';

export interface GridRow {
  readonly accountId: string;
  readonly accountName?: string;
  readonly cells: ReadonlyMap<string, CellSummary>;
  /** The account could not be read at all. */
  readonly unreadable?: boolean;
}

export interface FeatureGrid {
  readonly feature: CoverageFeature;
  readonly regions: readonly string[];
  /** Worst first: accounts with an unprotected cell or not readable at all, then unknown, partial; then by ID. */
  readonly rows: readonly GridRow[];
}

/** One feature's cells as an accounts × regions grid, for the table and the heatmap. */
export function featureGrid(report: CoverageSummary, feature: CoverageFeature): FeatureGrid {
  const names = new Map(report.accounts.map((a) => [a.id, a.name]));
  const unreadable = new Set(report.accounts.filter((a) => !a.readable).map((a) => a.id));
  const cells = report.cells.filter((c) => c.feature === feature);
  const regions = [...new Set(cells.map((c) => c.region))].sort();
  const byAccount = new Map<string, Map<string, CellSummary>>();
  for (const c of cells) {
    let row = byAccount.get(c.accountId);
    if (!row) {
      row = new Map<string, CellSummary>();
      byAccount.set(c.accountId, row);
    }
    row.set(c.region, c);
  }
  const rows = [...byAccount.entries()]
    .map(([accountId, row]): GridRow => {
      const accountName = names.get(accountId);
      return {
        accountId,
        ...(accountName !== undefined ? { accountName } : {}),
        cells: row,
        ...(unreadable.has(accountId) ? { unreadable: true } : {}),
      };
    })
    .sort((a, b) => compareRank(rankOf(b), rankOf(a)) || a.accountId.localeCompare(b.accountId));
  return { feature, regions, rows };
}

/** [worst state, cells not protected, unprotected items]; an unreadable account ranks with the worst. */
function rankOf(row: GridRow): [number, number, number] {
  if (row.unreadable === true) return [STATE_SEVERITY.unprotected, Number.MAX_SAFE_INTEGER, 0];
  let worst = 0;
  let notProtected = 0;
  let unprotected = 0;
  for (const c of row.cells.values()) {
    worst = Math.max(worst, STATE_SEVERITY[c.state]);
    if (c.state !== 'protected' && c.state !== 'not-applicable') notProtected += 1;
    unprotected += c.counts.unprotected;
  }
  return [worst, notProtected, unprotected];
}

function compareRank(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** "partial 1/3", "unprotected 0/1", "n/a", "unknown". */
export function cellSummary(c: CellSummary, label: string): string {
  const applicable = c.counts.total - c.counts.notApplicable;
  return applicable > 0 ? `${label} ${c.counts.protected}/${applicable}` : label;
}
