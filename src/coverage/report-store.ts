/**
 * Where a report's accounts go as they are read: the items of every cell (the bulk of a report: at
 * 1,000 accounts × 17 regions over 100,000 instances, registries and clusters with their reasons and
 * facts) are written to a spool file at once, and only the cells' summaries (state, counts, reasons;
 * the reason objects shared between cells that say the same thing) stay in memory. The writers
 * (JSON document, heatmap, per-account details) read the items back one account at a time, so memory
 * does not grow with the items of the organization and no string ever holds the whole report.
 *
 * @example
 * const store = await ReportStore.open();
 * try {
 *   const run = await readCoverage(deps, options, (result) => store.add(result));
 *   const summary = store.summary(run);
 *   await writeReportJson(summary, store, (chunk) => output.write(chunk));
 * } finally {
 *   await store.close();
 * }
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountResult, CoverageRun } from './build.js';
import { totalsOf } from './cells.js';
import {
  COVERAGE_FEATURES,
  COVERAGE_SCHEMA_VERSION,
  type CellSummary,
  type CoverageCell,
  type CoverageFeature,
  type CoverageReason,
  type CoverageSummary,
  type ReportAccount,
} from './model.js';

/** Where one cell's items are in the spool (JSON array text). */
interface Segment {
  readonly offset: number;
  readonly length: number;
}

/** The items of cells, read back: by account, or by feature and account. */
export interface DetailsSource {
  /** The `AccountDetails` document of one account (JSON text), or undefined when it is not in the report. */
  accountDetails(accountId: string, generatedAt: string): Promise<string | undefined>;
  /** The items (JSON array text) of each given cell, in order; the cells are one account's, of one feature. */
  itemsOf(cells: readonly CellSummary[]): Promise<string[]>;
}

export class ReportStore implements DetailsSource {
  private readonly cells: CellSummary[] = [];
  private readonly segments = new WeakMap<CellSummary, Segment>();
  private readonly byAccount = new Map<string, { account: ReportAccount; cells: CellSummary[] }>();
  private readonly reasons = new Map<string, CoverageReason>();
  private size = 0;
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly file: FileHandle,
  ) {}

  /** A store spooling to a new file under `parent` (default: the system's temporary directory). */
  static async open(parent = tmpdir()): Promise<ReportStore> {
    const dir = await mkdtemp(join(parent, 'falcon-org-coverage-'));
    const file = await open(join(dir, 'items.jsonl'), 'w+');
    return new ReportStore(dir, file);
  }

  /** Takes one account's result: its items go to the spool, its cells' summaries stay. */
  async add(result: AccountResult): Promise<void> {
    const ordered = [...result.cells].sort(
      (a, b) =>
        COVERAGE_FEATURES.indexOf(a.feature) - COVERAGE_FEATURES.indexOf(b.feature) ||
        a.region.localeCompare(b.region),
    );
    const parts: Buffer[] = [];
    const summaries: CellSummary[] = [];
    let offset = this.size;
    for (const cell of ordered) {
      const bytes = Buffer.from(JSON.stringify(cell.items), 'utf8');
      parts.push(bytes);
      const summary = this.summarize(cell);
      this.segments.set(summary, { offset, length: bytes.length });
      offset += bytes.length;
      summaries.push(summary);
    }
    const chunk = Buffer.concat(parts);
    const at = this.size;
    this.size += chunk.length;
    this.writing = this.writing.then(() => this.file.write(chunk, 0, chunk.length, at));
    await this.writing;
    this.cells.push(...summaries);
    this.byAccount.set(result.account.id, { account: result.account, cells: summaries });
  }

  /** The report without items: cells sorted by feature, account and region, totals counted. */
  summary(run: CoverageRun): CoverageSummary {
    const cells = [...this.cells].sort(cellOrder);
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

  async itemsOf(cells: readonly CellSummary[]): Promise<string[]> {
    const segments = cells.map((c) => this.segments.get(c));
    const known = segments.filter((s): s is Segment => s !== undefined);
    if (known.length === 0) return cells.map(() => '[]');
    // One account's cells of one feature lie next to each other: one read for all of them.
    const start = Math.min(...known.map((s) => s.offset));
    const end = Math.max(...known.map((s) => s.offset + s.length));
    const buffer = Buffer.alloc(end - start);
    await this.writing;
    await this.file.read(buffer, 0, buffer.length, start);
    return segments.map((s) =>
      s === undefined ? '[]' : buffer.toString('utf8', s.offset - start, s.offset - start + s.length),
    );
  }

  async accountDetails(accountId: string, generatedAt: string): Promise<string | undefined> {
    const entry = this.byAccount.get(accountId);
    if (entry === undefined) return undefined;
    const items = await this.itemsOf(entry.cells);
    const cells = entry.cells.map(
      (c, i) =>
        `{"feature":${JSON.stringify(c.feature)},"region":${JSON.stringify(c.region)},"items":${items[i] ?? '[]'}}`,
    );
    return `{"schemaVersion":${COVERAGE_SCHEMA_VERSION},"generatedAt":${JSON.stringify(generatedAt)},"account":${JSON.stringify(entry.account)},"cells":[${cells.join(',')}]}`;
  }

  /** Removes the spool. */
  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    await this.file.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  private summarize(cell: CoverageCell): CellSummary {
    return {
      accountId: cell.accountId,
      region: cell.region,
      feature: cell.feature,
      state: cell.state,
      counts: cell.counts,
      reasons: cell.reasons.map((r) => this.intern(r)),
    };
  }

  /** Cells of many accounts say the same thing ("1 instance: Not covered: …"): keep one object for it. */
  private intern(reason: CoverageReason): CoverageReason {
    const key = `${reason.code}\u0000${reason.text}`;
    let shared = this.reasons.get(key);
    if (shared === undefined) {
      shared = { code: reason.code, text: reason.text };
      if (this.reasons.size < 100_000) this.reasons.set(key, shared);
    }
    return shared;
  }
}

