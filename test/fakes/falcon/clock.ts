import type { Clock } from '../../../src/falcon/clock.js';

/**
 * A clock for tests: sleeping records the wait and moves time forward at once, so retry and backoff
 * logic runs instantly and the waits can be asserted exactly.
 */
export class TestClock implements Clock {
  readonly sleeps: number[] = [];
  private nowMs: number;

  /** `random` is the jitter source; the default 0.5 makes backoff waits half their ceiling. */
  constructor(
    startMs = Date.UTC(2026, 0, 1),
    private readonly randomValue: () => number = () => 0.5,
  ) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    this.sleeps.push(ms);
    this.nowMs += ms;
    return Promise.resolve();
  }

  random(): number {
    return this.randomValue();
  }

  /** Total time slept. */
  slept(): number {
    return this.sleeps.reduce((a, b) => a + b, 0);
  }
}
