import { setTimeout as delay } from 'node:timers/promises';

/** Time and chance, injectable so tests never actually wait. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Uniform in [0, 1): the jitter source. */
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, signal ? { signal } : undefined);
    } catch (error) {
      // Reject with the caller's own reason (as fetch does), not Node's generic AbortError.
      if (signal?.aborted === true) throw signal.reason;
      throw error;
    }
  },
  random: () => Math.random(),
};
