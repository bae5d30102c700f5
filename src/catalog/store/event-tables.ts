/**
 * The store's event bookkeeping (schema version 2): the per-registry event state row that every
 * batch of events and every scan commit locks first (so they take turns per registry, across
 * processes), marks, applied event ids, the spans scans observed, and rejections.
 */
import type { Span } from '../events/instant.js';
import { addCounts, type OutcomeCounts, type Rejection } from '../events/model.js';
import { markKey, type EventCommit, type EventView } from '../events/plan-events.js';
import type { DedupeScope, RegistryState } from '../model.js';
import { insertMany, json, selectIn, str, toImage, toState } from './rows.js';
import type { SqlExecutor } from './sql.js';

/** What a batch of events names, so the store can read what concerns it. */
export interface EventViewRequest {
  readonly registry: string;
  readonly repositories: readonly string[];
  readonly ids: readonly string[];
  readonly digests: readonly string[];
  readonly dedupe: DedupeScope;
}

/**
 * Creates the registry's event state row if needed and locks it for the rest of the transaction
 * (PostgreSQL: a row lock; SQLite: the transaction already holds the write lock). Returns the
 * registry's event sequence.
 */
export async function lockEventState(tx: SqlExecutor, registry: string): Promise<number> {
  await tx.run(
    "INSERT INTO catalog_event_state (registry, seq, scan_seq, since_scan) VALUES (?, 0, 0, '{}') ON CONFLICT (registry) DO NOTHING",
    [registry],
  );
  await tx.run('UPDATE catalog_event_state SET seq = seq WHERE registry = ?', [registry]);
  return readSeq(tx, registry);
}

export async function readSeq(tx: SqlExecutor, registry: string): Promise<number> {
  const rows = await tx.all('SELECT seq FROM catalog_event_state WHERE registry = ?', [registry]);
  return rows[0] ? Number(rows[0].seq) : 0;
}

function inRepositories(tx: SqlExecutor, registry: string, repositories: readonly string[]) {
  return (table: string, columns: string) =>
    selectIn(
      tx,
      repositories,
      (p) => `SELECT ${columns} FROM ${table} WHERE registry = ? AND repository IN (${p})`,
      (chunk) => [registry, ...chunk],
    );
}

/** The stored state of some repositories of a registry. */
export async function readRepositories(
  tx: SqlExecutor,
  registry: string,
  repositories: readonly string[],
): Promise<RegistryState> {
  const inRepos = inRepositories(tx, registry, repositories);
  return toState(
    await inRepos('catalog_images', 'repository, digest, media_type, platforms, pushed_at, size_bytes'),
    await inRepos('catalog_tags', 'repository, tag, digest'),
  );
}

/** Reads what the store holds that a batch of events concerns. */
export async function readEventView(tx: SqlExecutor, request: EventViewRequest): Promise<EventView> {
  const { registry } = request;
  const inRepos = inRepositories(tx, registry, request.repositories);
  const repositories = await readRepositories(tx, registry, request.repositories);
  const markRows = await inRepos('catalog_event_marks', 'repository, subject, lo, hi');
  const observedRows = await inRepos('catalog_observed', 'repository, lo, hi');
  const seen = await selectIn(
    tx,
    request.ids,
    (p) => `SELECT id FROM catalog_event_ids WHERE registry = ? AND id IN (${p})`,
    (chunk) => [registry, ...chunk],
  );
  const known = await selectIn(
    tx,
    request.digests,
    (p) =>
      `SELECT digest, media_type, platforms, pushed_at, size_bytes FROM catalog_images WHERE registry = ? AND digest IN (${p})`,
    (chunk) => [registry, ...chunk],
  );
  const inventoried = await selectIn(
    tx,
    request.digests,
    (p) =>
      request.dedupe === 'global'
        ? `SELECT digest FROM catalog_inventory WHERE digest IN (${p})`
        : `SELECT digest FROM catalog_inventory WHERE registry = ? AND digest IN (${p})`,
    (chunk) => (request.dedupe === 'global' ? [...chunk] : [registry, ...chunk]),
  );
  return {
    registry,
    repositories,
    marks: new Map(
      markRows.map((r) => [markKey(str(r.repository), str(r.subject)), { lo: str(r.lo), hi: str(r.hi) }]),
    ),
    observed: new Map(observedRows.map((r) => [str(r.repository), { lo: str(r.lo), hi: str(r.hi) }])),
    seen: new Set(seen.map((r) => str(r.id))),
    known: new Map(known.map((r) => [str(r.digest), toImage(r, [])])),
    inventoried: new Set(inventoried.map((r) => str(r.digest))),
  };
}

