/** What happened to one region in a reconcile run. */
export const RegionOutcome = {
  /** A connection was created by this deployment (first time, or to repair one deleted in Falcon). */
  Created: 'created',
  /** The wanted connection already exists; nothing changed. */
  Kept: 'kept',
  /** A connection this deployment had started to create before an interruption was found and recorded as owned. */
  Adopted: 'adopted',
  /** A connection this deployment owned was deleted (region no longer wanted, or disconnect on delete). */
  Deleted: 'deleted',
  /** The region is not wanted and this deployment owns nothing there (any other connection is left alone). */
  Absent: 'absent',
  /** The region is no longer wanted but its owned connection is deliberately left in place (no disconnect). */
  Left: 'left',
  /**
   * The owned connection was made with another role ARN or external ID (the stack instance was
   * re-created), or a connection carrying this deployment's alias had no ownership record (an earlier
   * instance's record was removed): it was deleted and created again with the current ones.
   */
  Replaced: 'replaced',
  /**
   * Not done in this run because Falcon's budget ran out (the run's time, or its waits for 429 answers);
   * not a failure: the next scheduled run picks the region up.
   */
  Deferred: 'deferred',
  /** The region's work failed; `reason` says why. Other regions are unaffected. */
  Failed: 'failed',
  /** The region's work was not attempted or not finished (the run hit its deadline). */
  Skipped: 'skipped',
} as const;
export type RegionOutcome = (typeof RegionOutcome)[keyof typeof RegionOutcome];

export interface RegionResult {
  readonly region: string;
  readonly outcome: RegionOutcome;
  /** The registry URL of this account in this region. */
  readonly url: string;
  /** The connection that exists for the URL after the run, when one is known. */
  readonly connectionId?: string;
  /** Whether the connection is recorded as created by this deployment. */
  readonly owned: boolean;
  readonly reason?: string;
}

export interface ReconcileReport {
  readonly accountId: string;
  readonly results: readonly RegionResult[];
}

/** Counts per outcome, for logs and the custom resource's Data. */
export function countOutcomes(results: readonly RegionResult[]): Record<RegionOutcome, number> {
  const counts = Object.fromEntries(Object.values(RegionOutcome).map((o) => [o, 0])) as Record<
    RegionOutcome,
    number
  >;
  for (const r of results) counts[r.outcome] += 1;
  return counts;
}

/** Regions whose outcome counts as unsuccessful (failed or not finished). */
export function unsuccessful(results: readonly RegionResult[]): RegionResult[] {
  return results.filter((r) => r.outcome === RegionOutcome.Failed || r.outcome === RegionOutcome.Skipped);
}
