export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

/** Runs SQL written once for both engines: `?` placeholders, portable types and statements. */
export interface SqlExecutor {
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** One database connection the catalog queries run on; SQLite and PostgreSQL implement it. */
export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs reads that must all see one committed state (one snapshot), without taking write locks. */
  snapshot<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs `work` (creating and upgrading the schema) in one transaction, one process at a time. */
  migrate(work: (tx: SqlExecutor) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** Rewrites `?` placeholders as `$1`, `$2`, … (the catalog's SQL has no `?` inside literals). */
export function numberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