/** Details held in memory (a report built with `buildCoverageReport`, or read back from a stored report). */
export class InMemoryDetails implements DetailsSource {
  private readonly items = new Map<CellSummary, string>();
  private readonly accounts = new Map<string, { account: ReportAccount; cells: CoverageCell[] }>();

  constructor(report: {
    readonly accounts: readonly ReportAccount[];
    readonly cells: readonly CoverageCell[];
  }) {
    for (const a of report.accounts) this.accounts.set(a.id, { account: a, cells: [] });
    for (const c of report.cells) {
      this.items.set(c, JSON.stringify(c.items));
      this.accounts.get(c.accountId)?.cells.push(c);
    }
  }

  itemsOf(cells: readonly CellSummary[]): Promise<string[]> {
    return Promise.resolve(cells.map((c) => this.items.get(c) ?? '[]'));
  }

  accountDetails(accountId: string, generatedAt: string): Promise<string | undefined> {
    const entry = this.accounts.get(accountId);
    if (entry === undefined) return Promise.resolve(undefined);
    return Promise.resolve(
      JSON.stringify({
        schemaVersion: COVERAGE_SCHEMA_VERSION,
        generatedAt,
        account: entry.account,
        cells: entry.cells.map((c) => ({ feature: c.feature, region: c.region, items: c.items })),
      }),
    );
  }
}

export function cellOrder(a: CellSummary, b: CellSummary): number {
  return (
    COVERAGE_FEATURES.indexOf(a.feature) - COVERAGE_FEATURES.indexOf(b.feature) ||
    a.accountId.localeCompare(b.accountId) ||
    a.region.localeCompare(b.region)
  );
}

/** The summary's cells of one feature grouped by account, in document order. */
export function groupsOf(
  cells: readonly CellSummary[],
): { feature: CoverageFeature; accountId: string; cells: CellSummary[] }[] {
  const groups: { feature: CoverageFeature; accountId: string; cells: CellSummary[] }[] = [];
  for (const cell of cells) {
    const last = groups.at(-1);
    if (last !== undefined && last.feature === cell.feature && last.accountId === cell.accountId) {
      last.cells.push(cell);
    } else {
      groups.push({ feature: cell.feature, accountId: cell.accountId, cells: [cell] });
    }
  }
  return groups;
}
