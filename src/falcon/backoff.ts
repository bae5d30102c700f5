/** Exponential backoff with full jitter: uniform in [0, min(max, base · 2^(attempt-1))). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random * ceiling);
}

/** Values below this are read as a number of seconds rather than an epoch timestamp. */
const EPOCH_THRESHOLD_SECONDS = 1_000_000_000;

/**
 * How long a 429 answer asks us to wait, in ms, or undefined when it does not say.
 * `X-RateLimit-RetryAfter` is Falcon's epoch-seconds time at which the window reopens; `Retry-After`
 * is the standard delta-seconds (or HTTP date). When both are present the longer wait wins.
 */
export function rateLimitWait(headers: Headers, nowMs: number): number | undefined {
  const waits: number[] = [];
  const falcon = headers.get('x-ratelimit-retryafter');
  if (falcon !== null && /^\d+(\.\d+)?$/.test(falcon.trim())) {
    const value = Number(falcon);
    waits.push(value >= EPOCH_THRESHOLD_SECONDS ? value * 1000 - nowMs : value * 1000);
  }
  const standard = headers.get('retry-after');
  if (standard !== null) {
    const trimmed = standard.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) waits.push(Number(trimmed) * 1000);
    else {
      const date = Date.parse(trimmed);
      if (!Number.isNaN(date)) waits.push(date - nowMs);
    }
  }
  if (waits.length === 0) return undefined;
  return Math.max(0, Math.ceil(Math.max(...waits)));
}

/** Exponential backoff with "equal jitter": uniform in [c/2, c) for ceiling c; never near zero. */
export function equalJitterDelay(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(ceiling / 2 + (random * ceiling) / 2);
}
