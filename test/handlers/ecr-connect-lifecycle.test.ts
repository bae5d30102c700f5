import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException as SchedulerNotFound,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
  type SchedulerClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-scheduler';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { spreadSchedule } from '../../src/ecr/schedule-spread.js';
import {
  ACCOUNT,
  EcrConnectHarness,
  ENV,
  EXTERNAL_ID,
  EXTERNAL_ID_SECRET,
  FALCON_SECRET,
  LEASE_PARAMETER,
  LOG_GROUP,
  PARAMETER,
  ROLE_ARN,
} from './ecr-connect-harness.js';
import { captureLogs } from '../shared/log-capture.js';

/**
 * The life of one account's instance through the handler, with stateful fakes: stacks deleted and
 * created again, credentials revoked, runs overlapping, budgets running out, teardown with purge.
 */
const PROPS = {
  DeploymentId: 'prod',
  Regions: ['eu-west-1', 'us-east-1'],
  DisconnectOnDelete: 'false',
  ConfigHash: 'h1',
};
const DISCONNECT = { ...PROPS, DisconnectOnDelete: 'true' };
const SCHEDULED = { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'e1' };
const NEW_EXTERNAL_ID = 'Nw3Ex7Id2Ab9Cd4Ef6Gh8Ij1';

