import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

import { limiter, mapEachOutcome, mapWithConcurrency } from '../../src/fanout/concurrency.js';

describe('mapWithConcurrency', () => {
  it('keeps input order and never has more than the limit in flight', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 4, 2, 3, 0], 2, async (n) => {
      active += 1;
      peak = Math.max(peak, active);
      await sleep(n);
      active -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it('starts no further item once one has failed', async () => {
    let failed = false;
    let startedAfterFailure = 0;
    let started = 0;
    const items = Array.from({ length: 50 }, (_, i) => i);
    await expect(
      mapWithConcurrency(items, 4, async (n) => {
        started += 1;
        if (failed) startedAfterFailure += 1;
        await sleep(1);
        if (n === 2) {
          failed = true;
          throw new Error('item 2 failed');
        }
        return n;
      }),
    ).rejects.toThrow('item 2 failed');
    await sleep(30); // anything still queued would have started by now
    expect(startedAfterFailure).toBe(0);
    expect(started).toBeLessThan(10);
  });

  it('starts no further item once the signal aborts', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const run = mapWithConcurrency(
      Array.from({ length: 20 }, (_, i) => i),
      2,
      async (n) => {
        started.push(n);
        if (n === 1) controller.abort(new Error('stop'));
        await sleep(1);
        return n;
      },
      controller.signal,
    );
    await expect(run).rejects.toThrow('stop');
    await sleep(20);
    expect(started).toEqual([0, 1]);
  });

  it('shares one budget between maps given the same limiter', async () => {
    const shared = limiter(3);
    let active = 0;
    let peak = 0;
    const work = async (): Promise<void> => {
      active += 1;
      peak = Math.max(peak, active);
      await sleep(2);
      active -= 1;
    };
    const items = Array.from({ length: 10 }, (_, i) => i);
    await Promise.all([
      mapWithConcurrency(items, shared, work),
      mapWithConcurrency(items, shared, work),
      mapWithConcurrency(items, shared, work),
    ]);
    expect(peak).toBe(3);
  });
});

describe('mapEachOutcome', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let active = 0;
    let peak = 0;
    const results = await mapEachOutcome(
      [30, 10, 20, 5, 15],
      2,
      async (ms) => {
        active += 1;
        peak = Math.max(peak, active);
        await sleep(ms);
        active -= 1;
        return `done ${ms}`;
      },
      (ms) => `skipped ${ms}`,
    );
    expect(results).toEqual(['done 30', 'done 10', 'done 20', 'done 5', 'done 15']);
    expect(peak).toBe(2);
  });

  it('reports items not started before an abort as skipped, and finishes those in flight', async () => {
    const controller = new AbortController();
    const results = await mapEachOutcome(
      ['a', 'b', 'c', 'd'],
      1,
      async (item) => {
        if (item === 'b') controller.abort();
        await sleep(1);
        return `done ${item}`;
      },
      (item) => `skipped ${item}`,
      controller.signal,
    );
    expect(results).toEqual(['done a', 'done b', 'skipped c', 'skipped d']);
  });
});
