import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter, KeyedAdaptiveLimiters, ThrottledError } from '../../src/fanout/adaptive.js';
import { settleEach } from '../../src/fanout/outcome.js';
import { isThrottlingError, isTransientError } from '../../src/fanout/throttling.js';

const throttle = (name = 'ThrottlingException') => Object.assign(new Error('Rate exceeded'), { name });
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A service that allows `capacity` calls in flight and throttles the rest. */
function service(capacity: number) {
  let active = 0;
  let peak = 0;
  let rejected = 0;
  return {
    get peak() {
      return peak;
    },
    get rejected() {
      return rejected;
    },
    async call(): Promise<string> {
      if (active >= capacity) {
        rejected += 1;
        throw throttle();
      }
      active += 1;
      peak = Math.max(peak, active);
      await tick();
      active -= 1;
      return 'ok';
    },
  };
}

describe('isThrottlingError', () => {
  it('knows AWS throttling names and HTTP 429, not other failures', () => {
    expect(isThrottlingError(throttle('ThrottlingException'))).toBe(true);
    expect(isThrottlingError(throttle('TooManyRequestsException'))).toBe(true);
    expect(isThrottlingError({ name: 'Whatever', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isThrottlingError(throttle('AccessDeniedException'))).toBe(false);
    expect(isThrottlingError({ name: 'X', $metadata: { httpStatusCode: 500 } })).toBe(false);
    expect(isThrottlingError('ThrottlingException')).toBe(false);
  });
});

describe('AdaptiveLimiter', () => {
  it('halves its limit when throttled, retries with jittered backoff, and finishes every call', async () => {
    const svc = service(3);
    const waits: number[] = [];
    const limiter = new AdaptiveLimiter({
      max: 16,
      sleep: (ms) => {
        waits.push(ms);
        return tick();
      },
      random: () => 0.5,
    });

    const results = await Promise.all(Array.from({ length: 60 }, () => limiter.run(() => svc.call())));

    expect(results.every((r) => r === 'ok')).toBe(true);
    expect(svc.rejected).toBeGreaterThan(0);
    expect(limiter.lowest).toBeLessThanOrEqual(4); // 16 → 8 → 4 (once per overload, not once per error)
    expect(limiter.lowest).toBeGreaterThanOrEqual(1);
    expect(waits.length).toBe(svc.rejected);
    expect(Math.max(...waits)).toBeLessThanOrEqual(5000 * 0.5);
    expect(waits).toContain(50); // first retry: half (random 0.5) of the 100 ms base
  });

  it('raises the limit again after successes (additive increase)', async () => {
    let throttleNext = true;
    const limiter = new AdaptiveLimiter({ max: 8, sleep: () => tick() });
    await limiter.run(() => {
      if (throttleNext) {
        throttleNext = false;
        return Promise.reject(throttle());
      }
      return Promise.resolve(1);
    });
    expect(limiter.limit).toBe(4);
    for (let i = 0; i < 4 + 5 + 6 + 7; i += 1) await limiter.run(() => Promise.resolve(i));
    expect(limiter.limit).toBe(8);
  });

  it('spaces calls when even one in flight is too fast, then lets the spacing decay', async () => {
    let now = 0;
    const waits: number[] = [];
    const limiter = new AdaptiveLimiter({
      max: 1,
      now: () => now,
      random: () => 0,
      sleep: (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      },
    });
    let lastStart = -Infinity;
    // The service takes one call per 100 ms; calls themselves take no time.
    const call = () => {
      if (now - lastStart < 100) return Promise.reject(throttle());
      lastStart = now;
      return Promise.resolve('ok');
    };

    for (let i = 0; i < 20; i += 1) await limiter.run(call);

    expect(limiter.spacingMs).toBeGreaterThan(50);
    expect(limiter.throttled).toBeLessThan(10); // it learns the rate instead of being throttled every time
  });

  it('gives up with ThrottledError after maxAttempts, and never retries other errors', async () => {
    const limiter = new AdaptiveLimiter({ max: 2, maxAttempts: 3, sleep: () => tick() });
    let calls = 0;
    await expect(
      limiter.run(() => {
        calls += 1;
        return Promise.reject(throttle('TooManyRequestsException'));
      }),
    ).rejects.toBeInstanceOf(ThrottledError);
    expect(calls).toBe(3);

    calls = 0;
    const denied = Object.assign(new Error('no'), { name: 'AccessDeniedException' });
    await expect(
      limiter.run(() => {
        calls += 1;
        return Promise.reject(denied);
      }),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it('retries what isRetryable accepts within the same attempts, without lowering the limit', async () => {
    const limiter = new AdaptiveLimiter({
      max: 4,
      maxAttempts: 3,
      sleep: () => tick(),
      isRetryable: isTransientError,
    });
    const fault = Object.assign(new Error('internal'), {
      name: 'InternalError',
      $metadata: { httpStatusCode: 500 },
    });
    let calls = 0;
    const value = await limiter.run(() => {
      calls += 1;
      return calls < 3 ? Promise.reject(fault) : Promise.resolve('ok');
    });
    expect(value).toBe('ok');
    expect(limiter.limit).toBe(4);
    calls = 0;
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    await expect(
      limiter.run(() => {
        calls += 1;
        return Promise.reject(reset);
      }),
    ).rejects.toBe(reset);
    expect(calls).toBe(3);
    expect(
      isTransientError(
        Object.assign(new Error('x'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }),
      ),
    ).toBe(false);
  });

  it('a new key starts from what the last throttled key learnt, instead of being throttled all over again', async () => {
    let now = 0;
    const limiters = new KeyedAdaptiveLimiters({
      max: 8,
      now: () => now,
      random: () => 0,
      sleep: (ms) => {
        now += ms;
        return Promise.resolve();
      },
    });
    // Every account allows one call per 100 ms.
    const lastStart = new Map<string, number>();
    const call = (key: string) => () => {
      if (now - (lastStart.get(key) ?? -Infinity) < 100) return Promise.reject(throttle());
      lastStart.set(key, now);
      return Promise.resolve(key);
    };
    for (let i = 0; i < 10; i += 1) await limiters.run('111111111111', call('111111111111'));
    const first = limiters.throttled;
    expect(first).toBeGreaterThan(0);

    for (let i = 0; i < 10; i += 1) await limiters.run('222222222222', call('222222222222'));

    expect(limiters.for('222222222222').spacingMs).toBeGreaterThan(0);
    expect(limiters.for('222222222222').throttled).toBeLessThan(first);
  });

  it('keys are independent: one throttled account does not lower another account’s limit', async () => {
    const limiters = new KeyedAdaptiveLimiters({ max: 8, sleep: () => tick() });
    const busy = service(1);
    const idle = service(100);
    await Promise.all([
      ...Array.from({ length: 20 }, () => limiters.run('111111111111', () => busy.call())),
      ...Array.from({ length: 20 }, () => limiters.run('222222222222', () => idle.call())),
    ]);
    expect(limiters.for('111111111111').lowest).toBe(1);
    expect(limiters.for('222222222222').lowest).toBe(8);
    expect(idle.peak).toBe(8);
    expect(limiters.throttled).toBe(busy.rejected);
  });
});

describe('settleEach', () => {
  it('ends every item ok, failed with its reason, or not started once the signal aborts; a slow item does not hold up the rest', async () => {
    const controller = new AbortController();
    const finished: number[] = [];
    const outcomes = await settleEach(
      [0, 1, 2, 3, 4, 5],
      2,
      async (n) => {
        if (n === 0) await new Promise((r) => setTimeout(r, 30)); // slow account
        if (n === 2) throw new Error('AccessDenied for 2');
        if (n === 3) controller.abort();
        finished.push(n);
        return n * 10;
      },
      (e) => (e instanceof Error ? e.message : String(e)),
      controller.signal,
    );
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'failed', 'ok', 'not-started', 'not-started']);
    expect(outcomes[2]).toMatchObject({ status: 'failed', reason: 'AccessDenied for 2' });
    expect(finished.indexOf(1)).toBeLessThan(finished.indexOf(0)); // 1 and 3 did not wait for the slow 0
    expect(finished.indexOf(3)).toBeLessThan(finished.indexOf(0));
  });
});
