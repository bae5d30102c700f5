import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineError } from './errors.js';

/** Time for the deployer's waits; tests pass a virtual clock shared with the stand-ins. */
export interface DeployerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: DeployerClock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export interface PollStep<T> {
  readonly done: boolean;
  readonly value?: T;
  /** What was seen, for the deadline message ("Established=False: waiting for names"). */
  readonly seen: string;
}

export interface PollOptions {
  readonly what: string;
  readonly deadlineSeconds: number;
  /** @default 1000 */
  readonly initialDelayMs?: number;
  /** @default 10000 */
  readonly maxDelayMs?: number;
}

/**
 * Calls `check` until it reports done, backing off ×1.5 between calls, and throws a DeadlineError
 * with the last state seen when the deadline passes. Errors thrown by `check` end the wait.
 */
export async function pollUntil<T>(
  clock: DeployerClock,
  options: PollOptions,
  check: () => Promise<PollStep<T>>,
): Promise<T | undefined> {
  const deadline = clock.now() + options.deadlineSeconds * 1000;
  let delay = options.initialDelayMs ?? 1000;
  const maxDelay = options.maxDelayMs ?? 10_000;
  for (;;) {
    const step = await check();
    if (step.done) return step.value;
    const left = deadline - clock.now();
    if (left <= 0) throw new DeadlineError(options.what, options.deadlineSeconds, step.seen);
    await clock.sleep(Math.min(delay, left));
    delay = Math.min(maxDelay, Math.round(delay * 1.5));
  }
}
