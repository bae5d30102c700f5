import { parseRetryAfter } from '../shared/backoff.js';

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
  const standard = parseRetryAfter(headers.get('retry-after'), nowMs);
  if (standard !== undefined) waits.push(standard);
  if (waits.length === 0) return undefined;
  return Math.max(0, Math.ceil(Math.max(...waits)));
}
