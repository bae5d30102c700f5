import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FalconApiError,
  FalconNetworkError,
  FalconRateLimitError,
  FalconTimeoutError,
} from '../../src/falcon/index.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { TestClock } from '../fakes/falcon/clock.js';
import { clientFor, failureOf } from './helpers.js';

describe('rate limits, retries and timeouts', () => {
  let fake: FakeFalconServer;
  beforeAll(async () => {
    fake = await FakeFalconServer.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    const leftOver = fake.pendingInjections();
    fake.clearInjections();
    fake.requests.length = 0;
    expect(leftOver).toBe(0);
  });

  it('waits out a 429 burst exactly as X-RateLimit-RetryAfter (epoch seconds) says', async () => {
    const { client, clock } = clientFor(fake);
    await client.registryConnections.listIds(); // token in hand
    const nowSeconds = clock.now() / 1000;
    fake.rateLimit('registries.query', 1, { retryAfterEpochSeconds: nowSeconds + 7 });
    fake.rateLimit('registries.query', 1, { retryAfterEpochSeconds: nowSeconds + 7 + 3 });
    await client.registryConnections.listIds();
    expect(clock.sleeps).toEqual([7_000, 3_000]);
    expect(fake.requestsTo('registries.query').map((r) => r.status)).toEqual([200, 429, 429, 200]);
  });

  it('honours Retry-After (seconds), and the longer wait when both headers are present', async () => {
    const { client, clock, events } = clientFor(fake);
    fake.rateLimit('registries.query', 2, { retryAfterSeconds: 4 });
    fake.rateLimit('registries.query', 1, {
      retryAfterSeconds: 2,
      retryAfterEpochSeconds: clock.now() / 1000 + 8 + 5,
    });
    await client.registryConnections.listIds();
    // 4 s, 4 s, then max(2 s, epoch - now) where now has moved on by the 8 s already slept.
    expect(clock.sleeps).toEqual([4_000, 4_000, 5_000]);
    expect(events.filter((e) => e.type === 'rate-limited')).toHaveLength(3);
  });

  it('rate-limits the token endpoint too', async () => {
    const { client, clock } = clientFor(fake);
    fake.rateLimit('token', 2, { retryAfterSeconds: 1 });
    await client.registryConnections.listIds();
    expect(clock.sleeps).toEqual([1_000, 1_000]);
    expect(fake.requestsTo('token').map((r) => r.status)).toEqual([429, 429, 201]);
  });

  it('gives up after the allowed number of 429s with a rate-limit error', async () => {
    const { client, clock } = clientFor(fake, { retry: { maxRateLimitRetries: 3 } });
    await client.registryConnections.listIds();
    fake.rateLimit('registries.query', 4, { retryAfterSeconds: 2 });
    const error = await failureOf(client.registryConnections.listIds());
    expect(error).toBeInstanceOf(FalconRateLimitError);
    expect((error as FalconRateLimitError).status).toBe(429);
    expect(error.message).toContain('still rate limited after 3 waits');
    expect(error.message).toContain('API rate limit exceeded.');
    expect(clock.sleeps).toEqual([2_000, 2_000, 2_000]);
  });

  it('refuses to sleep longer than allowed for one 429', async () => {
    const { client, clock } = clientFor(fake, { retry: { maxRateLimitWaitMs: 30_000 } });
    await client.registryConnections.listIds();
    fake.rateLimit('registries.query', 1, { retryAfterSeconds: 120 });
    const error = await failureOf(client.registryConnections.listIds());
    expect(error).toBeInstanceOf(FalconRateLimitError);
    expect(error.message).toContain('asked to wait 120000 ms');
    expect(clock.sleeps).toEqual([]);
  });

  it('retries 5xx with exponential backoff and full jitter, then succeeds', async () => {
    const clock = new TestClock(Date.UTC(2026, 0, 1), () => 0.75);
    const { client, events } = clientFor(fake, { clock, retry: { baseDelayMs: 1_000, maxDelayMs: 3_000 } });
    await client.registryConnections.listIds();
    fake.serverError('registries.query', 1, 500);
    fake.serverError('registries.query', 1, 502);
    fake.serverError('registries.query', 1, 503);
    await client.registryConnections.listIds();
    // ceilings 1 s, 2 s, 4 s capped at 3 s; jitter 0.75 of the ceiling.
    expect(clock.sleeps).toEqual([750, 1_500, 2_250]);
    expect(events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && e.status)).toEqual([
      500, 502, 503,
    ]);
  });

  it('fails with status, trace_id and Falcon messages when 5xx outlasts the retries', async () => {
    const { client, clock } = clientFor(fake, { retry: { maxAttempts: 3 } });
    await client.registryConnections.listIds();
    fake.inject(
      'registries.query',
      {
        kind: 'status',
        status: 500,
        errors: [
          { code: 500, message: 'internal error' },
          { code: 500, message: 'registry service unavailable' },
        ],
      },
      3,
    );
    const error = await failureOf(client.registryConnections.listIds());
    expect(error).toBeInstanceOf(FalconApiError);
    const api = error as FalconApiError;
    expect(api.status).toBe(500);
    expect(api.messages).toEqual(['internal error', 'registry service unavailable']);
    const last = fake.requestsTo('registries.query').at(-1);
    expect(last?.status).toBe(500);
    expect(api.traceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.message).toContain('GET /container-security/queries/registries/v1');
    expect(error.message).toContain('HTTP 500');
    expect(error.message).toContain(`trace_id ${api.traceId}`);
    expect(error.message).toContain('internal error; registry service unavailable');
    expect(clock.sleeps).toHaveLength(2);
  });

  it('treats a non-JSON gateway page as a server error and retries it', async () => {
    const { client } = clientFor(fake);
    await client.registryConnections.listIds();
    fake.inject('registries.query', { kind: 'raw', status: 502, body: '<html>Bad Gateway</html>' });
    await expect(client.registryConnections.listIds()).resolves.toEqual([]);
  });

  it('does not retry other 4xx answers', async () => {
    const { client, clock } = clientFor(fake);
    await client.registryConnections.listIds();
    fake.inject('registries.query', {
      kind: 'status',
      status: 400,
      errors: [{ code: 400, message: 'bad offset' }],
    });
    const error = await failureOf(client.registryConnections.listIds());
    expect(error).toBeInstanceOf(FalconApiError);
    expect((error as FalconApiError).status).toBe(400);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries dropped connections, then reports a network error', async () => {
    const { client, clock } = clientFor(fake, { retry: { maxAttempts: 3 } });
    await client.registryConnections.listIds();
    fake.inject('registries.query', { kind: 'hang-up' }, 1);
    await client.registryConnections.listIds();
    expect(clock.sleeps).toHaveLength(1);
    fake.inject('registries.query', { kind: 'hang-up' }, 3);
    const error = await failureOf(client.registryConnections.listIds());
    expect(error).toBeInstanceOf(FalconNetworkError);
    expect(error.message).toContain('connection failed after 3 attempts');
  });

  it('times out slow answers, retries, and succeeds when the next answer is quick', async () => {
    const { client, events } = clientFor(fake, { timeoutMs: 500 });
    await client.registryConnections.listIds();
    fake.slow('registries.query', 3_000, 1);
    await client.registryConnections.listIds();
    expect(events.some((e) => e.type === 'retry' && e.reason === 'timeout')).toBe(true);
    expect(fake.requestsTo('registries.query').at(-2)?.answeredBy).toBe('delay');
  });

  it('fails with a timeout error when every attempt is too slow', async () => {
    const { client } = clientFor(fake, { timeoutMs: 100, retry: { maxAttempts: 2 } });
    await client.registryConnections.listIds();
    fake.slow('registries.query', 3_000, 2);
    const error = await failureOf(client.registryConnections.listIds());
    expect(error).toBeInstanceOf(FalconTimeoutError);
    expect(error.message).toContain('no answer within 100 ms, 2 attempts');
  });

  it("stops at once when the caller's signal aborts", async () => {
    const { client } = clientFor(fake, { timeoutMs: 10_000 });
    await client.registryConnections.listIds();
    fake.slow('registries.query', 3_000, 1);
    const controller = new AbortController();
    const pending = client.registryConnections.listIds(controller.signal);
    setTimeout(() => controller.abort(new Error('deadline reached')), 50);
    const error = await failureOf(pending);
    expect(error.message).toBe('deadline reached');
    expect(fake.requestsTo('registries.query').at(-1)?.answeredBy).toBe('delay');
  });
});
