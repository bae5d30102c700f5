/** How the client retries 429/5xx answers and lost connections. */
export interface RetryPolicy {
  /** Retries after the first attempt. @default 4 */
  readonly retries: number;
  /** First backoff ceiling; doubles each retry, "equal jitter" (uniform in [c/2, c)). @default 200 */
  readonly baseDelayMs: number;
  /** Upper bound for one wait, also for a `Retry-After` the registry asks for. @default 20000 */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 200, maxDelayMs: 20_000 };

/** Statuses worth another try: throttling and transient server/proxy failures. */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504
  );
}

/** Milliseconds asked for by a `Retry-After` header (delta-seconds or HTTP-date), if any. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  // RFC 9110 says whole seconds, but some registries and proxies send decimals ("1.5"); Date.parse
  // would read those as a date in 2001 and the client would not wait at all.
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Wait before retry number `attempt` (0-based): Retry-After if given, else exponential backoff with jitter. */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
