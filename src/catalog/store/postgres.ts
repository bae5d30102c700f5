import pg from 'pg';
import { numberedPlaceholders, type SqlDriver, type SqlExecutor, type SqlRow, type SqlValue } from './sql.js';

/** Any fixed number: serialises schema creation when several processes open a new database at once. */
const MIGRATION_LOCK = 7_318_004;

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
      const result = await client.query<SqlRow>(numberedPlaceholders(sql), [...params]);
      return result.rows;
    },
    async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
      const result = await client.query(numberedPlaceholders(sql), [...params]);
      return result.rowCount ?? 0;
    },
  };
}

/** The shared store: PostgreSQL reached by a connection URL. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres';
  private readonly pool: pg.Pool;
  private readonly direct: SqlExecutor;

  constructor(connectionString: string) {
    this.pool = new pg.Pool({ connectionString, max: 4, application_name: 'falcon-org catalog' });
    // An idle client losing its connection must not crash the process; the next query reports it.
    this.pool.on('error', () => undefined);
    this.direct = executor(this.pool);
  }

  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]> {
    return this.direct.all(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN', work);
  }

  snapshot<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', work);
  }

  private async inTransaction<T>(begin: string, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(begin);
      const result = await work(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async migrate(work: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.all('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
      await work(tx);
    });
  }

  close(): Promise<void> {
    if (this.pool.ended || this.pool.ending) return Promise.resolve();
    return this.pool.end();
  }
}
