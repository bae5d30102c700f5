/**
 * The one backoff of the project: how long to wait before trying a call again. The Falcon API
 * client (src/falcon/transport.ts), the OCI registry client (src/registry/client.ts) and the
 * Kubernetes client (src/cluster/kube-client.ts) all take their waits from here; each keeps its own
 * loop, because what each one retries differs (Falcon counts 429 answers on their own budget, the
 * registry refreshes bearer tokens, Kubernetes renews the EKS token after a 401).
 *
 * Written here rather than taken from a retry library (p-retry, exponential-backoff): those wrap a
 * whole call and know nothing of an HTTP answer's `Retry-After`, which is the part that matters,
 * and the rest is two lines of arithmetic.
 *
 * Example:
 * ```ts
 * const wait = retryDelay(policy, retry, parseRetryAfter(response.headers.get('retry-after'), Date.now()));
 * ```
 */

/** How often and how long a client waits before giving up. */
export interface BackoffPolicy {
  /** Retries after the first attempt. */
  readonly retries: number;
  /** First backoff ceiling; doubles with every retry. */
  readonly baseDelayMs: number;
  /** Upper bound of one wait, also of a `Retry-After` the server asks for. */
  readonly maxDelayMs: number;
}

/**
 * The capped exponential ceiling min(max, base · 2^(attempt-1)) without jitter, attempt ≥ 1: the
 * jittered delays below draw from it, and the EKS rollout waits exactly this long before trying a
 * failing cluster again (a cluster is retried by the next sweep after it, so jitter adds nothing).
 */
export function exponentialCeiling(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** Exponential backoff with full jitter: uniform in [0, c) for ceiling c = min(max, base · 2^(attempt-1)). */
export function fullJitterDelay(attempt: number, baseMs: number, maxMs: number, random: number): number {
  return Math.floor(random * exponentialCeiling(attempt, baseMs, maxMs));
}

/** Exponential backoff with "equal jitter": uniform in [c/2, c) for ceiling c; never near zero. */
export function equalJitterDelay(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const c = exponentialCeiling(attempt, baseMs, maxMs);
  return Math.floor(c / 2 + (random * c) / 2);
}

/** Milliseconds a `Retry-After` header asks for (delta-seconds or HTTP-date), if it says. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  // RFC 9110 says whole seconds, but some servers and proxies send decimals ("1.5"); Date.parse
  // would read those as a date in 2001 and the client would not wait at all.
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Statuses worth another try: throttling and transient server or proxy failures. */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504
  );
}

/**
 * Wait before retry number `retry` (0-based): what `Retry-After` asked for when given (capped at
 * `maxDelayMs`), else equal-jitter exponential backoff.
 */
export function retryDelay(
  policy: BackoffPolicy,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  return equalJitterDelay(retry + 1, policy.baseDelayMs, policy.maxDelayMs, random());
}
