import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { limiter } from '../../fanout/concurrency.js';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from './sql.js';

/** The embedded store: one SQLite file, written in WAL mode so a killed process never corrupts it. */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite';
  private readonly statements = new Map<string, Database.Statement>();
  private readonly db: Database.Database;
  /**
   * One connection serves the whole process: transactions of concurrent callers (a listener
   * applying events while answering status) take turns instead of nesting.
   */
  private readonly turn = limiter(1);

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a killed process; only a power cut may lose the last commit.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return Promise.resolve(this.prepare(sql).all(...params) as SqlRow[]);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return Promise.resolve(this.prepare(sql).run(...params).changes);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN IMMEDIATE', work);
  }

  /** A deferred transaction: in WAL mode its first read fixes the snapshot, and writers are not blocked. */
  snapshot<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN', work);
  }

  migrate(work: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    return this.transaction(work);
  }

  private inTransaction<T>(begin: string, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.turn(async () => {
      this.db.exec(begin);
      try {
        const result = await work(this);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  close(): Promise<void> {
    this.statements.clear();
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
