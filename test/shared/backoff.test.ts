import { describe, expect, it } from 'vitest';
import {
  equalJitterDelay,
  fullJitterDelay,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
} from '../../src/shared/backoff.js';

describe('retry timing rules', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially within bounds and caps Retry-After', () => {
    const policy = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(retryDelay(policy, 0, undefined, () => 1)).toBe(100);
    expect(retryDelay(policy, 2, undefined, () => 1)).toBe(400);
    expect(retryDelay(policy, 2, undefined, () => 0)).toBe(200);
    expect(retryDelay(policy, 10, undefined, () => 1)).toBe(1000);
    expect(retryDelay(policy, 0, 60_000)).toBe(1000);
  });
});

describe('jitter and retryable statuses', () => {
  it('full jitter stays below the ceiling, equal jitter within [ceiling/2, ceiling)', () => {
    expect(fullJitterDelay(1, 100, 1000, 0)).toBe(0);
    expect(fullJitterDelay(4, 100, 1000, 0.5)).toBe(400);
    expect(equalJitterDelay(4, 100, 1000, 0)).toBe(400);
    expect(equalJitterDelay(10, 100, 1000, 0.999)).toBe(999);
  });

  it('retries throttling and transient server failures only', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 422, 501].some(isRetryableStatus)).toBe(false);
  });
});
