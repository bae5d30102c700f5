/** Bumped when the tables change; a store written by a newer version is refused. */
export const SCHEMA_VERSION = 3;

/**
 * The catalog schema as version 1 created it: portable SQL that SQLite and PostgreSQL both accept
 * unchanged. Later versions are MIGRATIONS applied on top, so an existing store is upgraded in place.
 */
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

/**
 * Steps from one schema version to the next, run once, in order, in the transaction that opens the
 * store (PostgreSQL: under an advisory lock, so two processes opening an old store at once upgrade
 * it once).
 */
export const MIGRATIONS: readonly { readonly version: number; readonly statements: readonly string[] }[] = [
  {
    // Version 2: the catalog follows the registry's own events (src/catalog/events).
    version: 2,
    statements: [
      // Runs recorded by a batch of events rather than by a scan.
      `ALTER TABLE catalog_runs ADD COLUMN origin TEXT NOT NULL DEFAULT 'scan'`,
      // A batch's event sequence number (see catalog_event_state), null for scans.
      `ALTER TABLE catalog_runs ADD COLUMN seq BIGINT`,
      `CREATE INDEX IF NOT EXISTS catalog_images_by_digest ON catalog_images (registry, digest)`,
      `CREATE INDEX IF NOT EXISTS catalog_runs_by_registry ON catalog_runs (registry, origin, finished_at)`,
      // Per registry: a sequence bumped by every applied batch, its value when the last scan
      // committed, and what events did since.
      `CREATE TABLE IF NOT EXISTS catalog_event_state (
        registry TEXT PRIMARY KEY,
        seq BIGINT NOT NULL,
        scan_seq BIGINT NOT NULL,
        since_scan TEXT NOT NULL,
        last_event_at TEXT
      )`,
      // When the catalog last learnt about a tag ('t:<tag>') or an image ('d:<digest>'), on the
      // registry's clock, and the batch (seq) that wrote it.
      `CREATE TABLE IF NOT EXISTS catalog_event_marks (
        registry TEXT NOT NULL,
        repository TEXT NOT NULL,
        subject TEXT NOT NULL,
        lo TEXT NOT NULL,
        hi TEXT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (registry, repository, subject)
      )`,
      `CREATE INDEX IF NOT EXISTS catalog_event_marks_by_seq ON catalog_event_marks (registry, seq)`,
      // Ids of applied events, for duplicates; pruned by the next scan.
      `CREATE TABLE IF NOT EXISTS catalog_event_ids (
        registry TEXT NOT NULL,
        id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (registry, id)
      )`,
      // The span (registry clock) of the last scan that observed each repository.
      `CREATE TABLE IF NOT EXISTS catalog_observed (
        registry TEXT NOT NULL,
        repository TEXT NOT NULL,
        lo TEXT NOT NULL,
        hi TEXT NOT NULL,
        PRIMARY KEY (registry, repository)
      )`,
      // Events refused, per registry (or listener/queue when no registry could be named) and reason.
      `CREATE TABLE IF NOT EXISTS catalog_event_rejections (
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        count BIGINT NOT NULL,
        last_at TEXT NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (source, reason)
      )`,
    ],
  },
  {
    // Version 3: events `catalog listen` accepted (answered 202) and has not applied yet, written
    // before the answer so a listener that dies loses none: the next one applies them.
    version: 3,
    statements: [
      `CREATE TABLE IF NOT EXISTS catalog_event_inbox (
        registry TEXT NOT NULL,
        id TEXT NOT NULL,
        event TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (registry, id)
      )`,
    ],
  },
];
