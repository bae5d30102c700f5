import type { ImageRecord } from './source.js';

/** Whether a digest already inventoried in one registry counts as seen in every other registry. */
export type DedupeScope = 'registry' | 'global';

/** What the catalog holds for one repository: each image by digest, and each tag's digest. */
export interface RepositoryState {
  readonly images: ReadonlyMap<string, ImageRecord>;
}

/** The stored catalog of one registry: repository → digest → image (with its tags). */
export type RegistryState = ReadonlyMap<string, RepositoryState>;

export type ChangeKind = 'image-added' | 'image-removed' | 'tag-added' | 'tag-removed' | 'tag-moved';

/** One difference between the stored catalog and what the registry shows now. */
export interface CatalogChange {
  readonly kind: ChangeKind;
  readonly repository: string;
  /** The image concerned; for `tag-moved`, the digest the tag points at now. */
  readonly digest: string;
  readonly tag?: string;
  /** For `tag-moved`: the digest the tag pointed at before. */
  readonly fromDigest?: string;
}

/** A digest new to the catalog (within the dedupe scope), awaiting assessment. */
export interface InventoryEntry {
  readonly registry: string;
  readonly digest: string;
  /** First repository (by name) it was seen in during the run that inventoried it. */
  readonly repository: string;
  readonly tags: readonly string[];
  readonly mediaType?: string;
  readonly platforms?: readonly string[];
  readonly runId: string;
  readonly inventoriedAt: string;
  readonly assessedAt?: string;
}

export interface RepositoryFailure {
  readonly repository: string;
  readonly reason: string;
}

/** Counts shown after a scan. */
export interface ScanSummary {
  readonly repositories: number;
  readonly images: number;
  readonly tags: number;
  readonly added: number;
  readonly removed: number;
  readonly moved: number;
  readonly tagsAdded: number;
  readonly tagsRemoved: number;
  readonly inventoried: number;
  readonly excluded: number;
  readonly failed: number;
}

/** What recorded a run: a scan of the whole registry, or a batch of the registry's own events. */
export type RunOrigin = 'scan' | 'events';

/** The record of one finished scan (or applied batch of events), as stored. */
export interface RunRecord {
  readonly id: string;
  /** @default 'scan' */
  readonly origin?: RunOrigin;
  readonly registry: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly dedupe: DedupeScope;
  readonly summary: ScanSummary;
  readonly failures: readonly RepositoryFailure[];
}
