/** Runs tasks with at most a fixed number in flight, the rest waiting in FIFO order. */
export type Limiter = <R>(task: () => Promise<R>) => Promise<R>;

/**
 * A limiter shared by whoever should share one budget, e.g. every manifest request of a scan
 * whatever repository it is for.
 */
export function limiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a whole number ≥ 1, got ${limit}`);
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <R>(task: () => Promise<R>): Promise<R> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same), or free it.
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

/**
 * Maps items through `limit` (a Limiter, or a number for a limiter of its own), keeping input order.
 * The first failure rejects the whole map and no further item of this map is started (calls already
 * in flight finish in the background, their results ignored); an abort of `signal` does the same.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number | Limiter,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const run = typeof limit === 'number' ? limiter(Math.max(1, limit)) : limit;
  let failed = false;
  const results = await Promise.all(
    items.map((item, index) =>
      run(async () => {
        if (failed) return undefined as R; // the map has already rejected; nobody reads this
        signal?.throwIfAborted();
        try {
          return await fn(item, index);
        } catch (error) {
          failed = true;
          throw error;
        }
      }),
    ),
  );
  signal?.throwIfAborted();
  return results;
}

/**
 * Maps items with at most `limit` in flight, for work that reports its own outcome per item (each
 * account, region or repository succeeds or fails on its own, so `work` is expected to catch its own
 * errors). Items not yet started when `signal` aborts get `onSkipped(item)` instead. Keeps input order.
 */
export async function mapEachOutcome<T, R>(
  items: readonly T[],
  limit: number | Limiter,
  work: (item: T) => Promise<R>,
  onSkipped: (item: T) => R,
  signal?: AbortSignal,
): Promise<R[]> {
  const run = typeof limit === 'number' ? limiter(Math.max(1, limit)) : limit;
  return Promise.all(items.map((item) => run(async () => (signal?.aborted ? onSkipped(item) : work(item)))));
}
