import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/falcon/index.js';

describe('systemClock', () => {
  it("rejects a sleep with the caller's abort reason", async () => {
    const controller = new AbortController();
    const reason = new Error('deadline');
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
  });

  it('resolves a short sleep', async () => {
    await expect(systemClock.sleep(1)).resolves.toBeUndefined();
  });
});
