/**
 * A lease that serialises the `ecr-connect` runs of one account when the function has no reserved
 * concurrency (the schedule, a deploy-time Create/Update/Delete and CloudFormation's retries may then
 * overlap). Whoever holds it is the only run that reads and writes the ownership record and calls Falcon.
 */
export interface RunLease {
  /** One attempt: take the lease for `ttlMs` from `nowMs`, or learn who holds it. */
  tryAcquire(holder: string, nowMs: number, ttlMs: number): Promise<LeaseAttempt>;
  /** Gives the lease back (best effort: an expired lease frees itself). */
  release(grant: LeaseGrant): Promise<void>;
}

export interface LeaseGrant {
  readonly holder: string;
  readonly expiresAtMs: number;
}

export type LeaseAttempt =
  | { readonly acquired: true; readonly grant: LeaseGrant }
  | { readonly acquired: false; readonly holder: string; readonly expiresAtMs: number };

/** The stored value of the lease: who holds it and until when (0 = released). */
export interface LeaseValue {
  readonly holder: string;
  readonly expiresAtMs: number;
}

export function serializeLease(value: LeaseValue): string {
  return JSON.stringify(value);
}

/** Parses a stored lease; anything unreadable counts as expired (a lease only ever guards, never owns). */
export function parseLease(text: string): LeaseValue {
  try {
    const raw = JSON.parse(text) as Partial<Record<keyof LeaseValue, unknown>>;
    if (typeof raw.holder === 'string' && typeof raw.expiresAtMs === 'number') {
      return { holder: raw.holder, expiresAtMs: raw.expiresAtMs };
    }
  } catch {
    // fall through
  }
  return { holder: 'unreadable', expiresAtMs: 0 };
}

export interface LeaseOptions {
  /** Identifies this run in the lease (the Lambda request ID). */
  readonly holder: string;
  /** How long the lease lasts; must outlive the invocation, so a crashed holder frees it by expiry. */
  readonly ttlMs: number;
  /** How long to wait for a held lease (0: give up at once, as scheduled runs do). */
  readonly waitMs: number;
  /** Pause between attempts while waiting. @default 2000 */
  readonly pollMs?: number;
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

/** The work ran under the lease, or did not run because another run held it. */
export type LeasedResult<T> =
  { readonly ran: true; readonly value: T } | { readonly ran: false; readonly reason: string };

/**
 * Runs `work` while holding the lease, waiting up to `waitMs` for it; releases it afterwards, also when
 * `work` throws. When the lease stays held, `work` does not run and the reason names the holder.
 */
export async function withRunLease<T>(
  lease: RunLease,
  options: LeaseOptions,
  work: () => Promise<T>,
): Promise<LeasedResult<T>> {
  const now = options.now ?? Date.now;
  const giveUpAt = now() + options.waitMs;
  const pollMs = options.pollMs ?? 2000;
  for (;;) {
    const attempt = await lease.tryAcquire(options.holder, now(), options.ttlMs);
    if (attempt.acquired) {
      try {
        return { ran: true, value: await work() };
      } finally {
        await lease.release(attempt.grant).catch(() => undefined);
      }
    }
    if (now() + pollMs > giveUpAt || options.signal?.aborted) {
      return {
        ran: false,
        reason: `another ecr-connect run (${attempt.holder}) holds the lease until ${new Date(attempt.expiresAtMs).toISOString()}`,
      };
    }
    await sleep(pollMs, options.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
