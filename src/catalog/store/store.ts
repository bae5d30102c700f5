import type { CatalogChange, DedupeScope, InventoryEntry, RegistryState, RunRecord } from '../model.js';
import type { RunCommit } from '../plan.js';

/** The stored catalog of one registry, and the generation it was read at. */
export interface StoredRegistry {
  readonly state: RegistryState;
  /** Bumped by every committed run of this registry; 0 before the first. */
  readonly generation: number;
}

export interface InventoryQuery {
  readonly registry?: string;
  /** Also list digests already marked assessed (default: only those awaiting assessment). */
  readonly includeAssessed?: boolean;
}

export interface MarkAssessed {
  readonly registry?: string;
  /** The digests to mark, or 'all' for every digest awaiting assessment. */
  readonly digests: readonly string[] | 'all';
  readonly at: string;
}

/**
 * Where the catalog lives. Two implementations share one schema and one set of queries: an embedded
 * SQLite file (the default) and PostgreSQL (for shared use).
 */
export interface CatalogStore {
  /** A human-readable location, without any password. */
  readonly location: string;
  load(registry: string): Promise<StoredRegistry>;
  /** Digests already inventoried: in this registry, or in any registry for the global scope. */
  inventoriedDigests(registry: string, scope: DedupeScope): Promise<Set<string>>;
  /**
   * Commits a run atomically: new state, changes, inventory additions and the run record, or nothing.
   * Fails with ConcurrentScanError when another run of the same registry committed since `load`.
   */
  commit(commit: RunCommit): Promise<void>;
  /** The last run (of one registry, or of any) with its changes. */
  lastRun(registry?: string): Promise<{ run: RunRecord; changes: CatalogChange[] } | undefined>;
  inventory(query?: InventoryQuery): Promise<InventoryEntry[]>;
  /** Marks digests assessed; `unknown` lists requested digests the inventory does not hold. */
  markAssessed(request: MarkAssessed): Promise<{ marked: number; unknown: string[] }>;
  close(): Promise<void>;
}
