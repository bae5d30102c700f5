import { ListRegionsCommand } from '@aws-sdk/client-account';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ACCOUNT,
  EcrConnectHarness,
  EXTERNAL_ID,
  FALCON_SECRET,
  PARAMETER,
  ROLE_ARN,
} from './ecr-connect-harness.js';
import { captureLogs, type LogCapture } from '../shared/log-capture.js';

const PROPS = {
  DeploymentId: 'prod',
  Regions: ['us-east-1', 'eu-west-1'],
  DisconnectOnDelete: 'true',
  ConfigHash: 'h1',
};
const SCHEDULED = {
  source: 'aws.events',
  'detail-type': 'Scheduled Event',
  id: 'e1',
  time: '2026-11-26T00:00:00Z',
};

describe('ecr-connect handler', () => {
  let h: EcrConnectHarness;
  let logged: LogCapture;
  beforeEach(async () => {
    h = await EcrConnectHarness.start();
    logged = captureLogs();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await h.close();
    // Secrets never reach the logs, whatever the test did.
    const text = logged.text();
    expect(text).not.toContain(h.falcon.credentials.clientSecret);
    expect(text).not.toContain(EXTERNAL_ID);
  });

  it('Create connects every configured region with the role and external ID, records ownership and answers SUCCESS', async () => {
    const event = h.event('Create', PROPS);

    const answer = await h.invoke(event);

    expect(answer).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: `falcon-org-ecr-${ACCOUNT}-prod`,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: 'EcrConnections',
      Data: { Created: '2', Kept: '0', Deleted: '0', Failed: '0', ConnectedRegionCount: '2' },
    });
    expect(h.connectedUrls()).toEqual([h.ecrUrl('eu-west-1'), h.ecrUrl('us-east-1')]);
    for (const c of h.falcon.connections()) {
      expect(c.type).toBe('ecr');
      expect(c.credentialDetails).toEqual({ aws_iam_role: ROLE_ARN, aws_external_id: EXTERNAL_ID });
    }
    expect(Object.keys(h.record()?.connections ?? {}).sort()).toEqual(['eu-west-1', 'us-east-1']);
    const text = JSON.stringify(answer);
    expect(text).not.toContain(EXTERNAL_ID);
    expect(text).not.toContain(h.falcon.credentials.clientSecret);
  });

  it('marks connections of a commercial account to a government Falcon cloud', async () => {
    h.secrets.set(
      FALCON_SECRET,
      JSON.stringify({
        ClientId: h.falcon.credentials.clientId,
        ClientSecret: h.falcon.credentials.clientSecret,
        Cloud: 'us-gov-1',
        BaseUrl: h.falcon.baseUrl,
      }),
    );

    const answer = await h.invoke(h.event('Create', { ...PROPS, Regions: ['us-east-1'] }));

    expect(answer.Status).toBe('SUCCESS');
    expect(h.falcon.connections()[0]?.credentialDetails).toEqual({
      aws_iam_role: ROLE_ARN,
      aws_external_id: EXTERNAL_ID,
      aws_gov_using_commercial_connection: true,
    });
  });

  it('a repeated Create (retry) succeeds without creating anything again', async () => {
    await h.invoke(h.event('Create', PROPS));
    const creates = h.falcon.requestsTo('registries.create').length;

    const again = await h.invoke(h.event('Create', PROPS));

    expect(again).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `falcon-org-ecr-${ACCOUNT}-prod` });
    expect(again.Data).toMatchObject({ Created: '0', Kept: '2' });
    expect(h.falcon.requestsTo('registries.create')).toHaveLength(creates);
    expect(h.falcon.connections()).toHaveLength(2);
  });

  it('Update adds and removes regions and keeps the physical ID', async () => {
    const created = await h.invoke(h.event('Create', PROPS));
    const physicalId = created.PhysicalResourceId as string;

    const updated = await h.invoke(
      h.event(
        'Update',
        { ...PROPS, Regions: ['us-east-1', 'ap-southeast-2'], ConfigHash: 'h2' },
        {
          PhysicalResourceId: physicalId,
          OldResourceProperties: PROPS,
        },
      ),
    );

    expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    expect(updated.Data).toMatchObject({ Created: '1', Kept: '1', Deleted: '1' });
    expect(h.connectedUrls()).toEqual([h.ecrUrl('ap-southeast-2'), h.ecrUrl('us-east-1')]);
  });

  it('Update refuses to change the deployment ID that owns the connections', async () => {
    const created = await h.invoke(h.event('Create', PROPS));
    const answer = await h.invoke(
      h.event(
        'Update',
        { ...PROPS, DeploymentId: 'other' },
        {
          PhysicalResourceId: created.PhysicalResourceId as string,
          OldResourceProperties: PROPS,
        },
      ),
    );
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/DeploymentId cannot change/);
    expect(h.falcon.connections()).toHaveLength(2);
  });

  it('Delete with DisconnectOnDelete removes exactly the owned connections, and a second Delete succeeds', async () => {
    const foreign = h.falcon.addConnection({ url: h.ecrUrl('us-west-2'), alias: 'set up by hand' });
    const sameRegionForeign = h.falcon.addConnection({ url: h.ecrUrl('eu-west-1', `9${ACCOUNT}`) });
    const created = await h.invoke(
      h.event('Create', { ...PROPS, Regions: ['us-east-1', 'eu-west-1', 'us-west-2'] }),
    );
    expect(created.Data).toMatchObject({ Created: '2', Kept: '1' });
    const deleteEvent = (): ReturnType<typeof h.event> =>
      h.event(
        'Delete',
        { ...PROPS, Regions: ['us-east-1', 'eu-west-1', 'us-west-2'] },
        {
          PhysicalResourceId: created.PhysicalResourceId as string,
        },
      );

    const first = await h.invoke(deleteEvent());
    const deletesAfterFirst = h.falcon.requestsTo('registries.delete').length;
    const second = await h.invoke(deleteEvent());

    expect(first).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
    expect(second.Status).toBe('SUCCESS');
    expect(
      h.falcon
        .connections()
        .map((c) => c.id)
        .sort(),
    ).toEqual([foreign.id, sameRegionForeign.id].sort());
    expect(h.falcon.requestsTo('registries.delete')).toHaveLength(deletesAfterFirst);
    expect(h.record()).toBeUndefined();
  });

  it('Delete without DisconnectOnDelete leaves the connections, and schedules stop repairing', async () => {
    const props = { ...PROPS, DisconnectOnDelete: 'false' };
    const created = await h.invoke(h.event('Create', props));

    const answer = await h.invoke(
      h.event('Delete', props, { PhysicalResourceId: created.PhysicalResourceId as string }),
    );
    h.falcon.deleteConnection(h.falcon.connections()[0]?.id ?? '');
    const scheduled = await h.handler()(SCHEDULED, h.context());

    expect(answer.Status).toBe('SUCCESS');
    expect(h.falcon.connections()).toHaveLength(1);
    expect(h.falcon.requestsTo('registries.delete')).toHaveLength(0);
    expect(scheduled?.results).toEqual([]);
  });

  it("a Create refused because another deployment's record is there rolls back cleanly, touching nothing", async () => {
    await h.invoke(h.event('Create', { ...PROPS, DeploymentId: 'old' }));
    const before = h.parameters.get(PARAMETER);
    const connections = h.connectedUrls();

    const created = await h.invoke(h.event('Create', PROPS));
    const rollback = await h.invoke(
      h.event('Delete', PROPS, { PhysicalResourceId: created.PhysicalResourceId as string }),
    );

    expect(created.Status).toBe('FAILED');
    expect(created.Reason).toMatch(/belongs to deployment "old"/);
    expect(rollback.Status).toBe('SUCCESS');
    expect(h.parameters.get(PARAMETER)).toBe(before);
    expect(h.connectedUrls()).toEqual(connections);
    expect(h.falcon.requestsTo('registries.delete')).toHaveLength(0);
  });

  it('rides out transient "failed to validate registry credential" answers while IAM propagates', async () => {
    h.falcon.failCredentialValidation(3);

    const answer = await h.invoke(h.event('Create', PROPS));

    expect(answer.Status).toBe('SUCCESS');
    expect(h.falcon.connections()).toHaveLength(2);
    expect(h.falconEvents.filter((e) => e.type === 'credential-validation-retry')).toHaveLength(3);
  });

  it('honours a burst of 429s', async () => {
    h.falcon.rateLimit('*', 5, { retryAfterSeconds: 2 });

    const answer = await h.invoke(h.event('Create', PROPS));

    expect(answer.Status).toBe('SUCCESS');
    expect(h.falcon.connections()).toHaveLength(2);
    expect(h.falcon.requests.filter((r) => r.status === 429)).toHaveLength(5);
    // Each wait is the 2 s Falcon asked for, not a guess.
    const waits = h.falconEvents.flatMap((e) => (e.type === 'rate-limited' ? [e.waitMs] : []));
    expect(waits).toEqual([2000, 2000, 2000, 2000, 2000]);
  });

  it('survives a token that expires mid-run', async () => {
    let expired = false;
    h.beforeFalconRequest = (method, url) => {
      if (!expired && method === 'POST' && url.includes('/entities/registries/v1')) {
        h.falcon.expireTokens();
        expired = true;
      }
    };

    const answer = await h.invoke(h.event('Create', PROPS));

    expect(answer.Status).toBe('SUCCESS');
    expect(expired).toBe(true);
    expect(h.falcon.requests.some((r) => r.status === 401)).toBe(true);
    expect(h.falcon.requestsTo('token').length).toBeGreaterThanOrEqual(2);
    expect(h.falcon.connections()).toHaveLength(2);
  });

  it('retries 5xx answers', async () => {
    h.falcon.serverError('registries.query', 2, 503);
    h.falcon.serverError('registries.create', 1, 502);

    const answer = await h.invoke(h.event('Create', PROPS));

    expect(answer.Status).toBe('SUCCESS');
    expect(h.falcon.connections()).toHaveLength(2);
  });

  it('reports a region that Falcon rejects by name while the other region is connected', async () => {
    h.envOverrides = { ECR_CONCURRENCY: '1' };
    h.beforeFalconRequest = (method, _url, body) => {
      if (method === 'POST' && body.includes('eu-west-1')) {
        h.falcon.inject('registries.create', {
          kind: 'status',
          status: 400,
          errors: [{ code: 400, message: 'role not assumable' }],
        });
      }
    };

    const answer = await h.invoke(h.event('Create', PROPS));

    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(
      /^2 region\(s\): 1 created, 1 failed\. eu-west-1 failed: .*role not assumable/,
    );
    expect(answer.Data).toMatchObject({ Created: '1', Failed: '1' });
    expect(h.connectedUrls()).toEqual([h.ecrUrl('us-east-1')]);
  });

  it('records a duplicate answered "200 with an empty body" as the connection it looked up', async () => {
    h.falcon.behaviour.duplicate = 'empty-200';
    h.beforeFalconRequest = (method, url) => {
      // The same create lands first through another path (e.g. a retried invocation running concurrently).
      if (
        method === 'POST' &&
        url.includes('/entities/registries/v1') &&
        h.falcon.connections().length === 0
      ) {
        h.falcon.addConnection({
          url: h.ecrUrl('us-east-1'),
          alias: 'falcon-org prod 123456789012 us-east-1',
        });
      }
    };

    const answer = await h.invoke(h.event('Create', { ...PROPS, Regions: ['us-east-1'] }));

    expect(answer.Status).toBe('SUCCESS');
    expect(h.falcon.connections()).toHaveLength(1);
    expect(h.record()?.connections['us-east-1']).toBe(h.falcon.connections()[0]?.id);
  });

  it('never owns (or later deletes) a connection someone else made between its listing and its create (409)', async () => {
    h.falcon.behaviour.duplicate = '409';
    h.beforeFalconRequest = (method, url) => {
      if (
        method === 'POST' &&
        url.includes('/entities/registries/v1') &&
        h.falcon.connections().length === 0
      ) {
        h.falcon.addConnection({ url: h.ecrUrl('us-east-1'), alias: 'set up by hand' });
      }
    };
    const props = { ...PROPS, Regions: ['us-east-1'] };
    const created = await h.invoke(h.event('Create', props));
    const foreign = h.falcon.connections()[0];

    const deleted = await h.invoke(
      h.event('Delete', props, { PhysicalResourceId: created.PhysicalResourceId as string }),
    );

    expect(created).toMatchObject({ Status: 'SUCCESS', Data: { Created: '0', Kept: '1' } });
    expect(deleted.Status).toBe('SUCCESS');
    expect(h.falcon.connections().map((c) => c.id)).toEqual([foreign?.id]);
    expect(h.falcon.requestsTo('registries.delete')).toHaveLength(0);
  });

  it('answers FAILED with a clear reason when the credentials secret is malformed', async () => {
    h.secrets.set(FALCON_SECRET, JSON.stringify({ ClientId: 'abc', Cloud: 'us-1', ClientSecret: '' }));

    const answer = await h.invoke(h.event('Create', PROPS));

    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(
      new RegExp(
        `^secret ${FALCON_SECRET} lacks "ClientSecret" \\(expected non-empty strings\\); store the API client`,
      ),
    );
    expect(h.falcon.requests).toHaveLength(0);
  });

  it('answers FAILED with a clear reason when the credentials secret is missing or not JSON', async () => {
    h.secrets.set(FALCON_SECRET, 'client_id=abc');
    const notJson = await h.invoke(h.event('Create', PROPS));
    h.secrets.delete(FALCON_SECRET);
    const missing = await h.invoke(h.event('Create', PROPS));

    expect(notJson).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/is not JSON/) as unknown,
    });
    expect(missing).toMatchObject({
      Status: 'FAILED',
      Reason: `could not read secret ${FALCON_SECRET}: it does not exist`,
    });
  });

  it('answers SUCCESS with the unreached regions deferred before its own timeout when Falcon is slow, and the schedule finishes them', async () => {
    h.falcon.slow('registries.query', 60_000);

    const answer = await h.invoke(h.event('Create', PROPS), 1200);

    expect(answer.Status).toBe('SUCCESS');
    expect(answer.Reason).toBe(
      "2 region(s): 2 deferred. eu-west-1, us-east-1 deferred: not reached before the run's time budget ran out",
    );
    expect(answer.Data).toMatchObject({ Deferred: '2', Failed: '0' });
    // The abandoned run's lease expires after its invocation would have ended; the next run takes it.
    const lease = h.lease();
    if (lease === undefined) throw new Error('no lease written');
    vi.useFakeTimers({ toFake: ['Date'], now: lease.expiresAtMs + 1 });
    try {
      const repaired = await h.handler()(SCHEDULED, h.context());
      expect(repaired?.results.map((r) => r.outcome)).toEqual(['created', 'created']);
    } finally {
      vi.useRealTimers();
    }
    expect(h.connectedUrls()).toEqual([h.ecrUrl('eu-west-1'), h.ecrUrl('us-east-1')]);
  });

  it('answers FAILED when the time runs out before the run knows its regions', async () => {
    h.envOverrides = { ECR_CONCURRENCY: '1' };
    h.account.on(ListRegionsCommand).callsFake(() => new Promise(() => undefined));

    const answer = await h.invoke(h.event('Create', { ...PROPS, Regions: [] }), 1200);

    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^timed out before finishing: the run had not yet determined its regions/);
  });

  it('a scheduled run recreates a connection deleted in Falcon and connects a newly enabled region', async () => {
    await h.invoke(h.event('Create', { ...PROPS, Regions: [] }));
    expect(h.connectedUrls()).toEqual([h.ecrUrl('us-east-1'), h.ecrUrl('us-west-2')]);
    const gone = h.falcon.connections().find((c) => c.url === h.ecrUrl('us-west-2'));
    h.falcon.deleteConnection(gone?.id ?? '');
    h.enabledRegions = ['us-east-1', 'us-west-2', 'eu-central-1'];

    const result = await h.handler()(SCHEDULED, h.context());

    expect(result?.results.map((r) => [r.region, r.outcome])).toEqual([
      ['eu-central-1', 'created'],
      ['us-east-1', 'kept'],
      ['us-west-2', 'created'],
    ]);
    expect(h.connectedUrls()).toEqual([
      h.ecrUrl('eu-central-1'),
      h.ecrUrl('us-east-1'),
      h.ecrUrl('us-west-2'),
    ]);
    expect(h.record()?.connections['us-west-2']).not.toBe(gone?.id);
  });

  it('reads the ownership record once per run: Create, scheduled repair and Delete', async () => {
    const reads = (): number =>
      h.ssm.commandCalls(GetParameterCommand).filter((c) => c.args[0].input.Name === PARAMETER).length;
    const created = await h.invoke(h.event('Create', PROPS));
    const afterCreate = reads();
    await h.handler()(SCHEDULED, h.context());
    const afterRepair = reads();
    const deleted = await h.invoke(
      h.event('Delete', PROPS, { PhysicalResourceId: created.PhysicalResourceId as string }),
    );

    expect(created.Status).toBe('SUCCESS');
    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
    expect([afterCreate, afterRepair - afterCreate, reads() - afterRepair]).toEqual([1, 1, 1]);
  });

  it('a scheduled run before any deployment does nothing, and a failing scheduled run throws naming the region', async () => {
    await expect(h.handler()(SCHEDULED, h.context())).resolves.toMatchObject({ results: [] });
    expect(h.falcon.requests).toHaveLength(0);

    await h.invoke(h.event('Create', { ...PROPS, Regions: ['us-east-1'] }));
    h.falcon.deleteConnection(h.falcon.connections()[0]?.id ?? '');
    h.falcon.inject(
      'registries.create',
      { kind: 'status', status: 400, errors: [{ code: 400, message: 'bad role' }] },
      1,
    );

    await expect(h.handler()(SCHEDULED, h.context())).rejects.toThrow(/us-east-1 failed: /);
  });

  it('answers FAILED for invalid properties, and the rollback Delete succeeds without doing anything', async () => {
    const created = await h.invoke(h.event('Create', { Regions: ['atlantis-1'] }));
    const deleted = await h.invoke(
      h.event(
        'Delete',
        { Regions: ['atlantis-1'] },
        { PhysicalResourceId: created.PhysicalResourceId as string },
      ),
    );

    expect(created.Status).toBe('FAILED');
    expect(created.Reason).toMatch(/DeploymentId: expected .*; Regions: expected/);
    expect(deleted.Status).toBe('SUCCESS');
    expect(h.falcon.requests).toHaveLength(0);
  });
});
