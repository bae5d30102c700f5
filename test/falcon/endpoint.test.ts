import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/config/errors.js';
import {
  FalconClientConfigError,
  createFalconClient,
  normalizeRegistryUrl,
  resolveBaseUrl,
} from '../../src/falcon/index.js';
import { rateLimitWait } from '../../src/falcon/rate-limit.js';
import { equalJitterDelay, fullJitterDelay } from '../../src/shared/backoff.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';

const credentials = { clientId: 'id-0123456789', clientSecret: 'secret-0123456789abcdef' };

describe('base URL', () => {
  it.each([
    ['us-1', 'https://api.crowdstrike.com'],
    ['us-2', 'https://api.us-2.crowdstrike.com'],
    ['eu-1', 'https://api.eu-1.crowdstrike.com'],
    ['us-gov-1', 'https://api.laggar.gcw.crowdstrike.com'],
    ['us-gov-2', 'https://api.us-gov-2.crowdstrike.mil'],
  ])('sends requests for cloud %s to %s', async (cloud, base) => {
    const seen: string[] = [];
    const fetchStub: typeof fetch = (url) => {
      const href = url instanceof URL ? url.href : typeof url === 'string' ? url : url.url;
      seen.push(href);
      const token = href.endsWith('/oauth2/token');
      const body = token
        ? { access_token: 'token-abcdefgh', token_type: 'bearer', expires_in: 1799 }
        : { meta: { query_time: 0.1, trace_id: 't' }, resources: [], errors: [] };
      return Promise.resolve(new Response(JSON.stringify(body), { status: token ? 201 : 200 }));
    };
    const client = createFalconClient({ cloud, credentials, fetch: fetchStub });
    expect(client.baseUrl).toBe(base);
    await client.registryConnections.listIds();
    expect(seen).toEqual([
      `${base}/oauth2/token`,
      `${base}/container-security/queries/registries/v1?limit=500&offset=0`,
    ]);
  });

  it('prefers an explicit base URL over the cloud and talks to it', async () => {
    const fake = await FakeFalconServer.start();
    try {
      const client = createFalconClient({
        cloud: 'us-1',
        baseUrl: `${fake.baseUrl}/`,
        credentials: fake.credentials,
      });
      expect(client.baseUrl).toBe(fake.baseUrl);
      expect(await client.registryConnections.listConnections()).toEqual([]);
      expect(fake.requestsTo('token')).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('keeps a path prefix of a proxy base URL', () => {
    expect(resolveBaseUrl({ baseUrl: 'https://proxy.example/falcon/' })).toBe('https://proxy.example/falcon');
  });

  it.each([
    [{}, 'a Falcon cloud name or base URL is required'],
    [{ cloud: 'us-3' }, 'unknown Falcon cloud "us-3"'],
    [{ baseUrl: 'not a url' }, 'not a URL'],
    [{ baseUrl: 'ftp://proxy.example' }, 'must be http(s)'],
    [{ baseUrl: 'https://user:pw@proxy.example' }, 'must not contain credentials'],
  ])('rejects %j as a user error', (endpoint, message) => {
    const error = (() => {
      try {
        resolveBaseUrl(endpoint);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(FalconClientConfigError);
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as Error).message).toContain(message);
  });

  it('rejects empty credentials before any request', () => {
    expect(() =>
      createFalconClient({ cloud: 'us-1', credentials: { clientId: 'x', clientSecret: ' ' } }),
    ).toThrow(FalconClientConfigError);
  });
});

describe('normalizeRegistryUrl', () => {
  it.each([
    [
      'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
    ],
    [
      'HTTPS://123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM/',
      'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
    ],
    ['https://host.example:443//', 'https://host.example'],
    ['http://host.example:80', 'http://host.example'],
    ['https://host.example:5000', 'https://host.example:5000'],
    ['host.example', 'https://host.example'],
    ['https://Host.example/Path/Repo/', 'https://host.example/Path/Repo'],
    ['  https://host.example/?x=1#y ', 'https://host.example'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeRegistryUrl(input)).toBe(expected);
  });
});

describe('backoff and rate-limit headers', () => {
  it('doubles the full-jitter ceiling per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((a) => fullJitterDelay(a, 500, 3_000, 0.999_999))).toEqual([
      499, 999, 1_999, 2_999, 2_999,
    ]);
    expect(fullJitterDelay(3, 500, 3_000, 0)).toBe(0);
  });

  it('keeps equal-jitter waits within [ceiling/2, ceiling)', () => {
    expect(equalJitterDelay(1, 5_000, 30_000, 0)).toBe(2_500);
    expect(equalJitterDelay(4, 5_000, 30_000, 0.999_999)).toBe(29_999);
  });

  it('reads X-RateLimit-RetryAfter as epoch seconds and Retry-After as seconds or a date', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(rateLimitWait(new Headers({ 'X-RateLimit-RetryAfter': String(now / 1000 + 3) }), now)).toBe(3_000);
    expect(rateLimitWait(new Headers({ 'X-RateLimit-RetryAfter': String(now / 1000 - 3) }), now)).toBe(0);
    expect(rateLimitWait(new Headers({ 'Retry-After': '2' }), now)).toBe(2_000);
    expect(rateLimitWait(new Headers({ 'Retry-After': new Date(now + 9_000).toUTCString() }), now)).toBe(
      9_000,
    );
    expect(rateLimitWait(new Headers({ 'Retry-After': 'soon' }), now)).toBeUndefined();
    expect(rateLimitWait(new Headers(), now)).toBeUndefined();
  });
});
