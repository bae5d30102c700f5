import { STATE_SEVERITY } from './cells.js';
import { cellSummary, featureGrid, type GridRow } from './grid.js';
import { FEATURE_LABELS, STATE_LABELS } from './labels.js';
import { COVERAGE_STATES, type CellSummary, type CoverageState, type CoverageSummary } from './model.js';

export interface TerminalOptions {
  /** ANSI colours (only on a terminal, and not with NO_COLOR). */
  readonly color: boolean;
  /** Most non-protected cells listed under "Worst first". @default 15 */
  readonly worst?: number;
  /** The whole table whatever the number of accounts. @default false */
  readonly full?: boolean;
  /** Above this many accounts, each feature's table shows only its worst rows. @default 40 */
  readonly tableRows?: number;
}

const COLORS: Readonly<Record<CoverageState, string>> = {
  protected: '\u001b[32m',
  partial: '\u001b[33m',
  unprotected: '\u001b[31m',
  unknown: '\u001b[35m',
  'not-applicable': '\u001b[2m',
};
const RESET = '\u001b[0m';

/**
 * The report as text: per feature the totals and a table of accounts × regions (worst accounts
 * first; past `tableRows` accounts only the worst rows, the whole table with `full`), then the worst
 * cells with their first reason.
 */
export function renderTerminal(report: CoverageSummary, options: TerminalOptions): string {
  const rowsShown = options.full === true ? Number.POSITIVE_INFINITY : (options.tableRows ?? 40);
  const paint = (state: CoverageState, text: string): string =>
    options.color ? `${COLORS[state]}${text}${RESET}` : text;
  const lines: string[] = [];
  lines.push(
    `Coverage of ${report.accounts.length} account(s) at ${report.generatedAt} (schema ${report.schemaVersion})`,
  );
  // Listed, never read (the management account out of scope): no cells, so said here.
  for (const a of report.accounts.filter((x) => x.excluded === true)) {
    lines.push(
      `Not covered: ${a.id}${a.name !== undefined ? ` (${a.name})` : ''}: ${oneLine(a.reason?.text ?? '')}`,
    );
  }
  for (const feature of report.scope.features) {
    const totals = report.totals[feature];
    lines.push('');
    lines.push(
      `${FEATURE_LABELS[feature]}: ${
        COVERAGE_STATES.filter((s) => totals[s] > 0)
          .map((s) => paint(s, `${totals[s]} ${STATE_LABELS[s]}`))
          .join(', ') || 'no cells'
      }`,
    );
    const grid = featureGrid(report, feature);
    if (grid.rows.length === 0) continue;
    const label = (row: GridRow): string =>
      (row.accountName === undefined ? row.accountId : `${row.accountId} ${row.accountName}`).slice(0, 34);
    const text = (c: CellSummary | undefined): string =>
      c === undefined ? '' : cellSummary(c, STATE_LABELS[c.state]);
    const shown = grid.rows.slice(0, rowsShown);
    const first = Math.max(7, ...shown.map((r) => label(r).length));
    const widths = grid.regions.map((region) =>
      Math.max(region.length, ...shown.map((r) => text(r.cells.get(region)).length)),
    );
    lines.push(
      ['account'.padEnd(first), ...grid.regions.map((r, i) => r.padEnd(widths[i] ?? 0))].join('  ').trimEnd(),
    );
    for (const row of shown) {
      const parts = grid.regions.map((region, i) => {
        const c = row.cells.get(region);
        const t = text(c).padEnd(widths[i] ?? 0);
        return c === undefined ? t : paint(c.state, t);
      });
      lines.push([label(row).padEnd(first), ...parts].join('  ').trimEnd());
    }
    if (shown.length < grid.rows.length) {
      lines.push(
        `… ${grid.rows.length - shown.length} more account(s), better than those above (--full for the whole table, --html for the heatmap)`,
      );
    }
  }
  const worst = report.cells
    .filter((c) => c.state !== 'protected' && c.state !== 'not-applicable')
    .sort(
      (a, b) =>
        STATE_SEVERITY[b.state] - STATE_SEVERITY[a.state] ||
        b.counts.unprotected - a.counts.unprotected ||
        a.accountId.localeCompare(b.accountId),
    );
  lines.push('');
  if (worst.length === 0) {
    lines.push(paint('protected', 'Everything in scope is protected.'));
  } else {
    const limit = options.worst ?? 15;
    lines.push(`Worst first (${worst.length} cell(s) not protected):`);
    for (const c of worst.slice(0, limit)) {
      const reason = c.reasons[0]?.text ?? '';
      lines.push(
        `  ${paint(c.state, STATE_LABELS[c.state].padEnd(11))} ${c.accountId} ${c.region.padEnd(14)} ${c.feature}: ${oneLine(reason)}`,
      );
    }
    if (worst.length > limit) lines.push(`  … and ${worst.length - limit} more (see --json or --html)`);
  }
  return `${lines.join('\n')}\n`;
}

function oneLine(text: string): string {
  // Never let a reason from an API move the cursor or colour the terminal.
  const flat = text.replace(/\p{Cc}+/gu, ' ');
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}
