/** Bumped when the tables change; a store written by a newer version is refused. */
export const SCHEMA_VERSION = 1;

/** The catalog schema: portable SQL that SQLite and PostgreSQL both accept unchanged. */
export const SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS catalog_schema (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS catalog_registries (
    registry TEXT PRIMARY KEY,
    generation BIGINT NOT NULL,
    last_run_id TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS catalog_images (
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    media_type TEXT,
    platforms TEXT,
    pushed_at TEXT,
    size_bytes BIGINT,
    PRIMARY KEY (registry, repository, digest)
  )`,
  `CREATE TABLE IF NOT EXISTS catalog_tags (
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (registry, repository, tag)
  )`,
  `CREATE TABLE IF NOT EXISTS catalog_inventory (
    registry TEXT NOT NULL,
    digest TEXT NOT NULL,
    repository TEXT NOT NULL,
    tags TEXT NOT NULL,
    media_type TEXT,
    platforms TEXT,
    run_id TEXT NOT NULL,
    inventoried_at TEXT NOT NULL,
    assessed_at TEXT,
    PRIMARY KEY (registry, digest)
  )`,
  `CREATE INDEX IF NOT EXISTS catalog_inventory_by_digest ON catalog_inventory (digest)`,
  `CREATE TABLE IF NOT EXISTS catalog_runs (
    id TEXT PRIMARY KEY,
    registry TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    dedupe TEXT NOT NULL,
    summary TEXT NOT NULL,
    failures TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS catalog_runs_by_time ON catalog_runs (finished_at)`,
  `CREATE TABLE IF NOT EXISTS catalog_changes (
    run_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    kind TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    tag TEXT,
    from_digest TEXT,
    PRIMARY KEY (run_id, ordinal)
  )`,
];
