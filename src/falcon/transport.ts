import { fullJitterDelay } from '../shared/backoff.js';
import type { Clock } from './clock.js';
import { readEnvelope, type FalconEnvelope } from './envelope.js';
import {
  FalconApiError,
  FalconNetworkError,
  FalconRateLimitError,
  FalconTimeoutError,
  type FalconFailure,
} from './errors.js';
import type { FalconEventListener } from './events.js';
import { rateLimitWait } from './rate-limit.js';

/** How hard the client tries before giving up. */
export interface RetryPolicy {
  /** Attempts per request for 5xx, network errors and timeouts (first try included). @default 4 */
  readonly maxAttempts: number;
  /** First backoff ceiling; doubles per attempt, full jitter. @default 500 */
  readonly baseDelayMs: number;
  /** Largest backoff ceiling. @default 20000 */
  readonly maxDelayMs: number;
  /** 429 answers tolerated per request (each waited out). @default 10 */
  readonly maxRateLimitRetries: number;
  /** A single 429 wait longer than this fails the request instead of sleeping. @default 60000 */
  readonly maxRateLimitWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRateLimitRetries: 10,
  maxRateLimitWaitMs: 60_000,
};

export interface TransportOptions {
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly userAgent: string;
  readonly onEvent: FalconEventListener;
  /** Removes known secrets from any text that goes into an error. */
  readonly redact: (text: string) => string;
}

export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON body; undefined when empty or not JSON. */
  readonly body: unknown;
  /** Undefined when the body was empty. */
  readonly envelope: FalconEnvelope | undefined;
  /** True when there was a body but it was not JSON. */
  readonly malformed: boolean;
  readonly operation: string;
}

type Outcome =
  | { readonly kind: 'response'; readonly response: TransportResponse }
  | { readonly kind: 'timeout' | 'network'; readonly error: unknown };

/**
 * Sends one logical request: per-attempt timeout, 429 waits as the headers ask, bounded retries with
 * exponential backoff and full jitter on 5xx, network errors and timeouts. Other statuses are
 * returned to the caller. Retrying POSTs is safe here: the token endpoint is idempotent and a
 * repeated registry create is answered as a duplicate, which the caller resolves by URL.
 */
export class FalconTransport {
  constructor(private readonly options: TransportOptions) {}

  async send(request: TransportRequest): Promise<TransportResponse> {
    const { clock, retry, onEvent } = this.options;
    const operation = `${request.method} ${request.path}`;
    let failures = 0;
    let rateLimited = 0;
    for (;;) {
      const outcome = await this.attempt(request, operation);
      if (outcome.kind === 'response') {
        const { response } = outcome;
        const traceId = response.envelope?.traceId;
        if (response.status === 429) {
          rateLimited += 1;
          const asked = rateLimitWait(response.headers, clock.now());
          const waitMs =
            asked ?? fullJitterDelay(rateLimited, retry.baseDelayMs, retry.maxDelayMs, clock.random());
          if (rateLimited > retry.maxRateLimitRetries || waitMs > retry.maxRateLimitWaitMs) {
            const why =
              waitMs > retry.maxRateLimitWaitMs
                ? `rate limited; asked to wait ${waitMs} ms, more than the allowed ${retry.maxRateLimitWaitMs} ms`
                : `still rate limited after ${retry.maxRateLimitRetries} waits`;
            throw new FalconRateLimitError(why, this.failure(response));
          }
          onEvent({
            type: 'rate-limited',
            operation,
            waitMs,
            count: rateLimited,
            ...(traceId !== undefined ? { traceId } : {}),
          });
          await clock.sleep(waitMs, request.signal);
          continue;
        }
        if (response.status >= 500) {
          failures += 1;
          if (failures >= retry.maxAttempts) {
            throw new FalconApiError(`server error after ${failures} attempts`, this.failure(response));
          }
          const delayMs = fullJitterDelay(failures, retry.baseDelayMs, retry.maxDelayMs, clock.random());
          onEvent({
            type: 'retry',
            operation,
            reason: 'server-error',
            status: response.status,
            attempt: failures,
            delayMs,
            ...(traceId !== undefined ? { traceId } : {}),
          });
          await clock.sleep(delayMs, request.signal);
          continue;
        }
        return response;
      }
      failures += 1;
      if (failures >= retry.maxAttempts) {
        if (outcome.kind === 'timeout') {
          throw new FalconTimeoutError(
            `no answer within ${this.options.timeoutMs} ms, ${failures} attempts`,
            { operation },
            { cause: outcome.error },
          );
        }
        throw new FalconNetworkError(
          `connection failed after ${failures} attempts (${this.options.redact(errorText(outcome.error))})`,
          { operation },
          { cause: outcome.error },
        );
      }
      const delayMs = fullJitterDelay(failures, retry.baseDelayMs, retry.maxDelayMs, clock.random());
      onEvent({ type: 'retry', operation, reason: outcome.kind, attempt: failures, delayMs });
      await clock.sleep(delayMs, request.signal);
    }
  }

  /** The failure description of an answer, with Falcon's messages redacted. */
  failure(response: TransportResponse): FalconFailure {
    const envelope = response.envelope;
    const traceId = envelope?.traceId ?? response.headers.get('x-cs-traceid') ?? undefined;
    return {
      operation: response.operation,
      status: response.status,
      ...(traceId !== undefined ? { traceId } : {}),
      messages: (envelope?.errors ?? []).map((e) => this.options.redact(e.message)),
    };
  }

  private async attempt(request: TransportRequest, operation: string): Promise<Outcome> {
    const { baseUrl, timeoutMs, userAgent } = this.options;
    const url = new URL(baseUrl + request.path);
    for (const [key, value] of request.query ?? []) url.searchParams.append(key, value);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    try {
      const res = await this.options.fetch(url, {
        method: request.method,
        headers: { accept: 'application/json', 'user-agent': userAgent, ...request.headers },
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal,
        redirect: 'error',
      });
      const text = await res.text();
      return { kind: 'response', response: toResponse(res, text, operation) };
    } catch (error) {
      if (request.signal?.aborted === true) throw request.signal.reason;
      return { kind: timeout.aborted ? 'timeout' : 'network', error };
    }
  }
}

function toResponse(res: Response, text: string, operation: string): TransportResponse {
  const headerTrace = res.headers.get('x-cs-traceid');
  if (text.trim() === '') {
    return {
      status: res.status,
      headers: res.headers,
      body: undefined,
      envelope: undefined,
      malformed: false,
      operation,
    };
  }
  let body: unknown;
  let malformed = false;
  try {
    body = JSON.parse(text);
  } catch {
    malformed = true;
  }
  return {
    status: res.status,
    headers: res.headers,
    body,
    envelope: readEnvelope(body, headerTrace),
    malformed,
    operation,
  };
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
