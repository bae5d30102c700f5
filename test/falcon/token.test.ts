import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/config/errors.js';
import { FalconAuthError, createFalconClient, type FalconEvent } from '../../src/falcon/index.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { clientFor, failureOf } from './helpers.js';

describe('OAuth2 tokens', () => {
  let fake: FakeFalconServer;
  beforeAll(async () => {
    fake = await FakeFalconServer.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    fake.requests.length = 0;
    fake.tokenTtlSeconds = 1799;
  });

  it('asks for a token once (form-encoded) and reuses it while it is fresh', async () => {
    const { client } = clientFor(fake);
    await client.registryConnections.listConnections();
    await client.registryConnections.listConnections();
    const tokenRequests = fake.requestsTo('token');
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(tokenRequests[0]?.bodyText);
    expect(form.get('client_id')).toBe(fake.credentials.clientId);
    expect(form.has('member_cid')).toBe(false);
  });

  it('shares one token request between concurrent calls', async () => {
    const { client } = clientFor(fake);
    await Promise.all([1, 2, 3, 4].map(() => client.registryConnections.listIds()));
    expect(fake.requestsTo('token')).toHaveLength(1);
  });

  it('refreshes before expiry (margin) and not before', async () => {
    fake.tokenTtlSeconds = 1799;
    const { client, clock, events } = clientFor(fake, { tokenRefreshMarginMs: 60_000 });
    await client.registryConnections.listIds();
    clock.advance(1799_000 - 60_000 - 1);
    await client.registryConnections.listIds();
    expect(fake.requestsTo('token')).toHaveLength(1);
    clock.advance(1);
    await client.registryConnections.listIds();
    expect(fake.requestsTo('token')).toHaveLength(2);
    expect(
      events.filter((e) => e.type === 'token-issued').map((e) => e.type === 'token-issued' && e.reason),
    ).toEqual(['initial', 'expiring']);
    // Every API call used a token the fake had issued and not yet expired.
    const apiCalls = fake.requests.filter((r) => r.route?.startsWith('registries.'));
    expect(apiCalls.every((r) => r.status === 200)).toBe(true);
  });

  it('caps the margin at half the lifetime of short tokens', async () => {
    fake.tokenTtlSeconds = 60;
    const { client, clock } = clientFor(fake, { tokenRefreshMarginMs: 600_000 });
    await client.registryConnections.listIds();
    clock.advance(29_000);
    await client.registryConnections.listIds();
    expect(fake.requestsTo('token')).toHaveLength(1);
    clock.advance(1_000);
    await client.registryConnections.listIds();
    expect(fake.requestsTo('token')).toHaveLength(2);
  });

  it('gets a new token once when Falcon answers 401 to the cached one', async () => {
    const { client, events } = clientFor(fake);
    await client.registryConnections.listIds();
    fake.expireTokens();
    await client.registryConnections.listIds();
    expect(fake.requestsTo('token')).toHaveLength(2);
    expect(fake.requestsTo('registries.query').map((r) => r.status)).toEqual([200, 401, 200]);
    expect(events.some((e) => e.type === 'token-issued' && e.reason === 'rejected')).toBe(true);
  });

  it('fails clearly when the fresh token is rejected too', async () => {
    const { client } = clientFor(fake);
    fake.inject(
      'registries.query',
      {
        kind: 'status',
        status: 401,
        errors: [{ code: 401, message: 'access denied, invalid bearer token' }],
      },
      2,
    );
    const error = await failureOf(client.registryConnections.listIds());
    expect(error).toBeInstanceOf(FalconAuthError);
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.message).toContain('freshly issued token was rejected');
    expect(error.message).toContain('HTTP 401');
    expect(error.message).toContain('access denied, invalid bearer token');
    expect((error as FalconAuthError).traceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requestsTo('token')).toHaveLength(2);
    expect(fake.requestsTo('registries.query')).toHaveLength(2);
  });

  it('reports a wrong client secret as a user error without the secret', async () => {
    const secret = 'wrong-secret-7d9e2b1a0c4f6e8d';
    const client = createFalconClient({
      baseUrl: fake.baseUrl,
      credentials: { clientId: fake.credentials.clientId, clientSecret: secret },
    });
    const error = await failureOf(client.registryConnections.listConnections());
    expect(error).toBeInstanceOf(FalconAuthError);
    expect((error as FalconAuthError).status).toBe(401);
    expect(error.message).toContain('credentials were rejected');
    expect(error.message).toContain('POST /oauth2/token');
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect(fake.requestsTo('registries.query')).toHaveLength(0);
  });

  it('sends member_cid when given', async () => {
    const { client } = clientFor(fake, {
      credentials: { ...fake.credentials, memberCid: '0123456789abcdef0123456789abcdef' },
    });
    await client.registryConnections.listIds();
    const form = new URLSearchParams(fake.requestsTo('token')[0]?.bodyText);
    expect(form.get('member_cid')).toBe('0123456789abcdef0123456789abcdef');
    expect(fake.tokens().at(-1)?.memberCid).toBe('0123456789abcdef0123456789abcdef');
  });

  it('revokes the token on close (basic auth) and then it no longer works', async () => {
    const { client, events } = clientFor(fake);
    await client.registryConnections.listIds();
    const issued = fake.tokens().at(-1);
    await client.close();
    const revoke = fake.requestsTo('revoke');
    expect(revoke).toHaveLength(1);
    expect(revoke[0]?.status).toBe(200);
    expect(new URLSearchParams(revoke[0]?.bodyText).get('token')).toBe(issued?.token);
    expect(issued?.revoked).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'token-revoked' });
    // Closing twice (nothing cached) sends nothing.
    await client.close();
    expect(fake.requestsTo('revoke')).toHaveLength(1);
  });

  it('close never throws, even when the revoke fails', async () => {
    const { client, events } = clientFor(fake, { retry: { maxAttempts: 1 } });
    await client.registryConnections.listIds();
    fake.serverError('revoke', 1, 500);
    await expect(client.close()).resolves.toBeUndefined();
    expect(events.at(-1)?.type).toBe('token-revoke-failed');
  });
});

