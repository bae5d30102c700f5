import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeFalconServer, type RecordedRequest } from '../fakes/falcon-server.js';
import {
  REQUIRED_HEADERS,
  RESPONSE_SCHEMAS,
  SCHEMAS,
  registryassessmentExternalRegistryPayload,
} from '../fakes/falcon/schemas.js';
import { ECR_URL, EXTERNAL_ID, ROLE_ARN, clientFor } from './helpers.js';

/** Checks one recorded answer against the swagger definition documented for its route and status. */
function checkAgainstSpec(r: RecordedRequest): string[] {
  const problems: string[] = [];
  const where = `${r.method} ${r.path} → ${r.status ?? 'no answer'}`;
  if (r.route === undefined || r.status === undefined || r.response === undefined)
    return [`${where}: not answered`];
  const schemaName = RESPONSE_SCHEMAS[r.route][r.status];
  if (schemaName === undefined) return [`${where}: status not documented for ${r.route}`];
  const parsed = SCHEMAS[schemaName].safeParse(JSON.parse(r.response.bodyText));
  if (!parsed.success) problems.push(`${where}: not a ${schemaName}: ${parsed.error.message}`);
  for (const h of REQUIRED_HEADERS)
    if (r.response.headers[h] === undefined) problems.push(`${where}: no ${h}`);
  if (r.status === 429 && r.response.headers['x-ratelimit-retryafter'] === undefined) {
    problems.push(`${where}: no x-ratelimit-retryafter`);
  }
  if (r.route === 'token' && r.status === 201 && r.response.headers['x-cs-region'] === undefined) {
    problems.push(`${where}: no x-cs-region`);
  }
  return problems;
}

describe("the fake's wire format matches the swagger excerpt", () => {
  let fake: FakeFalconServer;
  beforeAll(async () => {
    fake = await FakeFalconServer.start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('answers every route and documented status with the documented definition and headers', async () => {
    const { client, clock } = clientFor(fake, { registryConnections: { pageSize: 2, batchSize: 2 } });
    const seeded = fake.addConnections(5);
    fake.rateLimit('*', 1, { retryAfterEpochSeconds: clock.now() / 1000 + 1 });
    fake.serverError('registries.query', 1, 500);
    fake.serverError('registries.get', 1, 500);
    fake.serverError('registries.create', 1, 500);
    await client.registryConnections.listConnections();
    await client.registryConnections.getConnections([seeded[0]?.id ?? '', 'gone']);
    await client.registryConnections.getConnections(['gone']);
    fake.failCredentialValidation(1);
    const created = await client.registryConnections.createEcrConnection({
      url: ECR_URL,
      alias: 'wire format',
      roleArn: ROLE_ARN,
      externalId: EXTERNAL_ID,
    });
    await client.registryConnections.createEcrConnection({
      url: ECR_URL,
      roleArn: ROLE_ARN,
      externalId: EXTERNAL_ID,
    });
    await client.registryConnections.deleteConnections([created.id, 'gone']);
    await client.close();

    // Direct calls for the remaining documented answers.
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await fetch(`${fake.baseUrl}/oauth2/token`, { method: 'POST', headers: form, body: 'client_id=x' });
    const token = await fetch(`${fake.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({
        client_id: fake.credentials.clientId,
        client_secret: fake.credentials.clientSecret,
      }).toString(),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const bearer = { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' };
    const entities = `${fake.baseUrl}/container-security/entities/registries/v1`;
    await fetch(`${entities}?id=${seeded[1]?.id ?? ''}`, {
      method: 'PATCH',
      headers: bearer,
      body: JSON.stringify({ user_defined_alias: 'renamed', credential: { type: 'ecr', details: {} } }),
    });
    await fetch(`${entities}?id=gone`, { method: 'PATCH', headers: bearer, body: '{"credential":{}}' });
    await fetch(`${fake.baseUrl}/container-security/queries/registries/v1?limit=9999`, { headers: bearer });

    const statuses = new Set(fake.requests.map((r) => `${r.route ?? '?'} ${r.status ?? '-'}`));
    for (const expected of [
      'token 201',
      'token 400',
      'token 429',
      'revoke 200',
      'registries.query 200',
      'registries.query 500',
      'registries.get 200',
      'registries.get 404',
      'registries.get 500',
      'registries.create 201',
      'registries.create 400',
      'registries.create 409',
      'registries.create 500',
      'registries.update 200',
      'registries.update 404',
      'registries.delete 200',
    ]) {
      expect(statuses).toContain(expected);
    }
    // 400 on a query is not documented by the swagger; checked separately below.
    const documented = fake.requests.filter((r) => !(r.route === 'registries.query' && r.status === 400));
    expect(documented.flatMap(checkAgainstSpec)).toEqual([]);
    const badLimit = fake.requests.find((r) => r.route === 'registries.query' && r.status === 400);
    expect(
      SCHEMAS['msa.ReplyMetaOnly'].safeParse(JSON.parse(badLimit?.response?.bodyText ?? '')).success,
    ).toBe(true);
  });

  it('pages the query with meta.pagination {offset, limit, total}', async () => {
    for (const c of fake.connections()) fake.deleteConnection(c.id);
    fake.addConnections(5);
    const { client } = clientFor(fake);
    await client.registryConnections.listIds();
    const token = fake.tokens().at(-1)?.token ?? '';
    const res = await fetch(`${fake.baseUrl}/container-security/queries/registries/v1?limit=2&offset=4`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = SCHEMAS['domain.ExternalQueryResponse'].parse(await res.json());
    expect(body.meta.pagination).toEqual({ offset: 4, limit: 2, total: 5 });
    expect(body.resources).toHaveLength(1);
  });

  it("the client's create body is a registryassessment.externalRegistryPayload", async () => {
    const { client } = clientFor(fake);
    await client.registryConnections.createEcrConnection({
      url: 'https://210987654321.dkr.ecr.us-west-2.amazonaws.com',
      roleArn: ROLE_ARN,
      externalId: EXTERNAL_ID,
      govUsingCommercialConnection: false,
    });
    const sent = fake.requestsTo('registries.create').at(-1);
    const parsed = registryassessmentExternalRegistryPayload.safeParse(JSON.parse(sent?.bodyText ?? ''));
    expect(parsed.success).toBe(true);
    expect(sent?.headers['content-type']).toBe('application/json');
  });
});
