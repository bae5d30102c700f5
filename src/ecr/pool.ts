/**
 * Runs `work` for every item with at most `limit` in flight and returns the results in input order.
 * `work` is expected to catch its own errors (each item reports its own outcome). Items not started when
 * `signal` aborts get `onSkipped(item)` instead.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
  onSkipped: (item: T) => R,
  signal?: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      results[index] = signal?.aborted ? onSkipped(item) : await work(item);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker());
  await Promise.all(workers);
  return results;
}
