import { mapEachOutcome, type Limiter } from './concurrency.js';

/** How one item of a fan-out ended. */
export type ItemOutcome<T, R> =
  | { readonly item: T; readonly status: 'ok'; readonly value: R }
  | { readonly item: T; readonly status: 'failed'; readonly reason: string; readonly error: unknown }
  | { readonly item: T; readonly status: 'not-started' };

/**
 * `mapEachOutcome` for work that may throw: every item ends ok, failed with its reason, or not
 * started (the signal aborted first, e.g. the invocation's time ran out). One item's failure never
 * touches the others. Keeps input order.
 */
export function settleEach<T, R>(
  items: readonly T[],
  limit: number | Limiter,
  work: (item: T) => Promise<R>,
  describe: (error: unknown) => string,
  signal?: AbortSignal,
): Promise<ItemOutcome<T, R>[]> {
  return mapEachOutcome<T, ItemOutcome<T, R>>(
    items,
    limit,
    async (item) => {
      try {
        return { item, status: 'ok', value: await work(item) };
      } catch (error) {
        return { item, status: 'failed', reason: describe(error), error };
      }
    },
    (item) => ({ item, status: 'not-started' }),
    signal,
  );
}
