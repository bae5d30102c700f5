/** Conversions between the catalog's records and SQL rows, shared by every query of the store. */
import type {
  CatalogChange,
  ChangeKind,
  DedupeScope,
  InventoryEntry,
  RegistryState,
  RepositoryFailure,
  RepositoryState,
  RunOrigin,
  RunRecord,
  ScanSummary,
} from '../model.js';
import type { ImageRecord } from '../source.js';
import type { SqlExecutor, SqlRow, SqlValue } from './sql.js';

/** Rows per multi-row INSERT: well under both engines' parameter limits. */
const BATCH_ROWS = 250;

/**
 * Inserts rows in multi-row INSERTs; `onConflict` (e.g. `ON CONFLICT (a, b) DO NOTHING`) is
 * appended to each, in the syntax SQLite and PostgreSQL share.
 */
export async function insertMany(
  tx: SqlExecutor,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
  onConflict = '',
): Promise<void> {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    const chunk = rows.slice(i, i + BATCH_ROWS);
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')} ${onConflict}`;
    await tx.run(sql.trimEnd(), chunk.flat());
  }
}

/** Runs `query` once per chunk of `values`, with `?, ?, …` placeholders for the chunk; rows concatenated. */
export async function selectIn(
  tx: SqlExecutor,
  values: readonly string[],
  query: (placeholders: string) => string,
  params: (chunk: readonly string[]) => SqlValue[],
): Promise<SqlRow[]> {
  const rows: SqlRow[] = [];
  const unique = [...new Set(values)];
  for (let i = 0; i < unique.length; i += BATCH_ROWS) {
    const chunk = unique.slice(i, i + BATCH_ROWS);
    rows.push(...(await tx.all(query(chunk.map(() => '?').join(', ')), params(chunk))));
  }
  return rows;
}

/** Runs `statement` (an UPDATE or DELETE) once per chunk of `values`, like {@link selectIn}. */
export async function runIn(
  tx: SqlExecutor,
  values: readonly string[],
  statement: (placeholders: string) => string,
  params: (chunk: readonly string[]) => SqlValue[],
): Promise<void> {
  const unique = [...new Set(values)];
  for (let i = 0; i < unique.length; i += BATCH_ROWS) {
    const chunk = unique.slice(i, i + BATCH_ROWS);
    await tx.run(statement(chunk.map(() => '?').join(', ')), params(chunk));
  }
}

export const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
export const optStr = (v: unknown): string | undefined =>
  v === null || v === undefined ? undefined : str(v);
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
export const json = (v: unknown): unknown => JSON.parse(str(v));
const optList = (v: unknown): string[] | undefined =>
  v === null || v === undefined ? undefined : (json(v) as string[]);
export const listOrNull = (v: readonly string[] | undefined): string | null =>
  v === undefined ? null : JSON.stringify(v);

export function imageValues(registry: string, repository: string, image: ImageRecord): SqlValue[] {
  return [
    registry,
    repository,
    image.digest,
    image.mediaType ?? null,
    listOrNull(image.platforms),
    image.pushedAt ?? null,
    image.sizeBytes ?? null,
  ];
}

export function toRun(row: SqlRow): RunRecord {
  const origin = optStr(row.origin) as RunOrigin | undefined;
  return {
    id: str(row.id),
    ...(origin === 'events' ? { origin } : {}),
    registry: str(row.registry),
    startedAt: str(row.started_at),
    finishedAt: str(row.finished_at),
    dedupe: str(row.dedupe) as DedupeScope,
    summary: json(row.summary) as ScanSummary,
    failures: json(row.failures) as RepositoryFailure[],
  };
}

export function toChange(row: SqlRow): CatalogChange {
  const tag = optStr(row.tag);
  const fromDigest = optStr(row.from_digest);
  return {
    kind: str(row.kind) as ChangeKind,
    repository: str(row.repository),
    digest: str(row.digest),
    ...(tag === undefined ? {} : { tag }),
    ...(fromDigest === undefined ? {} : { fromDigest }),
  };
}

export function toInventory(row: SqlRow): InventoryEntry {
  const assessedAt = optStr(row.assessed_at);
  const mediaType = optStr(row.media_type);
  const platforms = optList(row.platforms);
  return {
    registry: str(row.registry),
    digest: str(row.digest),
    repository: str(row.repository),
    tags: json(row.tags) as string[],
    ...(mediaType === undefined ? {} : { mediaType }),
    ...(platforms === undefined ? {} : { platforms }),
    runId: str(row.run_id),
    inventoriedAt: str(row.inventoried_at),
    ...(assessedAt === undefined ? {} : { assessedAt }),
  };
}

export function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return (a[i] ?? '') < (b[i] ?? '') ? -1 : 1;
  }
  return 0;
}

/** One image row (without tags). */
export function toImage(row: SqlRow, tags: string[]): ImageRecord {
  const mediaType = optStr(row.media_type);
  const platforms = optList(row.platforms);
  const pushedAt = optStr(row.pushed_at);
  const sizeBytes = optNum(row.size_bytes);
  return {
    digest: str(row.digest),
    tags,
    ...(mediaType === undefined ? {} : { mediaType }),
    ...(platforms === undefined ? {} : { platforms }),
    ...(pushedAt === undefined ? {} : { pushedAt }),
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
  };
}

/**
 * The catalog of one registry from its image and tag rows. Tags are sorted here, not with ORDER BY:
 * PostgreSQL sorts text by the database's collation (e.g. en_US ignores punctuation), SQLite by code
 * point; JavaScript's sort gives the same order on both, and the one sources use.
 */
export function toState(imageRows: readonly SqlRow[], tagRows: readonly SqlRow[]): RegistryState {
  const tags = new Map<string, string[]>();
  for (const row of tagRows) {
    const key = `${str(row.repository)}\n${str(row.digest)}`;
    const list = tags.get(key);
    if (list) list.push(str(row.tag));
    else tags.set(key, [str(row.tag)]);
  }
  for (const list of tags.values()) list.sort();
  const state = new Map<string, RepositoryState & { images: Map<string, ImageRecord> }>();
  for (const row of imageRows) {
    const repository = str(row.repository);
    const image = toImage(row, tags.get(`${repository}\n${str(row.digest)}`) ?? []);
    let repo = state.get(repository);
    if (!repo) state.set(repository, (repo = { images: new Map() }));
    repo.images.set(image.digest, image);
  }
  return state;
}
