import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FalconApiError,
  FalconAuthError,
  FalconCredentialsRejectedError,
  FalconHosts,
  awsAccountFilter,
  instanceIdsFilter,
} from '../../src/falcon/index.js';
import { toHost } from '../../src/falcon/hosts.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import {
  hostsDetailsResponse,
  hostsQueryResponse,
  hostsScrollResponse,
} from '../fakes/falcon/hosts-schemas.js';
import { clientFor, failureOf } from './helpers.js';

const ACCOUNT = '111111111111';
const OTHER = '222222222222';

function instanceId(i: number): string {
  return `i-${i.toString(16).padStart(17, '0')}`;
}

describe('Falcon hosts', () => {
  let fake: FakeFalconServer;
  beforeAll(async () => {
    fake = await FakeFalconServer.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    fake.hosts.hosts.clear();
    const leftOver = fake.pendingInjections();
    fake.clearInjections();
    fake.requests.length = 0;
    expect(leftOver).toBe(0);
  });

  function seed(count: number, account = ACCOUNT, from = 0): void {
    for (let i = from; i < from + count; i += 1) {
      fake.hosts.add({
        instance_id: instanceId(i),
        service_provider_account_id: account,
        hostname: `ip-${i}`,
      });
    }
  }

  it('scrolls with the cursor Falcon returns until every ID is read, then reads details in POST batches', async () => {
    seed(23);
    seed(5, OTHER, 100);
    const { client } = clientFor(fake);
    const hosts = new FalconHosts(client.api, { pageSize: 10, batchSize: 8 });
    const found = await hosts.inAwsAccount(ACCOUNT);
    expect(found.map((h) => h.instanceId).sort()).toEqual(
      Array.from({ length: 23 }, (_, i) => instanceId(i)),
    );
    expect(found.every((h) => h.serviceProviderAccountId === ACCOUNT)).toBe(true);
    const scrolls = fake.requestsTo('hosts.scroll');
    expect(scrolls).toHaveLength(3);
    expect(scrolls[0]?.query.get('offset')).toBeNull();
    expect(scrolls.map((r) => r.query.get('filter'))).toEqual(
      Array(3).fill(`service_provider_account_id:'${ACCOUNT}'`),
    );
    // Each later page sends the cursor the previous answer carried.
    for (let i = 1; i < scrolls.length; i += 1) {
      const previous = JSON.parse(scrolls[i - 1]?.response?.bodyText ?? '{}') as {
        meta: { pagination: { offset: string } };
      };
      expect(scrolls[i]?.query.get('offset')).toBe(previous.meta.pagination.offset);
    }
    for (const r of scrolls)
      expect(hostsScrollResponse.safeParse(JSON.parse(r.response?.bodyText ?? '')).success).toBe(true);
    const posts = fake.requestsTo('hosts.post');
    expect(posts.map((r) => (JSON.parse(r.bodyText) as { ids: string[] }).ids.length)).toEqual([8, 8, 7]);
    for (const r of posts)
      expect(hostsDetailsResponse.safeParse(JSON.parse(r.response?.bodyText ?? '')).success).toBe(true);
  });

  it('pages with integer offsets on the query endpoint and stops at the total', async () => {
    seed(12);
    const { client } = clientFor(fake);
    const hosts = new FalconHosts(client.api, { pageSize: 5 });
    const ids = await hosts.queryIds(awsAccountFilter(ACCOUNT));
    expect(ids).toHaveLength(12);
    const pages = fake.requestsTo('hosts.query');
    expect(pages.map((r) => [r.query.get('limit'), r.query.get('offset')])).toEqual([
      ['5', '0'],
      ['5', '5'],
      ['5', '10'],
    ]);
    for (const r of pages)
      expect(hostsQueryResponse.safeParse(JSON.parse(r.response?.bodyText ?? '')).success).toBe(true);
  });

  it('filters by instance IDs and account together', async () => {
    seed(6);
    seed(3, OTHER, 2);
    const { client } = clientFor(fake);
    const hosts = new FalconHosts(client.api);
    const found = await hosts.find(
      `${awsAccountFilter(OTHER)}+${instanceIdsFilter([instanceId(2), instanceId(3)])}`,
    );
    expect(found.map((h) => [h.serviceProviderAccountId, h.instanceId]).sort()).toEqual([
      [OTHER, instanceId(2)],
      [OTHER, instanceId(3)],
    ]);
  });

  it('retries 429 and 503 like the registry calls and still reads everything', async () => {
    seed(4);
    fake.rateLimit('hosts.scroll', 1, { retryAfterSeconds: 2 });
    fake.serverError('hosts.post', 1);
    const { client, events } = clientFor(fake);
    const found = await new FalconHosts(client.api).inAwsAccount(ACCOUNT);
    expect(found).toHaveLength(4);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['rate-limited', 'retry']));
  });

  it('answers an empty list (not an error) when Falcon sees no host of the account', async () => {
    const { client } = clientFor(fake);
    expect(await new FalconHosts(client.api).inAwsAccount(ACCOUNT)).toEqual([]);
    expect(fake.requestsTo('hosts.post')).toHaveLength(0);
  });

  it('keeps the client secret out of errors when Falcon echoes it', async () => {
    fake.inject('hosts.scroll', {
      kind: 'status',
      status: 400,
      errors: [{ code: 400, message: `bad filter near ${fake.credentials.clientSecret}` }],
    });
    const { client } = clientFor(fake);
    const error = await failureOf(new FalconHosts(client.api).inAwsAccount(ACCOUNT));
    expect(error).toBeInstanceOf(FalconApiError);
    expect(error.message).not.toContain(fake.credentials.clientSecret);
    expect(error.message).toContain('bad filter');
  });

  it('a 403 names the scope the hosts API needs', async () => {
    fake.inject('hosts.scroll', {
      kind: 'status',
      status: 403,
      errors: [{ code: 403, message: 'access denied' }],
    });
    const { client } = clientFor(fake);
    const error = await failureOf(new FalconHosts(client.api).inAwsAccount(ACCOUNT));
    expect(error).toBeInstanceOf(FalconAuthError);
    expect(error.message).toContain('"Hosts: Read"');
    expect(error.message).not.toContain('falcon-container-image');
  });

  for (const status of [401, 403]) {
    it(`a ${status} from /oauth2/token is rejected credentials, never blamed on the "Hosts: Read" scope`, async () => {
      fake.inject('token', { kind: 'status', status, errors: [{ code: status, message: 'access denied' }] });
      const { client } = clientFor(fake);
      const error = await failureOf(new FalconHosts(client.api).inAwsAccount(ACCOUNT));
      expect(error).toBeInstanceOf(FalconCredentialsRejectedError);
      expect(error.message).toContain('credentials were rejected');
      expect(error.message).not.toContain('Hosts: Read');
      expect(error.message).not.toContain('scope?');
    });
  }

  it('the stand-in enforces the real limits: GET details ≤ 100 IDs, deep offsets refused, cursors bound to their filter', async () => {
    seed(3);
    const { client } = clientFor(fake);
    const get = await client.api.request({
      method: 'GET',
      path: '/devices/entities/devices/v2',
      query: Array.from({ length: 101 }, (_, i) => ['ids', `d${i}`] as const),
      accept: [400],
    });
    expect(get.status).toBe(400);
    const deep = await client.api.request({
      method: 'GET',
      path: '/devices/queries/devices/v1',
      query: [
        ['limit', '5000'],
        ['offset', '9000'],
      ],
      accept: [400],
    });
    expect(deep.status).toBe(400);
    const first = await client.api.request({
      method: 'GET',
      path: '/devices/queries/devices-scroll/v1',
      query: [
        ['filter', awsAccountFilter(ACCOUNT)],
        ['limit', '1'],
      ],
    });
    const cursor = (first.body as { meta: { pagination: { offset: string } } }).meta.pagination.offset;
    const other = await client.api.request({
      method: 'GET',
      path: '/devices/queries/devices-scroll/v1',
      query: [
        ['filter', awsAccountFilter(OTHER)],
        ['offset', cursor],
      ],
      accept: [400],
    });
    expect(other.status).toBe(400);
  });

  it("reads a Kubernetes node's Falcon cluster ID (k8s_cluster_id); the device API has no cluster name", async () => {
    fake.hosts.add({
      instance_id: instanceId(7),
      service_provider_account_id: ACCOUNT,
      hostname: 'ip-10-0-0-7.ec2.internal',
      k8s_cluster_id: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6',
      k8s_cluster_version: '1.31',
    });
    const { client } = clientFor(fake);
    const [node] = await new FalconHosts(client.api).inAwsAccount(ACCOUNT);
    expect(node).toMatchObject({
      instanceId: instanceId(7),
      k8sClusterId: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6',
    });
    // Names the API never sends are not read, whatever a payload carries.
    expect(toHost({ device_id: 'd', k8s_cluster_name: 'prod', kubernetes_cluster_name: 'prod' })).toEqual({
      deviceId: 'd',
    });
  });

  it('refuses filters that could break out of FQL quotes', () => {
    expect(() => awsAccountFilter("1' , hostname:'x")).toThrow(/12-digit/);
    expect(() => instanceIdsFilter(["i-0abc'"])).toThrow(/instance ID/);
  });
});
