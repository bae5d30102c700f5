import type { FakeApiError } from './envelope.js';

/** The fake's endpoints, by name. */
export type FakeRoute =
  | 'token'
  | 'revoke'
  | 'registries.query'
  | 'registries.get'
  | 'registries.create'
  | 'registries.update'
  | 'registries.delete'
  | 'hosts.query'
  | 'hosts.scroll'
  | 'hosts.get'
  | 'hosts.post'
  | 'sensors.ccid'
  | 'images.credentials'
  | 'policies.sensorUpdate';

export const FAKE_ROUTES: readonly FakeRoute[] = [
  'token',
  'revoke',
  'registries.query',
  'registries.get',
  'registries.create',
  'registries.update',
  'registries.delete',
  'hosts.query',
  'hosts.scroll',
  'hosts.get',
  'hosts.post',
  'sensors.ccid',
  'images.credentials',
  'policies.sensorUpdate',
];

/** A one-shot answer injected for the next request to a route. */
export type Injection =
  /** 429 with X-RateLimit-RetryAfter (epoch seconds) and/or Retry-After (seconds). */
  | {
      readonly kind: 'rate-limit';
      readonly retryAfterEpochSeconds?: number;
      readonly retryAfterSeconds?: number;
    }
  /** Any status with an envelope carrying these errors (e.g. 500, 502, 503). */
  | { readonly kind: 'status'; readonly status: number; readonly errors?: readonly FakeApiError[] }
  /** A non-JSON body (e.g. a gateway's HTML page). */
  | { readonly kind: 'raw'; readonly status: number; readonly body: string; readonly contentType?: string }
  /** Wait this long, then answer normally (or not at all if the client gave up). */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Drop the connection without answering. */
  | { readonly kind: 'hang-up' };

/** One-shot injections per route, consumed first-in first-out. */
export class InjectionQueue {
  private readonly queues = new Map<FakeRoute | '*', Injection[]>();

  add(route: FakeRoute | '*', injection: Injection, times = 1): void {
    const queue = this.queues.get(route) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(injection);
    this.queues.set(route, queue);
  }

  /** The next injection for this route (route-specific ones first, then '*'). */
  take(route: FakeRoute): Injection | undefined {
    return this.queues.get(route)?.shift() ?? this.queues.get('*')?.shift();
  }

  pending(route?: FakeRoute | '*'): number {
    if (route !== undefined) return this.queues.get(route)?.length ?? 0;
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  clear(): void {
    this.queues.clear();
  }
}