/** The bookkeeping of one applied batch: marks, ids, counts; `seq` is the batch's sequence number. */
export async function writeEventBookkeeping(
  tx: SqlExecutor,
  commit: EventCommit,
  seq: number,
  at: string,
): Promise<void> {
  const { registry } = commit;
  await insertMany(
    tx,
    'catalog_event_marks',
    ['registry', 'repository', 'subject', 'lo', 'hi', 'seq'],
    commit.marks.map(([repository, subject, span]) => [registry, repository, subject, span.lo, span.hi, seq]),
    'ON CONFLICT (registry, repository, subject) DO UPDATE SET lo = excluded.lo, hi = excluded.hi, seq = excluded.seq',
  );
  await insertMany(
    tx,
    'catalog_event_ids',
    ['registry', 'id', 'seq'],
    commit.eventIds.map((id) => [registry, id, seq]),
    'ON CONFLICT (registry, id) DO NOTHING',
  );
  const rows = await tx.all('SELECT since_scan FROM catalog_event_state WHERE registry = ?', [registry]);
  const since = (rows[0] ? json(rows[0].since_scan) : {}) as Record<string, number>;
  addCounts(since, commit.counts);
  await tx.run(
    'UPDATE catalog_event_state SET seq = ?, since_scan = ?, last_event_at = ? WHERE registry = ?',
    [seq, JSON.stringify(since), at, registry],
  );
  await recordRejections(tx, registry, commit.rejections, at);
}

/** Adds rejections to the counts kept per source and reason (with the last one's detail). */
export async function recordRejections(
  tx: SqlExecutor,
  source: string,
  rejections: readonly Rejection[],
  at: string,
): Promise<void> {
  const byReason = new Map<string, { count: number; detail: string }>();
  for (const r of rejections) {
    byReason.set(r.reason, {
      count: (byReason.get(r.reason)?.count ?? 0) + 1,
      detail: r.detail.slice(0, 500),
    });
  }
  await insertMany(
    tx,
    'catalog_event_rejections',
    ['source', 'reason', 'count', 'last_at', 'detail'],
    [...byReason].map(([reason, r]) => [source, reason, r.count, at, r.detail]),
    'ON CONFLICT (source, reason) DO UPDATE SET count = catalog_event_rejections.count + excluded.count, last_at = excluded.last_at, detail = excluded.detail',
  );
}

/** Subjects (`markKey`) that batches applied after sequence `seq` wrote. */
export async function touchedSince(tx: SqlExecutor, registry: string, seq: number): Promise<Set<string>> {
  const rows = await tx.all(
    'SELECT repository, subject FROM catalog_event_marks WHERE registry = ? AND seq > ?',
    [registry, seq],
  );
  return new Set(rows.map((r) => markKey(str(r.repository), str(r.subject))));
}

/**
 * After a scan: records the span it observed each repository in, and forgets what events told
 * before it started (its own observation is newer); what events applied while it ran is kept.
 */
export async function recordScan(
  tx: SqlExecutor,
  registry: string,
  observed: { readonly repositories: readonly string[]; readonly span: Span } | undefined,
  seqAtLoad: number,
): Promise<void> {
  if (observed && observed.repositories.length > 0) {
    const { lo, hi } = observed.span;
    await insertMany(
      tx,
      'catalog_observed',
      ['registry', 'repository', 'lo', 'hi'],
      observed.repositories.map((repository) => [registry, repository, lo, hi]),
      'ON CONFLICT (registry, repository) DO UPDATE SET lo = excluded.lo, hi = excluded.hi',
    );
    await tx.run(
      'DELETE FROM catalog_event_marks WHERE registry = ? AND seq <= ? AND repository IN (SELECT o.repository FROM catalog_observed o WHERE o.registry = ? AND o.lo = ? AND o.hi = ?)',
      [registry, seqAtLoad, registry, lo, hi],
    );
  }
  await tx.run('DELETE FROM catalog_event_ids WHERE registry = ? AND seq <= ?', [registry, seqAtLoad]);
  await tx.run("UPDATE catalog_event_state SET since_scan = '{}', scan_seq = seq WHERE registry = ?", [
    registry,
  ]);
}

export interface EventStateRow {
  readonly registry: string;
  readonly sinceScan: OutcomeCounts;
  readonly lastEventAt?: string;
}

export async function readEventStates(tx: SqlExecutor): Promise<EventStateRow[]> {
  const rows = await tx.all('SELECT registry, since_scan, last_event_at FROM catalog_event_state');
  return rows.map((r) => ({
    registry: str(r.registry),
    sinceScan: json(r.since_scan) as OutcomeCounts,
    ...(r.last_event_at === null || r.last_event_at === undefined
      ? {}
      : { lastEventAt: str(r.last_event_at) }),
  }));
}