describe('ecr-connect through the lifecycle', () => {
  let h: EcrConnectHarness;
  beforeEach(async () => {
    h = await EcrConnectHarness.start();
    captureLogs();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await h.close();
  });

  const create = (props: Record<string, unknown> = PROPS) => h.invoke(h.event('Create', props));
  const remove = (physicalId: unknown, props: Record<string, unknown> = PROPS) =>
    h.invoke(h.event('Delete', props, { PhysicalResourceId: physicalId as string }));
  const externalIds = (): unknown[] =>
    h.falcon
      .connections()
      .map((c) => c.credentialDetails['aws_external_id'])
      .sort();

  describe('point 1: a re-created instance gets a new external ID', () => {
    it('create → delete (connections left) → create again with a new external ID replaces the owned connections', async () => {
      const first = await create();
      const oldIds = h.falcon
        .connections()
        .map((c) => c.id)
        .sort();
      const deleted = await remove(first.PhysicalResourceId);
      // The stack instance is gone with its external-ID secret; CloudFormation generates a new one.
      h.secrets.set(EXTERNAL_ID_SECRET, NEW_EXTERNAL_ID);

      const again = await create();

      expect(deleted.Status).toBe('SUCCESS');
      expect(deleted.Reason).toMatch(/^2 region\(s\): 2 left\. connections left in Falcon: /);
      expect(again).toMatchObject({ Status: 'SUCCESS', Data: { Created: '2', Kept: '0' } });
      expect(again.Reason).toBe('2 region(s): 2 replaced');
      expect(externalIds()).toEqual([NEW_EXTERNAL_ID, NEW_EXTERNAL_ID]);
      const newIds = h.falcon.connections().map((c) => c.id);
      expect(newIds.some((id) => oldIds.includes(id))).toBe(false);
      expect(Object.values(h.record()?.connections ?? {}).sort()).toEqual(newIds.sort());
      // And from then on it is stable: the next run keeps them.
      const repair = await h.handler()(SCHEDULED, h.context());
      expect(repair?.results.map((r) => r.outcome)).toEqual(['kept', 'kept']);
    });

    it('the daily repair catches a changed external ID or role too', async () => {
      await create();
      h.secrets.set(EXTERNAL_ID_SECRET, NEW_EXTERNAL_ID);

      const repair = await h.handler()(SCHEDULED, h.context());

      expect(repair?.results.map((r) => [r.region, r.outcome])).toEqual([
        ['eu-west-1', 'replaced'],
        ['us-east-1', 'replaced'],
      ]);
      expect(externalIds()).toEqual([NEW_EXTERNAL_ID, NEW_EXTERNAL_ID]);

      const otherRole = ROLE_ARN.replace('falcon-org-ecr-connection', 'renamed-connection');
      h.envOverrides = { CONNECTION_ROLE_ARN: otherRole };
      const again = await h.handler()(SCHEDULED, h.context());
      expect(again?.results.map((r) => r.outcome)).toEqual(['replaced', 'replaced']);
      expect(h.falcon.connections().map((c) => c.credentialDetails['aws_iam_role'])).toEqual([
        otherRole,
        otherRole,
      ]);
    });

    it('never modifies a connection someone else made, whatever its credential', async () => {
      const foreign = h.falcon.addConnection({ url: h.ecrUrl('us-east-1'), alias: 'set up by hand' });
      await create();
      h.secrets.set(EXTERNAL_ID_SECRET, NEW_EXTERNAL_ID);

      const repair = await h.handler()(SCHEDULED, h.context());

      expect(repair?.results.map((r) => [r.region, r.outcome, r.owned])).toEqual([
        ['eu-west-1', 'replaced', true],
        ['us-east-1', 'kept', false],
      ]);
      expect(h.falcon.connections().some((c) => c.id === foreign.id)).toBe(true);
    });

    it('revoke → Delete (record removed, connections left) → new client and create again replaces the stale connections', async () => {
      const created = await create(DISCONNECT);
      const good = h.secrets.get(FALCON_SECRET) ?? '';
      h.secrets.set(
        FALCON_SECRET,
        JSON.stringify({ ...(JSON.parse(good) as object), ClientSecret: 'revoked' }),
      );
      const deleted = await remove(created.PhysicalResourceId, DISCONNECT);
      expect(deleted.Status).toBe('SUCCESS');
      expect(h.record()).toBeUndefined();
      const stale = h.falcon
        .connections()
        .map((c) => c.id)
        .sort();
      expect(stale).toHaveLength(2);
      // The instance comes back with a new external ID and a working client.
      h.secrets.set(FALCON_SECRET, good);
      h.secrets.set(EXTERNAL_ID_SECRET, NEW_EXTERNAL_ID);

      const again = await create(DISCONNECT);

      expect(again).toMatchObject({ Status: 'SUCCESS', Reason: '2 region(s): 2 replaced' });
      expect(externalIds()).toEqual([NEW_EXTERNAL_ID, NEW_EXTERNAL_ID]);
      const ids = h.falcon.connections().map((c) => c.id);
      expect(ids.some((id) => stale.includes(id))).toBe(false);
      expect(Object.values(h.record()?.connections ?? {}).sort()).toEqual(ids.sort());
      // Owned again: a later Delete with disconnect removes them.
      await remove(again.PhysicalResourceId, DISCONNECT);
      expect(h.falcon.connections()).toEqual([]);
    });

    it('destroy --purge with the default (connections left) → deploy again replaces them, and the repair keeps them', async () => {
      const created = await create();
      const purged = await remove(created.PhysicalResourceId, { ...PROPS, PurgeOnDelete: 'true' });
      expect(purged.Reason).toMatch(/purged: the ownership record/);
      expect(h.record()).toBeUndefined();
      h.secrets.set(EXTERNAL_ID_SECRET, NEW_EXTERNAL_ID);

      const again = await create();

      expect(again.Reason).toBe('2 region(s): 2 replaced');
      expect(again.Data).toMatchObject({ Kept: '0' });
      expect(externalIds()).toEqual([NEW_EXTERNAL_ID, NEW_EXTERNAL_ID]);
      const repair = await h.handler()(SCHEDULED, h.context());
      expect(repair?.results.map((r) => [r.outcome, r.owned])).toEqual([
        ['kept', true],
        ['kept', true],
      ]);
    });

    it("never takes over another deployment's connection or one made by hand, even with a similar alias", async () => {
      const other = h.falcon.addConnection({
        url: h.ecrUrl('eu-west-1'),
        alias: `falcon-org staging ${ACCOUNT} eu-west-1`,
      });
      // Our alias, but for another region than its URL's: not this deployment's connection for eu-west-1.
      const misplaced = h.falcon.addConnection({
        url: h.ecrUrl('us-east-1'),
        alias: `falcon-org prod ${ACCOUNT} eu-west-1`,
      });

      const result = await create();

      expect(result.Data).toMatchObject({ Kept: '2', Created: '0' });
      const kept = h.falcon.connections().map((c) => [c.id, c.credentialDetails['aws_external_id']]);
      expect(kept.map(([id]) => id).sort()).toEqual([other.id, misplaced.id].sort());
      expect(kept.every(([, externalId]) => externalId !== EXTERNAL_ID)).toBe(true);
      expect(h.record()?.connections).toEqual({});
    });
  });

  describe('point 2: overlapping runs without reserved concurrency', () => {
    it('two overlapping scheduled runs: one does the work, the other reports deferred naming the holder', async () => {
      await create();
      h.secrets.set(EXTERNAL_ID_SECRET, NEW_EXTERNAL_ID);
      let open: () => void = () => undefined;
      h.falconGate = new Promise<void>((resolve) => (open = resolve));
      const listings = (): number => h.falcon.requestsTo('registries.query').length;
      const before = listings();

      const first = h.handler()(SCHEDULED, h.context());
      await vi.waitFor(() => expect(h.lease()?.expiresAtMs).toBeGreaterThan(Date.now()));
      const holder = h.lease()?.holder;
      const second = await h.handler()(SCHEDULED, h.context());
      h.falconGate = undefined;
      open();
      const done = await first;

      expect(second?.results).toEqual([]);
      expect(second?.deferred).toMatch(
        new RegExp(`^another ecr-connect run \\(${holder ?? 'none'}\\) holds the lease until \\d{4}-`),
      );
      expect(second?.summary).toMatch(/^deferred: /);
      expect(done?.results.map((r) => r.outcome)).toEqual(['replaced', 'replaced']);
      // One run listed Falcon's connections, and each registry was replaced once.
      expect(listings() - before).toBe(1);
      expect(h.falcon.connections()).toHaveLength(2);
      expect(h.lease()?.expiresAtMs).toBe(0);
    });

    it('a Delete that arrives during a scheduled run waits for it, then does its own work', async () => {
      const created = await create(DISCONNECT);
      let open: () => void = () => undefined;
      h.falconGate = new Promise<void>((resolve) => (open = resolve));
      const order: string[] = [];

      const repair = h
        .handler()(SCHEDULED, h.context())
        .then((r) => {
          order.push('repair');
          return r;
        });
      await vi.waitFor(() => expect(h.lease()?.expiresAtMs).toBeGreaterThan(Date.now()));
      const deleting = remove(created.PhysicalResourceId, DISCONNECT).then((a) => {
        order.push('delete');
        return a;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Still waiting: the repair holds the lease and nothing was deleted.
      expect(order).toEqual([]);
      expect(h.falcon.connections()).toHaveLength(2);
      h.falconGate = undefined;
      open();
      const [repaired, deleted] = await Promise.all([repair, deleting]);

      expect(order).toEqual(['repair', 'delete']);
      expect(repaired?.results.map((r) => r.outcome)).toEqual(['kept', 'kept']);
      expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
      expect(h.falcon.connections()).toHaveLength(0);
      expect(h.record()).toBeUndefined();
    });

    it('takes over the lease of a run that crashed once it has expired', async () => {
      const created = await create();
      h.parameters.set(LEASE_PARAMETER, JSON.stringify({ holder: 'crashed', expiresAtMs: Date.now() - 1 }));
      h.history.set(LEASE_PARAMETER, [h.parameters.get(LEASE_PARAMETER) ?? '']);

      const answer = await h.invoke(
        h.event(
          'Update',
          { ...PROPS, ConfigHash: 'h2' },
          { PhysicalResourceId: created.PhysicalResourceId as string },
        ),
      );

      expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Kept: '2' } });
    });
  });

  describe('point 4: teardown when Falcon is revoked or unreachable', () => {
    it('create → revoke the API client → Delete with disconnect answers SUCCESS naming what is left, removes the record; create again works', async () => {
      const created = await create(DISCONNECT);
      const ids = h.falcon
        .connections()
        .map((c) => c.id)
        .sort();
      const good = h.secrets.get(FALCON_SECRET) ?? '';
      // The client was revoked in Falcon: its secret no longer authenticates.
      h.secrets.set(
        FALCON_SECRET,
        JSON.stringify({ ...(JSON.parse(good) as object), ClientSecret: 'revoked' }),
      );

      const deleted = await remove(created.PhysicalResourceId, DISCONNECT);

      expect(deleted.Status).toBe('SUCCESS');
      expect(deleted.Reason).toContain('2 left');
      for (const id of ids) expect(deleted.Reason).toContain(id);
      // The refusal is said once, for both regions.
      expect(String(deleted.Reason).match(/could not be reached or refused the API client/g)).toHaveLength(1);
      expect(h.record()).toBeUndefined();
      expect(h.falcon.connections()).toHaveLength(2);

      // A new client later: the stack comes back and connects again (the old connections are not its own).
      h.secrets.set(FALCON_SECRET, good);
      const again = await create(DISCONNECT);
      expect(again.Status).toBe('SUCCESS');
    });

    it('Delete answers SUCCESS when Falcon cannot be reached at all', async () => {
      const created = await create(DISCONNECT);
      const good = JSON.parse(h.secrets.get(FALCON_SECRET) ?? '{}') as Record<string, string>;
      h.secrets.set(FALCON_SECRET, JSON.stringify({ ...good, BaseUrl: 'http://127.0.0.1:9' }));

      const deleted = await remove(created.PhysicalResourceId, DISCONNECT);

      expect(deleted.Status).toBe('SUCCESS');
      expect(deleted.Reason).toMatch(
        /^2 region\(s\): 2 left\. eu-west-1, us-east-1 left: Falcon could not be reached/,
      );
      expect(h.record()).toBeUndefined();
    });

    it('revoke → destroy --purge: the Delete also removes the record, the lease and the log group', async () => {
      h.envOverrides = { LOG_GROUP_NAME: LOG_GROUP };
      const created = await create();
      h.secrets.set(
        FALCON_SECRET,
        JSON.stringify({ ClientId: 'x', ClientSecret: 'revoked', Cloud: 'us-1', BaseUrl: h.falcon.baseUrl }),
      );
      expect(h.parameters.has(LEASE_PARAMETER)).toBe(true);

      const deleted = await remove(created.PhysicalResourceId, { ...PROPS, PurgeOnDelete: 'true' });

      expect(deleted.Status).toBe('SUCCESS');
      expect(deleted.Reason).toMatch(
        /connections left in Falcon: .*; purged: the ownership record, SSM parameter .*-lease, log group /,
      );
      expect(h.parameters.has(PARAMETER)).toBe(false);
      expect(h.parameters.has(LEASE_PARAMETER)).toBe(false);
      expect(h.logGroups.has(LOG_GROUP)).toBe(false);
      // A purge repeated (CloudFormation retry) finds only the lease it took itself, and still succeeds.
      const again = await remove(created.PhysicalResourceId, { ...PROPS, PurgeOnDelete: 'true' });
      expect(again).toMatchObject({
        Status: 'SUCCESS',
        Reason: `no regions to reconcile; purged: SSM parameter ${LEASE_PARAMETER}`,
      });
      expect(h.parameters.size).toBe(0);
    });

    it('revoke → destroy --purge as destroy runs it: the Update that only sets PurgeOnDelete needs no Falcon', async () => {
      const props = { ...PROPS, RepairSchedule: 'rate(1 day)' };
      const created = await create(props);
      h.secrets.set(
        FALCON_SECRET,
        JSON.stringify({ ClientId: 'x', ClientSecret: 'revoked', Cloud: 'us-1', BaseUrl: h.falcon.baseUrl }),
      );
      const purging = { ...props, PurgeOnDelete: 'true' };

      // destroy --purge first deploys the template with PurgeOnDelete "true": a custom resource Update.
      const updated = await h.invoke(
        h.event('Update', purging, {
          PhysicalResourceId: created.PhysicalResourceId as string,
          OldResourceProperties: { ServiceToken: 'arn:aws:lambda:x', ...props },
        }),
      );
      expect(updated.Status).toBe('SUCCESS');
      // The rule reads the schedule from every Update answer.
      expect(updated.Data).toMatchObject({ RepairSchedule: spreadSchedule('rate(1 day)', ACCOUNT) });

      const deleted = await remove(created.PhysicalResourceId, purging);
      expect(deleted.Status).toBe('SUCCESS');
      expect(deleted.Reason).toMatch(/purged: the ownership record/);
      expect(h.parameters.size).toBe(0);

      // Any other change still reconciles (and fails with the revoked client).
      const other = await h.invoke(
        h.event(
          'Update',
          { ...purging, Regions: ['eu-west-1'] },
          {
            PhysicalResourceId: created.PhysicalResourceId as string,
            OldResourceProperties: { ServiceToken: 'arn:aws:lambda:x', ...props },
          },
        ),
      );
      expect(other.Status).toBe('FAILED');
    });

    it('a Delete that runs out of time answers SUCCESS and says what stays, so teardown is not blocked', async () => {
      const created = await create(DISCONNECT);
      h.falcon.slow('registries.query', 60_000);

      const deleted = await h.invoke(
        h.event('Delete', DISCONNECT, { PhysicalResourceId: created.PhysicalResourceId as string }),
        1500,
      );

      expect(deleted.Status).toBe('SUCCESS');
      const ids = h.record()?.connections ?? {};
      expect(deleted.Reason).toBe(
        "2 region(s): 2 left. eu-west-1, us-east-1 left: not reached before the run's time budget ran out; " +
          `connections left in Falcon: ${ids['eu-west-1'] ?? '?'} (eu-west-1), ${ids['us-east-1'] ?? '?'} (us-east-1)`,
      );
      expect(Object.keys(h.record()?.connections ?? {})).toHaveLength(2);
    });

    it('a purging Delete that fails keeps the record, so the retry can finish removing the connections', async () => {
      const props = { ...DISCONNECT, PurgeOnDelete: 'true' };
      const created = await create(props);
      h.falcon.serverError('registries.delete', 20, 500);

      const failed = await remove(created.PhysicalResourceId, props);
      expect(failed.Status).toBe('FAILED');
      expect(failed.Reason).not.toContain('purged');
      expect(Object.keys(h.record()?.connections ?? {})).toHaveLength(2);

      h.falcon.clearInjections();
      const retried = await remove(created.PhysicalResourceId, props);
      expect(retried).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
      // The record went with the last connection; the purge removed the lease.
      expect(retried.Reason).toBe(`2 region(s): 2 deleted; purged: SSM parameter ${LEASE_PARAMETER}`);
      expect(h.falcon.connections()).toEqual([]);
      expect(h.parameters.size).toBe(0);
    });

    it('without purge the Delete keeps the record (what is left is named) and the log group', async () => {
      h.envOverrides = { LOG_GROUP_NAME: LOG_GROUP };
      const created = await create();
      const deleted = await remove(created.PhysicalResourceId);
      expect(deleted.Reason).not.toContain('purged');
      expect(h.record()?.desired).toEqual({ regions: ['eu-west-1', 'us-east-1'], active: false });
      expect(h.logGroups.has(LOG_GROUP)).toBe(true);
    });

    it('with disconnect (no purge) the Delete removes the connections and the record; the lease and the log group stay', async () => {
      // What destroy and plan say stays in this mode (src/deploy/leftovers.ts, src/plan/after-destroy.ts).
      h.envOverrides = { LOG_GROUP_NAME: LOG_GROUP };
      const created = await create(DISCONNECT);
      const deleted = await remove(created.PhysicalResourceId, DISCONNECT);
      expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
      expect(h.falcon.connections()).toEqual([]);
      expect(h.parameters.has(PARAMETER)).toBe(false);
      expect(h.parameters.has(LEASE_PARAMETER)).toBe(true);
      expect(h.logGroups.has(LOG_GROUP)).toBe(true);
    });
  });

  describe('point 5: the rollback of a Create that never succeeded', () => {
    it('removes what the failed Create made, with the default disconnectOnDelete false, and keeps what an earlier life left', async () => {
      // An earlier life of the stack left us-east-1 connected.
      const earlier = await create({ ...PROPS, Regions: ['us-east-1'] });
      await remove(earlier.PhysicalResourceId, { ...PROPS, Regions: ['us-east-1'] });
      const keptId = h.falcon.connections()[0]?.id;
      h.envOverrides = { ECR_CONCURRENCY: '1' };
      h.beforeFalconRequest = (method, _url, body) => {
        if (method === 'POST' && body.includes('ap-south-1')) {
          h.falcon.inject('registries.create', {
            kind: 'status',
            status: 400,
            errors: [{ code: 400, message: 'role not assumable' }],
          });
        }
      };
      const props = { ...PROPS, Regions: ['ap-south-1', 'eu-west-1', 'us-east-1'] };

      const created = await create(props);
      const rollback = await remove(created.PhysicalResourceId, props);

      expect(created.Status).toBe('FAILED');
      expect(rollback.Status).toBe('SUCCESS');
      expect(rollback.Reason).toMatch(/^3 region\(s\): 1 deleted, 1 absent, 1 left\./);
      expect(h.falcon.connections().map((c) => c.id)).toEqual([keptId]);
      expect(Object.values(h.record()?.connections ?? {})).toEqual([keptId]);
    });

    it('what a scheduled repair makes between a failed Create and its rollback is removed by the rollback too', async () => {
      h.envOverrides = { ECR_CONCURRENCY: '1' };
      h.falcon.inject(
        'registries.create',
        { kind: 'status', status: 400, errors: [{ code: 400, message: 'role not assumable' }] },
        1,
      );
      const created = await create();
      expect(created.Status).toBe('FAILED');
      expect(h.falcon.connections()).toHaveLength(1);

      const repair = await h.handler()(SCHEDULED, h.context());
      expect(repair?.results.map((r) => r.outcome)).toEqual(['created', 'kept']);
      const rollback = await remove(created.PhysicalResourceId);

      expect(rollback).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
      expect(h.falcon.connections()).toEqual([]);
      expect(h.record()).toBeUndefined();
    });

    it('a create that landed in Falcon but whose answer was lost is removed, not counted as left', async () => {
      h.beforeFalconRequest = (method, url) => {
        if (
          method === 'POST' &&
          url.includes('/entities/registries/v1') &&
          h.falcon.connections().length === 0
        ) {
          // The create lands, then every answer is lost.
          h.falcon.addConnection({
            url: h.ecrUrl('us-east-1'),
            alias: `falcon-org prod ${ACCOUNT} us-east-1`,
          });
          h.falcon.serverError('registries.create', 10, 500);
          h.falcon.serverError('registries.query', 10, 500);
        }
      };
      const props = { ...PROPS, Regions: ['us-east-1'] };
      const created = await create(props);
      expect(created.Status).toBe('FAILED');
      expect(h.record()?.pending).toEqual(['us-east-1']);
      h.beforeFalconRequest = undefined;
      h.falcon.clearInjections();

      const rollback = await remove(created.PhysicalResourceId, props);

      expect(rollback).toMatchObject({ Status: 'SUCCESS', Reason: '1 region(s): 1 deleted' });
      expect(h.falcon.connections()).toEqual([]);
      expect(h.record()).toBeUndefined();
    });

    it('a Create that answered SUCCESS with regions deferred at its deadline is confirmed: its Delete leaves what it made', async () => {
      h.envOverrides = { ECR_CONCURRENCY: '1' };
      h.beforeFalconRequest = (method, _url, body) => {
        if (method === 'POST' && body.includes('us-east-1')) h.falcon.slow('registries.create', 60_000);
      };
      const created = await h.invoke(h.event('Create', PROPS), 1500);
      expect(created).toMatchObject({ Status: 'SUCCESS', Data: { Created: '1', Deferred: '1' } });
      expect(h.record()?.provisional).toBeUndefined();
      h.beforeFalconRequest = undefined;
      const euId = h.record()?.connections['eu-west-1'];
      // The abandoned run's lease has expired by the time the stack is deleted.
      vi.useFakeTimers({ toFake: ['Date'], now: (h.lease()?.expiresAtMs ?? 0) + 1 });
      try {
        const deleted = await remove(created.PhysicalResourceId);
        expect(deleted.Status).toBe('SUCCESS');
        // eu-west-1 is left (the Create succeeded); us-east-1's create never answered and is not counted as left.
        expect(deleted.Reason).toMatch(/^2 region\(s\): 1 (absent|deleted), 1 left\./);
        expect(deleted.Reason).toContain(`connections left in Falcon: ${euId ?? 'none'} (eu-west-1)`);
      } finally {
        vi.useRealTimers();
      }
    });

    it('after a Create that succeeded, a Delete without disconnect leaves its connections', async () => {
      const created = await create();
      const deleted = await remove(created.PhysicalResourceId);
      expect(deleted.Reason).toMatch(/^2 region\(s\): 2 left/);
      expect(h.falcon.connections()).toHaveLength(2);
      expect(h.falcon.requestsTo('registries.delete')).toHaveLength(0);
    });
  });

  describe('issue 14.7a: an interrupted create made with the current credential is adopted, not replaced', () => {
    /** The create lands in Falcon, then every answer is lost: the region stays pending. */
    const landThenLoseAnswers = (region: string) => {
      h.beforeFalconRequest = (method, url) => {
        if (
          method === 'POST' &&
          url.includes('/entities/registries/v1') &&
          h.falcon.connections().length === 0
        ) {
          h.falcon.addConnection({ url: h.ecrUrl(region), alias: `falcon-org prod ${ACCOUNT} ${region}` });
          h.falcon.serverError('registries.create', 10, 500);
          h.falcon.serverError('registries.query', 10, 500);
        }
      };
    };

    it('Create interrupted → Delete while the ECR client is revoked → Create again in the same stack instance: adopted', async () => {
      const props = { ...DISCONNECT, Regions: ['us-east-1'] };
      landThenLoseAnswers('us-east-1');
      const created = await create(props);
      expect(created.Status).toBe('FAILED');
      h.beforeFalconRequest = undefined;
      h.falcon.clearInjections();
      const landed = h.falcon.connections().map((c) => c.id);
      expect(landed).toHaveLength(1);

      // The rollback Delete runs while the ECR client is revoked: Falcon cannot be asked about the create.
      const good = h.secrets.get(FALCON_SECRET) ?? '';
      h.secrets.set(
        FALCON_SECRET,
        JSON.stringify({ ...(JSON.parse(good) as object), ClientSecret: 'revoked' }),
      );
      const rollback = await remove(created.PhysicalResourceId, props);
      expect(rollback.Status).toBe('SUCCESS');
      expect(rollback.Reason).toContain('stays recorded as pending');
      // What the create was made with is still known.
      expect(h.record()?.pending).toEqual(['us-east-1']);
      expect(Object.keys(h.record()?.fingerprints ?? {})).toEqual(['us-east-1']);

      // A rotated ECR client, and the custom resource is created again in the same stack instance (a
      // rolled-back stack update): same connection role, same external ID.
      h.secrets.set(FALCON_SECRET, good);
      const again = await create(props);

      expect(again).toMatchObject({ Status: 'SUCCESS', Reason: '1 region(s): 1 adopted' });
      expect(h.falcon.connections().map((c) => c.id)).toEqual(landed);
      expect(h.falcon.requestsTo('registries.delete')).toHaveLength(0);
      expect(h.falcon.requestsTo('registries.create').filter((r) => r.status === 201)).toHaveLength(0);
      expect(h.record()).toMatchObject({ connections: { 'us-east-1': landed[0] }, pending: [] });
    });

    it('with a new external ID (a re-created stack instance) the same pending connection is replaced', async () => {
      const props = { ...DISCONNECT, Regions: ['us-east-1'] };
      landThenLoseAnswers('us-east-1');
      const created = await create(props);
      h.beforeFalconRequest = undefined;
      h.falcon.clearInjections();
      const landed = h.falcon.connections().map((c) => c.id);
      const good = h.secrets.get(FALCON_SECRET) ?? '';
      h.secrets.set(
        FALCON_SECRET,
        JSON.stringify({ ...(JSON.parse(good) as object), ClientSecret: 'revoked' }),
      );
      await remove(created.PhysicalResourceId, props);
      h.secrets.set(FALCON_SECRET, good);
      h.secrets.set(EXTERNAL_ID_SECRET, NEW_EXTERNAL_ID);

      const again = await create(props);

      expect(again).toMatchObject({ Status: 'SUCCESS', Reason: '1 region(s): 1 replaced' });
      expect(h.falcon.requestsTo('registries.delete')).toHaveLength(1);
      expect(h.falcon.connections().map((c) => c.id)).not.toEqual(landed);
      expect(externalIds()).toEqual([NEW_EXTERNAL_ID]);
    });
  });

  describe('issue 14.7b: a region deferred by the Falcon budget gets a follow-up run within minutes', () => {
    const NOW = new Date('2026-12-08T10:00:00.000Z');
    const FOLLOW_UP_ROLE = `arn:aws:iam::${ACCOUNT}:role/falcon-org-ecr-follow-up`;
    const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:falcon-org-ecr-connect`;
    let scheduler: AwsStub<ServiceInputTypes, ServiceOutputTypes, SchedulerClientResolvedConfig>;
    /** Schedules as EventBridge Scheduler holds them, by name. */
    let schedules: Map<string, CreateScheduleCommandInput>;
    beforeEach(() => {
      schedules = new Map();
      scheduler = mockClient(SchedulerClient);
      scheduler.on(CreateScheduleCommand).callsFake((input: CreateScheduleCommandInput) => {
        if (schedules.has(input.Name ?? ''))
          throw new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} });
        schedules.set(input.Name ?? '', input);
        return { ScheduleArn: `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/default/${input.Name ?? ''}` };
      });
      scheduler.on(UpdateScheduleCommand).callsFake((input: CreateScheduleCommandInput) => {
        if (!schedules.has(input.Name ?? ''))
          throw new SchedulerNotFound({ message: 'none', Message: 'none', $metadata: {} });
        schedules.set(input.Name ?? '', input);
        return {};
      });
      scheduler.on(DeleteScheduleCommand).callsFake((input: { Name: string }) => {
        if (!schedules.delete(input.Name))
          throw new SchedulerNotFound({ message: 'none', Message: 'none', $metadata: {} });
        return {};
      });
      h.envOverrides = {
        FOLLOW_UP_SCHEDULE_NAME: 'falcon-org-ecr-follow-up',
        FOLLOW_UP_ROLE_ARN: FOLLOW_UP_ROLE,
      };
      h.handlerOptions = { now: () => NOW };
    });
    afterEach(() => scheduler.restore());

    /** Runs what the schedule would send, as Scheduler would (the target's Input as the event). */
    const fire = async () => {
      const pending = schedules.get('falcon-org-ecr-follow-up');
      if (!pending) throw new Error('no follow-up scheduled');
      // ActionAfterCompletion DELETE: Scheduler removes a one-time schedule once it has run.
      schedules.delete('falcon-org-ecr-follow-up');
      return h.handler()(JSON.parse(pending.Target?.Input ?? '{}'), h.context());
    };

    it('Create answers SUCCESS with the regions deferred, asks for one run 5 minutes later, which connects them', async () => {
      h.falcon.rateLimit('registries.query', 11, { retryAfterSeconds: 1 });

      const answer = await create();

      expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deferred: '2', Failed: '0' } });
      expect(answer.Reason).toContain('deferred regions are retried at 2026-12-08T10:05:00.000Z');
      const pending = schedules.get('falcon-org-ecr-follow-up');
      expect(pending).toMatchObject({
        ScheduleExpression: 'at(2026-12-08T10:05:00)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: { Arn: FUNCTION_ARN, RoleArn: FOLLOW_UP_ROLE },
      });
      expect(JSON.parse(pending?.Target?.Input ?? '{}')).toEqual({
        source: 'falcon-org.ecr-connect',
        'detail-type': 'Follow-up run',
        detail: { attempt: 1 },
      });

      const followUp = await fire();

      expect(followUp?.results.map((r) => r.outcome)).toEqual(['created', 'created']);
      expect(followUp?.followUpAt).toBeUndefined();
      expect(schedules.size).toBe(0);
      expect(h.connectedUrls()).toEqual([h.ecrUrl('eu-west-1'), h.ecrUrl('us-east-1')]);
    });

    it('follow-ups back off (5, 10, 20 minutes) and stop after three; the daily repair remains', async () => {
      await create();
      // From now on every listing runs out of allowance.
      h.falcon.rateLimit('registries.query', 1000, { retryAfterSeconds: 1 });
      const repair = await h.handler()(SCHEDULED, h.context());
      expect(repair?.followUpAt).toBe('2026-12-08T10:05:00.000Z');
      const first = await fire();
      expect(first?.followUpAt).toBe('2026-12-08T10:10:00.000Z');
      const second = await fire();
      expect(second?.followUpAt).toBe('2026-12-08T10:20:00.000Z');
      const third = await fire();
      expect(third?.results.every((r) => r.outcome === 'deferred')).toBe(true);
      expect(third?.followUpAt).toBeUndefined();
      expect(schedules.size).toBe(0);
      h.falcon.clearInjections();
    });

    it('a Scheduler that refuses does not fail the stack; a Delete removes a pending follow-up', async () => {
      scheduler
        .on(CreateScheduleCommand)
        .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
      h.falcon.rateLimit('registries.query', 11, { retryAfterSeconds: 1 });
      const refused = await create();
      expect(refused).toMatchObject({ Status: 'SUCCESS', Data: { Deferred: '2' } });
      expect(refused.Reason).not.toContain('retried at');

      scheduler.on(CreateScheduleCommand).callsFake((input: CreateScheduleCommandInput) => {
        schedules.set(input.Name ?? '', input);
        return {};
      });
      h.falcon.rateLimit('registries.query', 11, { retryAfterSeconds: 1 });
      await h.handler()(SCHEDULED, h.context());
      expect(schedules.size).toBe(1);
      h.falcon.clearInjections();

      const deleted = await remove(refused.PhysicalResourceId);

      expect(deleted.Status).toBe('SUCCESS');
      expect(schedules.size).toBe(0);
      // Deleting again finds nothing to remove, and that is fine.
      expect((await remove(refused.PhysicalResourceId)).Status).toBe('SUCCESS');
    });
  });

  describe('point 6: a Create with a broken function environment', () => {
    it('answers FAILED naming the variable, and its rollback Delete succeeds', async () => {
      h.envOverrides = { FALCON_SECRET_ARN: '' };

      const created = await create();
      const rollback = await remove(created.PhysicalResourceId);

      expect(created).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'falcon-org-ecr-unconfigured' });
      expect(created.Reason).toMatch(/FALCON_SECRET_ARN is not set/);
      expect(rollback.Status).toBe('SUCCESS');
      expect(h.falcon.requests).toHaveLength(0);
      // Fixed environment: the stack is created again and works.
      h.envOverrides = { ...ENV };
      const again = await create();
      expect(again).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: `falcon-org-ecr-${ACCOUNT}-prod`,
      });
    });
  });

  describe('point 10: load at organization scale', () => {
    it('answers the repair schedule spread by account for the rule to read', async () => {
      const created = await create({ ...PROPS, RepairSchedule: 'rate(1 day)' });
      const data = created.Data as Record<string, string>;
      expect(data.RepairSchedule).toBe(spreadSchedule('rate(1 day)', ACCOUNT));
      expect(data.RepairSchedule).toMatch(/^cron\(\d{1,2} \d{1,2} \* \* \? \*\)$/);
    });

    it('a run whose 429 allowance runs out defers the regions instead of failing the instance', async () => {
      h.falcon.rateLimit('registries.query', 11, { retryAfterSeconds: 1 });

      const answer = await create();

      expect(answer.Status).toBe('SUCCESS');
      expect(answer.Data).toMatchObject({ Deferred: '2', Failed: '0' });
      expect(answer.Reason).toMatch(
        /^2 region\(s\): 2 deferred\. eu-west-1, us-east-1 deferred: Falcon's rate limit allowance ran out/,
      );
      // The next scheduled run connects them.
      const repair = await h.handler()(SCHEDULED, h.context());
      expect(repair?.results.map((r) => r.outcome)).toEqual(['created', 'created']);
    });

    it('a Delete whose 429 allowance runs out names the connections it leaves (no schedule will defer to)', async () => {
      const created = await create(DISCONNECT);
      const ids = h.record()?.connections ?? {};
      h.falcon.rateLimit('registries.query', 11, { retryAfterSeconds: 1 });

      const deleted = await remove(created.PhysicalResourceId, DISCONNECT);

      // The schedule goes with the stack: nothing picks a "deferred" region up, so it is left, by ID.
      expect(deleted.Status).toBe('SUCCESS');
      expect(deleted.Data).toMatchObject({ Deferred: '0', Failed: '0' });
      expect(deleted.Reason).toMatch(
        /^2 region\(s\): 2 left\. eu-west-1, us-east-1 left: Falcon's rate limit/,
      );
      expect(deleted.Reason).toContain(
        `connections left in Falcon: ${ids['eu-west-1'] ?? '?'} (eu-west-1), ${ids['us-east-1'] ?? '?'} (us-east-1)`,
      );
      expect(h.falcon.connections()).toHaveLength(2);
    });
  });

  describe('point 11: one bad client secret', () => {
    it('is reported once in the reason, not once per region', async () => {
      h.secrets.set(
        FALCON_SECRET,
        JSON.stringify({ ClientId: 'x', ClientSecret: 'wrong', Cloud: 'us-1', BaseUrl: h.falcon.baseUrl }),
      );

      const answer = await create({ ...PROPS, Regions: ['eu-west-1', 'us-east-1', 'us-west-2'] });

      expect(answer.Status).toBe('FAILED');
      const reason = String(answer.Reason);
      expect(reason).toMatch(
        /^3 region\(s\): 3 failed\. eu-west-1, us-east-1, us-west-2 failed: could not list Falcon registry connections: /,
      );
      expect(reason.match(/authorization failed/g)).toHaveLength(1);
      expect(reason).not.toContain(EXTERNAL_ID);
    });
  });
});
