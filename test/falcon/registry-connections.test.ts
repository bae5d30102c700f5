import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FalconApiError,
  FalconCredentialValidationError,
  type CreateEcrConnectionInput,
} from '../../src/falcon/index.js';
import { FakeFalconServer } from '../fakes/falcon-server.js';
import { ECR_URL, EXTERNAL_ID, ROLE_ARN, clientFor, failureOf } from './helpers.js';

const input: CreateEcrConnectionInput = {
  url: ECR_URL,
  alias: 'falcon-org 123456789012 us-east-1',
  roleArn: ROLE_ARN,
  externalId: EXTERNAL_ID,
};

describe('registry connections', () => {
  let fake: FakeFalconServer;
  beforeAll(async () => {
    fake = await FakeFalconServer.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    for (const c of fake.connections()) fake.deleteConnection(c.id);
    Object.assign(fake.behaviour, {
      createStatus: 201,
      duplicate: '409',
      credentialValidationFailures: 0,
      saveDespiteValidationFailure: false,
    });
    const leftOver = fake.pendingInjections();
    fake.clearInjections();
    fake.requests.length = 0;
    expect(leftOver).toBe(0);
  });

  describe('listing', () => {
    it('reads every page (250 connections, limit 100) and every detail in batches of 100', async () => {
      const seeded = fake.addConnections(250);
      const { client } = clientFor(fake, { registryConnections: { pageSize: 100, batchSize: 100 } });
      const all = await client.registryConnections.listConnections();
      expect(all.map((c) => c.id).sort()).toEqual(seeded.map((c) => c.id).sort());
      const pages = fake.requestsTo('registries.query');
      expect(pages.map((r) => [r.query.get('limit'), r.query.get('offset')])).toEqual([
        ['100', '0'],
        ['100', '100'],
        ['100', '200'],
      ]);
      const batches = fake.requestsTo('registries.get').map((r) => r.query.getAll('ids').length);
      expect(batches).toEqual([100, 100, 50]);
      const one = all.find((c) => c.id === seeded[7]?.id);
      expect(one).toEqual({
        id: seeded[7]?.id,
        type: 'ecr',
        url: seeded[7]?.url,
        userDefinedAlias: 'seed-7',
        state: 'pending',
        createdAt: seeded[7]?.created_at,
      });
    });

    it('returns nothing (one query, no detail reads) for an empty tenant', async () => {
      const { client } = clientFor(fake);
      expect(await client.registryConnections.listConnections()).toEqual([]);
      expect(fake.requestsTo('registries.query')).toHaveLength(1);
      expect(fake.requestsTo('registries.get')).toHaveLength(0);
    });

    it('leaves out connections deleted between the query and the detail read', async () => {
      const [a, b] = fake.addConnections(2);
      const { client } = clientFor(fake);
      fake.deleteConnection(b?.id ?? '');
      const found = await client.registryConnections.getConnections([a?.id ?? '', b?.id ?? '']);
      expect(found.map((c) => c.id)).toEqual([a?.id]);
      fake.deleteConnection(a?.id ?? '');
      expect(await client.registryConnections.getConnections([a?.id ?? ''])).toEqual([]);
    });

    it('finds a connection by normalized URL (case, default port, trailing slash)', async () => {
      fake.addConnections(120);
      const target = fake.addConnection({ url: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/' });
      const { client } = clientFor(fake, { registryConnections: { pageSize: 50 } });
      const found = await client.registryConnections.findByUrl(
        'HTTPS://123456789012.DKR.ECR.EU-WEST-1.AMAZONAWS.COM:443',
      );
      expect(found?.id).toBe(target.id);
      expect(
        await client.registryConnections.findByUrl('https://123456789012.dkr.ecr.eu-west-2.amazonaws.com'),
      ).toBeUndefined();
    });
  });

  describe('create', () => {
    it('creates an ECR connection (201) with the documented body', async () => {
      const { client } = clientFor(fake);
      const created = await client.registryConnections.createEcrConnection(input);
      expect(created).toMatchObject({
        type: 'ecr',
        url: ECR_URL,
        userDefinedAlias: input.alias,
        existed: false,
      });
      const stored = fake.connection(created.id);
      expect(stored?.credentialDetails).toEqual({ aws_iam_role: ROLE_ARN, aws_external_id: EXTERNAL_ID });
      const body: unknown = JSON.parse(fake.requestsTo('registries.create')[0]?.bodyText ?? '');
      expect(body).toEqual({
        type: 'ecr',
        url: ECR_URL,
        user_defined_alias: input.alias,
        credential: { details: { aws_iam_role: ROLE_ARN, aws_external_id: EXTERNAL_ID } },
      });
    });

    it('sends aws_gov_using_commercial_connection when asked', async () => {
      const { client } = clientFor(fake);
      const created = await client.registryConnections.createEcrConnection({
        ...input,
        govUsingCommercialConnection: true,
      });
      expect(fake.connection(created.id)?.credentialDetails).toEqual({
        aws_iam_role: ROLE_ARN,
        aws_external_id: EXTERNAL_ID,
        aws_gov_using_commercial_connection: true,
      });
    });

    it('accepts 200 instead of 201', async () => {
      fake.behaviour.createStatus = 200;
      const { client } = clientFor(fake);
      const created = await client.registryConnections.createEcrConnection(input);
      expect(fake.requestsTo('registries.create')[0]?.status).toBe(200);
      expect(fake.connection(created.id)?.url).toBe(ECR_URL);
    });

    it.each(['409', 'empty-200'] as const)(
      'returns the existing connection on a duplicate (%s)',
      async (mode) => {
        fake.behaviour.duplicate = mode;
        const existing = fake.addConnection({ url: `${ECR_URL}/`, alias: 'made earlier' });
        fake.addConnections(3);
        const { client } = clientFor(fake);
        const result = await client.registryConnections.createEcrConnection(input);
        expect(result.id).toBe(existing.id);
        expect(result.userDefinedAlias).toBe('made earlier');
        expect(result.existed).toBe(true);
        expect(fake.requestsTo('registries.create')[0]?.status).toBe(mode === '409' ? 409 : 200);
        expect(fake.connections()).toHaveLength(4);
      },
    );

    it('fails clearly when a duplicate answer is not backed by a connection', async () => {
      const { client } = clientFor(fake);
      fake.inject('registries.create', {
        kind: 'status',
        status: 409,
        errors: [{ code: 409, message: 'registry with the same url already exists' }],
      });
      const error = await failureOf(client.registryConnections.createEcrConnection(input));
      expect(error).toBeInstanceOf(FalconApiError);
      expect(error.message).toContain('answered 409 (duplicate), but no connection with that URL exists');
      expect(error.message).toContain('registry with the same url already exists');
    });

    it('retries "failed to validate registry credential" with backoff until IAM has propagated', async () => {
      fake.failCredentialValidation(3);
      const { client, clock, events } = clientFor(fake);
      const created = await client.registryConnections.createEcrConnection(input);
      expect(fake.requestsTo('registries.create').map((r) => r.status)).toEqual([400, 400, 400, 201]);
      expect(fake.connection(created.id)).toBeDefined();
      // Equal jitter with random 0.5: 3/4 of ceilings 5 s, 10 s, 20 s.
      expect(clock.sleeps).toEqual([3_750, 7_500, 15_000]);
      expect(events.filter((e) => e.type === 'credential-validation-retry')).toHaveLength(3);
    });

    it('returns the connection Falcon saved despite answering 400', async () => {
      fake.failCredentialValidation(2, { saveAnyway: true });
      const { client } = clientFor(fake);
      const result = await client.registryConnections.createEcrConnection(input);
      expect(fake.requestsTo('registries.create').map((r) => r.status)).toEqual([400, 409]);
      expect(fake.connections().map((c) => c.id)).toEqual([result.id]);
    });

    it('looks the URL up after the bounded wait and returns a connection saved anyway', async () => {
      // Falcon saved the connection but keeps answering 400 for every create.
      const saved = fake.addConnection({ url: ECR_URL, alias: 'saved anyway' });
      const validation = { code: 400, message: 'failed to validate registry credential' };
      fake.inject('registries.create', { kind: 'status', status: 400, errors: [validation] }, 4);
      const { client, clock } = clientFor(fake, {
        registryConnections: { credentialValidation: { timeoutMs: 20_000, baseDelayMs: 5_000 } },
      });
      const result = await client.registryConnections.createEcrConnection(input);
      expect(result).toMatchObject({ id: saved.id, existed: true });
      // 3 750 + 7 500 + the 8 750 left of the 20 s budget, then one last look-up.
      expect(clock.sleeps).toEqual([3_750, 7_500, 8_750]);
      expect(fake.requests.map((r) => r.route)).toEqual([
        'token',
        'registries.create',
        'registries.create',
        'registries.create',
        'registries.create',
        'registries.query',
        'registries.get',
      ]);
    });

    it('gives up after the configured time, then fails naming the URL', async () => {
      fake.failCredentialValidation(1_000);
      const { client, clock } = clientFor(fake, {
        registryConnections: {
          credentialValidation: { timeoutMs: 60_000, baseDelayMs: 5_000, maxDelayMs: 20_000 },
        },
      });
      const error = await failureOf(client.registryConnections.createEcrConnection(input));
      expect(error).toBeInstanceOf(FalconCredentialValidationError);
      expect(error.message).toContain(ECR_URL);
      expect(error.message).toContain('failed to validate registry credential');
      expect(error.message).toContain('HTTP 400');
      expect(clock.slept()).toBe(60_000);
      // The last step before failing is the look-up by URL.
      const routes = fake.requests.map((r) => r.route);
      expect(routes.slice(-2)).toEqual(['registries.create', 'registries.query']);
      expect(fake.connections()).toHaveLength(0);
    });

    it('does not retry other 400s', async () => {
      const { client, clock } = clientFor(fake);
      const error = await failureOf(
        client.registryConnections.createEcrConnection({ ...input, roleArn: 'not-an-arn' }),
      );
      expect(error).toBeInstanceOf(FalconApiError);
      expect(error).not.toBeInstanceOf(FalconCredentialValidationError);
      expect(error.message).toContain('aws_iam_role must be an IAM role ARN');
      expect(clock.sleeps).toEqual([]);
      expect(fake.requestsTo('registries.create')).toHaveLength(1);
    });
  });

  describe('delete', () => {
    it('deletes by ID in batches and ignores IDs that no longer exist', async () => {
      const seeded = fake.addConnections(150);
      const keep = fake.addConnection({ url: 'https://999999999999.dkr.ecr.us-east-1.amazonaws.com' });
      const { client } = clientFor(fake, { registryConnections: { batchSize: 100 } });
      const ids = [...seeded.map((c) => c.id), 'missing-1', 'missing-2'];
      await client.registryConnections.deleteConnections(ids);
      expect(fake.connections().map((c) => c.id)).toEqual([keep.id]);
      expect(fake.requestsTo('registries.delete').map((r) => r.query.getAll('ids').length)).toEqual([
        100, 52,
      ]);
      // All missing: Falcon answers 404, still not an error.
      await client.registryConnections.deleteConnections(['missing-1']);
      expect(fake.requestsTo('registries.delete').at(-1)?.status).toBe(404);
      // Nothing to delete: no request.
      await client.registryConnections.deleteConnections([]);
      expect(fake.requestsTo('registries.delete')).toHaveLength(3);
    });

    it('reports IDs Falcon could not delete for another reason', async () => {
      const { client } = clientFor(fake);
      fake.inject('registries.delete', {
        kind: 'status',
        status: 200,
        errors: [{ code: 500, message: 'could not delete registry abc' }],
      });
      const error = await failureOf(client.registryConnections.deleteConnections(['abc']));
      expect(error).toBeInstanceOf(FalconApiError);
      expect(error.message).toContain('could not delete registry abc');
    });
  });
});
