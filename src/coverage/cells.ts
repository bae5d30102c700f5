import {
  COVERAGE_FEATURES,
  COVERAGE_SCHEMA_VERSION,
  COVERAGE_STATES,
  type CellCounts,
  type CellSummary,
  type CoverageReport,
  type CoverageCell,
  type CoverageFeature,
  type CoverageItem,
  type CoverageReason,
  type CoverageState,
  type CoverageTotals,
} from './model.js';

export function countItems(items: readonly CoverageItem[]): CellCounts {
  let protectedCount = 0;
  let partial = 0;
  let unprotected = 0;
  let notApplicable = 0;
  let unknown = 0;
  for (const item of items) {
    if (item.state === 'protected') protectedCount += 1;
    else if (item.state === 'partial') partial += 1;
    else if (item.state === 'unprotected') unprotected += 1;
    else if (item.state === 'not-applicable') notApplicable += 1;
    else unknown += 1;
  }
  return { total: items.length, protected: protectedCount, partial, unprotected, notApplicable, unknown };
}

/**
 * The state of a cell from its items: nothing to protect → not-applicable; nothing readable →
 * unknown; all protected → protected; none protected or partly protected and something known
 * unprotected → unprotected (even when other items are unknown); else partial (some protected or
 * partly protected, some not or unknown).
 */
export function stateOf(counts: CellCounts): CoverageState {
  const applicable = counts.total - counts.notApplicable;
  if (applicable === 0) return 'not-applicable';
  if (counts.unknown === applicable) return 'unknown';
  if (counts.protected === applicable) return 'protected';
  if (counts.protected === 0 && counts.partial === 0) return 'unprotected';
  return 'partial';
}

/** A cell judged from its items; `reasons` come first, then one summary line per item reason. */
export function cellOf(
  where: { accountId: string; region: string; feature: CoverageFeature },
  items: readonly CoverageItem[],
  reasons: readonly CoverageReason[] = [],
  noun = 'item',
): CoverageCell {
  const counts = countItems(items);
  return {
    ...where,
    state: stateOf(counts),
    counts,
    reasons: [...reasons, ...summarize(items, noun)],
    items,
  };
}

/** A cell that could not be read at all. */
export function unknownCell(
  where: { accountId: string; region: string; feature: CoverageFeature },
  reason: CoverageReason,
): CoverageCell {
  return {
    ...where,
    state: 'unknown',
    counts: { total: 0, protected: 0, partial: 0, unprotected: 0, notApplicable: 0, unknown: 0 },
    reasons: [reason],
    items: [],
  };
}

/** "3 instances: not covered: not SSM-managed" per reason code of the items that are not protected. */
function summarize(items: readonly CoverageItem[], noun: string): CoverageReason[] {
  const byCode = new Map<string, { reason: CoverageReason; count: number }>();
  for (const item of items) {
    if (item.state === 'protected' || item.state === 'not-applicable') continue;
    const first = item.reasons[0];
    if (first === undefined) continue;
    const entry = byCode.get(first.code);
    if (entry) entry.count += 1;
    else byCode.set(first.code, { reason: first, count: 1 });
  }
  return [...byCode.values()]
    .sort((a, b) => b.count - a.count)
    .map(({ reason, count }) => ({
      code: reason.code,
      text: `${count} ${count === 1 ? noun : `${noun}s`}: ${headline(reason)}`,
    }));
}

/** The first sentence of a reason (item reasons name the item; the summary should not). */
function headline(reason: CoverageReason): string {
  const text = reason.text;
  const stop = text.indexOf('. ');
  return stop === -1 ? text.replace(/\.$/, '') : text.slice(0, stop);
}

export function totalsOf(cells: readonly Pick<CoverageCell, 'feature' | 'state'>[]): CoverageTotals {
  const zero = (): Record<CoverageState, number> =>
    Object.fromEntries(COVERAGE_STATES.map((s) => [s, 0])) as Record<CoverageState, number>;
  const totals = Object.fromEntries(COVERAGE_FEATURES.map((f) => [f, zero()])) as Record<
    CoverageFeature,
    Record<CoverageState, number>
  >;
  for (const cell of cells) totals[cell.feature][cell.state] += 1;
  return totals;
}

/** How bad a state is, for ordering (worst first). */
export const STATE_SEVERITY: Readonly<Record<CoverageState, number>> = {
  unprotected: 4,
  unknown: 3,
  partial: 2,
  protected: 1,
  'not-applicable': 0,
};

/**
 * The one place a report's cells become its regions, totals and verdict, with their items (the whole
 * report, src/coverage/build.ts) or without (the streamed summary): cells sorted in place.
 */
export function reportOf<C extends CellSummary>(
  run: Pick<CoverageReport, 'generatedAt' | 'scope' | 'accounts'> & {
    readonly ous?: CoverageReport['ous'] | undefined;
  },
  cells: C[],
): Omit<CoverageReport, 'cells'> & { readonly cells: C[] } {
  cells.sort(cellOrder);
  return {
    schemaVersion: COVERAGE_SCHEMA_VERSION,
    generatedAt: run.generatedAt,
    scope: run.scope,
    accounts: run.accounts,
    regions: [...new Set(cells.map((c) => c.region))].sort(),
    cells,
    totals: totalsOf(cells),
    allProtected: cells.every((c) => c.state === 'protected' || c.state === 'not-applicable'),
    ...(run.ous !== undefined ? { ous: run.ous } : {}),
  };
}

/** Cells by feature, account and region. */
export function cellOrder(a: CellSummary, b: CellSummary): number {
  return (
    COVERAGE_FEATURES.indexOf(a.feature) - COVERAGE_FEATURES.indexOf(b.feature) ||
    a.accountId.localeCompare(b.accountId) ||
    a.region.localeCompare(b.region)
  );
}
