/**
 * An adaptive limiter for calls to one throttled budget (e.g. one member account's API rate): at most
 * `limit` calls in flight, the limit halved when the service answers "slow down" and raised by one
 * after each `limit` successes (additive increase, multiplicative decrease). When even one call in
 * flight is too fast for the service (its rate is below 1 / latency), calls are also spaced: the gap
 * between starts doubles on each further throttle and shrinks by 3 % on each success. A throttled
 * call waits a full-jitter exponential backoff and is tried again, so throttling costs time, not items.
 *
 * Example:
 * ```ts
 * const perAccount = new KeyedAdaptiveLimiters({ initial: 8, max: 16 });
 * const out = await perAccount.run(accountId, () => eks.send(new ListClustersCommand({})));
 * ```
 */
import { isThrottlingError } from './throttling.js';

export interface BackoffPolicy {
  /** Tries per call, the first included. @default 8 */
  readonly maxAttempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
}

export interface AdaptiveLimiterOptions extends BackoffPolicy {
  /** Calls in flight at the start. @default max */
  readonly initial?: number;
  /** Never fewer than this in flight. @default 1 */
  readonly min?: number;
  /** Never more than this in flight. */
  readonly max: number;
  /** Decides what counts as throttling. @default isThrottlingError */
  readonly isThrottled?: (error: unknown) => boolean;
  /**
   * Other failures tried again with the same backoff and attempt budget, without lowering the limit
   * (e.g. `isTransientError`: a server fault or a broken connection). @default none
   */
  readonly isRetryable?: (error: unknown) => boolean;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /** Milliseconds, for spacing calls. @default Date.now */
  readonly now?: () => number;
  /** Gap between call starts at the start (e.g. what a sibling limiter learnt). @default 0 */
  readonly initialSpacingMs?: number;
  /** Told of every throttling answer (after the limiter adapted). */
  readonly onThrottle?: (limiter: AdaptiveLimiter) => void;
}

/** Thrown (with the last throttling error as cause) when a call is still throttled after every try. */
export class ThrottledError extends Error {
  constructor(
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(`still throttled after ${attempts} attempts`, options);
    this.name = 'ThrottledError';
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class AdaptiveLimiter {
  private current: number;
  private active = 0;
  private successes = 0;
  /** Bumped on every decrease; a throttle seen by a call started in an older epoch is not counted twice. */
  private epoch = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly min: number;
  private readonly max: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly isThrottled: (error: unknown) => boolean;
  private readonly isRetryable: (error: unknown) => boolean;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly onThrottled: ((limiter: AdaptiveLimiter) => void) | undefined;
  /** Gap kept between call starts (0: none). */
  private intervalMs = 0;
  private nextStartAt = 0;
  /** Throttling answers seen (for reports and tests). */
  throttled = 0;
  /** Lowest limit reached (for reports and tests). */
  lowest: number;

  constructor(options: AdaptiveLimiterOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw new RangeError(`max must be a whole number ≥ 1, got ${options.max}`);
    }
    this.max = options.max;
    this.min = Math.min(this.max, Math.max(1, options.min ?? 1));
    this.current = Math.min(this.max, Math.max(this.min, options.initial ?? this.max));
    this.lowest = this.current;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 8);
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5000;
    this.isThrottled = options.isThrottled ?? isThrottlingError;
    this.isRetryable = options.isRetryable ?? (() => false);
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.intervalMs = Math.max(0, options.initialSpacingMs ?? 0);
    this.onThrottled = options.onThrottle;
  }

  /** Gap kept between call starts, in milliseconds (0 while concurrency alone keeps up). */
  get spacingMs(): number {
    return this.intervalMs;
  }

  /** Calls allowed in flight right now. */
  get limit(): number {
    return this.current;
  }

  /** Runs `task` within the limit; retries it with backoff while it is throttled (or fails retryably). */
  async run<R>(task: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt += 1) {
      await this.acquire();
      const startedIn = this.epoch;
      let throttle: unknown;
      let retryable: unknown;
      try {
        const value = await task();
        this.onSuccess();
        return value;
      } catch (error) {
        if (this.isThrottled(error)) {
          throttle = error;
          this.onThrottle(startedIn);
          this.onThrottled?.(this);
        } else if (this.isRetryable(error)) {
          retryable = error;
        } else {
          throw error;
        }
      } finally {
        this.release();
      }
      if (attempt >= this.maxAttempts) {
        if (throttle === undefined) throw retryable;
        throw new ThrottledError(attempt, { cause: throttle });
      }
      // Full jitter: a random wait up to the exponential cap spreads the retries of concurrent callers.
      const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
      await this.sleep(Math.floor(this.random() * cap));
    }
  }

  private async acquire(): Promise<void> {
    while (this.active >= this.current) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    if (this.intervalMs > 0) {
      const now = this.now();
      const at = Math.max(now, this.nextStartAt);
      this.nextStartAt = at + this.intervalMs;
      if (at > now) await this.sleep(at - now);
    }
  }

  private release(): void {
    this.active -= 1;
    this.wake();
  }

  private wake(): void {
    let free = this.current - this.active;
    while (free > 0 && this.waiting.length > 0) {
      this.waiting.shift()?.();
      free -= 1;
    }
  }

  private onSuccess(): void {
    if (this.intervalMs > 0) {
      this.intervalMs = this.intervalMs < 1 ? 0 : this.intervalMs * 0.97;
      return; // first stop spacing, then raise the limit
    }
    this.successes += 1;
    if (this.successes >= this.current && this.current < this.max) {
      this.current += 1;
      this.successes = 0;
      this.wake();
    }
  }

  private onThrottle(startedIn: number): void {
    this.throttled += 1;
    this.successes = 0;
    if (startedIn !== this.epoch) return; // this overload was already answered by a decrease
    this.epoch += 1;
    if (this.current > this.min) {
      this.current = Math.max(this.min, Math.floor(this.current / 2));
      this.lowest = Math.min(this.lowest, this.current);
    } else {
      this.intervalMs = Math.min(this.maxDelayMs, Math.max(this.baseDelayMs / 4, this.intervalMs * 2));
    }
  }
}

/**
 * One `AdaptiveLimiter` per key (e.g. per account: each account has its own API rates). Accounts of one
 * organization share the same service quotas, so a new key starts from what the last throttled key
 * learnt (its limit and spacing) instead of rediscovering the rate by being throttled again; the
 * spacing still decays on success where an account allows more.
 */
export class KeyedAdaptiveLimiters {
  private readonly limiters = new Map<string, AdaptiveLimiter>();
  private learnt: AdaptiveLimiter | undefined;

  constructor(private readonly options: AdaptiveLimiterOptions) {}

  for(key: string): AdaptiveLimiter {
    let limiter = this.limiters.get(key);
    if (!limiter) {
      const hint = this.learnt;
      limiter = new AdaptiveLimiter({
        ...this.options,
        ...(hint ? { initial: hint.limit, initialSpacingMs: hint.spacingMs } : {}),
        onThrottle: (l) => {
          this.learnt = l;
          this.options.onThrottle?.(l);
        },
      });
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  run<R>(key: string, task: () => Promise<R>): Promise<R> {
    return this.for(key).run(task);
  }

  /** Throttling answers seen across every key. */
  get throttled(): number {
    let total = 0;
    for (const l of this.limiters.values()) total += l.throttled;
    return total;
  }
}