describe('cloud hints and caller deadlines', () => {
  let fake: FakeFalconServer;
  beforeAll(async () => {
    fake = await FakeFalconServer.start({ region: 'us-2' });
  });
  afterAll(async () => {
    await fake.close();
  });

  /** Sends what the client addresses to api.crowdstrike.com to the fake instead (a test proxy). */
  const viaFake: typeof fetch = (url, init) => {
    const href = url instanceof URL ? url.href : typeof url === 'string' ? url : url.url;
    return fetch(href.replace('https://api.crowdstrike.com', fake.baseUrl), init);
  };

  it('names the cloud Falcon reports (X-CS-Region) when a named cloud rejects the token', async () => {
    const events: FalconEvent[] = [];
    const client = createFalconClient({
      cloud: 'us-1',
      credentials: fake.credentials,
      fetch: viaFake,
      onEvent: (e) => events.push(e),
    });
    fake.inject('registries.query', { kind: 'status', status: 401 }, 2);
    const error = await failureOf(client.registryConnections.listIds());
    expect(error).toBeInstanceOf(FalconAuthError);
    expect(error.message).toContain('in Falcon cloud "us-2" rather than the configured "us-1"');
    expect(events.find((e) => e.type === 'token-issued')).toMatchObject({ region: 'us-2' });
  });

  it('stops waiting for a slow token request when the caller aborts', async () => {
    const { client } = clientFor(fake, { timeoutMs: 10_000 });
    fake.requests.length = 0;
    fake.slow('token', 2_000, 1);
    const controller = new AbortController();
    const pending = client.registryConnections.listIds(controller.signal);
    setTimeout(() => controller.abort(new Error('lambda deadline')), 50);
    const error = await failureOf(pending);
    expect(error.message).toBe('lambda deadline');
    expect(fake.requestsTo('registries.query')).toHaveLength(0);
  });
});
