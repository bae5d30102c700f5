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
import { reportOf } from './cells.js';
import {
  COVERAGE_FEATURES,
  COVERAGE_SCHEMA_VERSION,
  type CellCounts,
  type CellSummary,
  type CoverageCell,
  type CoverageFeature,
  type CoverageReason,
  type CoverageSummary,
  type ReportAccount,
} from './model.js';

/** Where one account's items are in the spool: its first byte, and each cell's length (in `cells` order). */
interface AccountSpool {
  readonly account: ReportAccount;
  readonly cells: readonly CellSummary[];
  readonly start: number;
  readonly lengths: Uint32Array;
}

/** The items of cells, read back: by account, or by feature and account. */
export interface DetailsSource {
  /** The `AccountDetails` document of one account (JSON text), or undefined when it is not in the report. */
  accountDetails(accountId: string, generatedAt: string): Promise<string | undefined>;
  /** The items (JSON array text) of each given cell, in order; the cells are one account's, of one feature. */
  itemsOf(cells: readonly CellSummary[]): Promise<string[]>;
}

/** Interned values kept at most (beyond, new values are kept per cell: memory still bounded by the cells). */
const INTERNED_MAX = 100_000;
const NO_REASONS: readonly CoverageReason[] = Object.freeze([]);

export class ReportStore implements DetailsSource {
  private readonly cells: CellSummary[] = [];
  private readonly byAccount = new Map<string, AccountSpool>();
  /** code → text → the one reason object saying it. */
  private readonly reasons = new Map<string, Map<string, CoverageReason>>();
  /** Reason lists by their (interned) reasons: a trie keyed by reason object. */
  private readonly reasonLists = new Map<CoverageReason, ReasonListNode>();
  private readonly counts = new Map<string, CellCounts>();
  private interned = 0;
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

  /** The store's own directory (removed by {@link close}): writers may put temporary files there. */
  get directory(): string {
    return this.dir;
  }

  /**
   * Takes one account's result: its items go to the spool, its cells' summaries stay. A summary holds
   * no object of its own beyond the cell itself: its counts and reasons are shared with every other
   * cell that has the same ones (most cells of an organization say the same few things).
   */
  async add(result: AccountResult): Promise<void> {
    const ordered = [...result.cells].sort(
      (a, b) =>
        COVERAGE_FEATURES.indexOf(a.feature) - COVERAGE_FEATURES.indexOf(b.feature) ||
        a.region.localeCompare(b.region),
    );
    const parts: Buffer[] = [];
    const summaries: CellSummary[] = [];
    const lengths = new Uint32Array(ordered.length);
    ordered.forEach((cell, i) => {
      const bytes = Buffer.from(JSON.stringify(cell.items), 'utf8');
      parts.push(bytes);
      lengths[i] = bytes.length;
      summaries.push(this.summarize(cell));
    });
    const chunk = Buffer.concat(parts);
    const at = this.size;
    this.size += chunk.length;
    this.writing = this.writing.then(() => this.file.write(chunk, 0, chunk.length, at));
    await this.writing;
    for (const summary of summaries) this.cells.push(summary);
    this.byAccount.set(result.account.id, { account: result.account, cells: summaries, start: at, lengths });
  }

  /** The report without items: cells sorted by feature, account and region, totals counted. */
  summary(run: CoverageRun): CoverageSummary {
    return reportOf(run, this.cells);
  }

  async itemsOf(cells: readonly CellSummary[]): Promise<string[]> {
    const first = cells[0];
    const entry = first === undefined ? undefined : this.byAccount.get(first.accountId);
    if (entry === undefined) return cells.map(() => '[]');
    const offsets: number[] = [];
    let offset = entry.start;
    for (let i = 0; i < entry.cells.length; i += 1) {
      offsets.push(offset);
      offset += entry.lengths[i] ?? 0;
    }
    const segments = cells.map((c) => {
      const i = c.accountId === entry.account.id ? entry.cells.indexOf(c) : -1;
      return i < 0 ? undefined : { offset: offsets[i] ?? 0, length: entry.lengths[i] ?? 0 };
    });
    const known = segments.filter((s) => s !== undefined);
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
      counts: this.internCounts(cell.counts),
      reasons: this.internReasons(cell.reasons),
    };
  }

  private internCounts(counts: CellCounts): CellCounts {
    const key = `${counts.total},${counts.protected},${counts.partial},${counts.unprotected},${counts.notApplicable},${counts.unknown}`;
    const shared = this.counts.get(key);
    if (shared !== undefined) return shared;
    const copy: CellCounts = {
      total: counts.total,
      protected: counts.protected,
      partial: counts.partial,
      unprotected: counts.unprotected,
      notApplicable: counts.notApplicable,
      unknown: counts.unknown,
    };
    if (this.room()) this.counts.set(key, copy);
    return copy;
  }

  /** Cells of many accounts say the same things ("1 instance: Not covered: …"): one list for them. */
  private internReasons(reasons: readonly CoverageReason[]): readonly CoverageReason[] {
    if (reasons.length === 0) return NO_REASONS;
    const shared = reasons.map((r) => this.internReason(r));
    let level = this.reasonLists;
    let node: ReasonListNode | undefined;
    for (const reason of shared) {
      node = level.get(reason);
      if (node === undefined) {
        if (!this.room()) return shared;
        node = { next: new Map() };
        level.set(reason, node);
      }
      level = node.next;
    }
    if (node === undefined) return shared;
    node.list ??= shared;
    return node.list;
  }

  private internReason(reason: CoverageReason): CoverageReason {
    let texts = this.reasons.get(reason.code);
    if (texts === undefined) {
      texts = new Map();
      this.reasons.set(reason.code, texts);
    }
    let shared = texts.get(reason.text);
    if (shared === undefined) {
      shared = { code: reason.code, text: reason.text };
      if (this.room()) texts.set(reason.text, shared);
    }
    return shared;
  }

  private room(): boolean {
    if (this.interned >= INTERNED_MAX) return false;
    this.interned += 1;
    return true;
  }
}

/** One step of the reason-list trie: the list ending here, and the lists going on. */
interface ReasonListNode {
  list?: readonly CoverageReason[];
  readonly next: Map<CoverageReason, ReasonListNode>;
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
