import { RegionOutcome, type RegionResult } from './outcome.js';

/*
 * A region deferred by Falcon's budget (its 429 allowance, or the run's time) is picked up by a
 * follow-up run within minutes instead of waiting for the daily repair: the run that deferred it asks
 * for one one-time invocation of the function, a few minutes later. Follow-ups back off and stop after
 * MAX_FOLLOW_UPS; the daily repair remains the safety net. Nothing here fails the run that asks.
 */

/** What the follow-up invocation receives (and the handler recognizes). */
export const FOLLOW_UP_SOURCE = 'falcon-org.ecr-connect';
export const FOLLOW_UP_DETAIL_TYPE = 'Follow-up run';

export interface FollowUpEvent {
  readonly source: typeof FOLLOW_UP_SOURCE;
  readonly 'detail-type': typeof FOLLOW_UP_DETAIL_TYPE;
  readonly detail: { readonly attempt: number };
}

/** Follow-ups one deferral may lead to in a row before the daily repair takes over. */
export const MAX_FOLLOW_UPS = 3;

/** Minutes before follow-up `attempt` (1-based): 5, 10, 20, … capped at 60. */
export function followUpDelayMinutes(attempt: number): number {
  return Math.min(60, 5 * 2 ** Math.max(0, attempt - 1));
}

/** Asks for, or cancels, the account's one pending follow-up run. */
export interface FollowUpScheduler {
  /** Creates the one-time run at `at` (or moves the pending one there). */
  schedule(at: Date, event: FollowUpEvent): Promise<void>;
  /** Removes a pending follow-up, if any (the stack is being deleted). */
  cancel(): Promise<void>;
}

export function isFollowUpEvent(event: unknown): event is FollowUpEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  const detail = e['detail'] as Record<string, unknown> | undefined;
  return (
    e['source'] === FOLLOW_UP_SOURCE &&
    e['detail-type'] === FOLLOW_UP_DETAIL_TYPE &&
    typeof detail?.['attempt'] === 'number' &&
    Number.isInteger(detail['attempt'])
  );
}

/** What a run that deferred regions should ask for, or undefined (nothing deferred, or attempts used up). */
export function followUpFor(
  results: readonly RegionResult[],
  previousAttempt: number,
  now: Date,
): { readonly at: Date; readonly event: FollowUpEvent; readonly regions: readonly string[] } | undefined {
  const deferred = results.filter((r) => r.outcome === RegionOutcome.Deferred).map((r) => r.region);
  const attempt = previousAttempt + 1;
  if (deferred.length === 0 || attempt > MAX_FOLLOW_UPS) return undefined;
  return {
    at: new Date(now.getTime() + followUpDelayMinutes(attempt) * 60_000),
    event: { source: FOLLOW_UP_SOURCE, 'detail-type': FOLLOW_UP_DETAIL_TYPE, detail: { attempt } },
    regions: deferred,
  };
}
