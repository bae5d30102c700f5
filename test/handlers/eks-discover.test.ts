import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DiscoveryReport } from '../../src/eks/report.js';
import { RUN_ENV } from '../../src/eks/run-contract.js';
import type { SQSBatchResponse } from 'aws-lambda';
import { createEksDiscoverHandler } from '../../src/handlers/eks-discover.js';
import { DynamoRunsTable } from '../../src/eks/runs-table.js';
import { EksWorld, HOME_REGION, PROJECT, ROLE_NAME, TABLE } from '../eks/eks-world.js';
import { CfnCaptureServer } from './cfn-capture-server.js';
import { captureLogs, type LogCapture } from '../shared/log-capture.js';

const SCHEDULE = { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'tick' };
const A1 = '111111111111';
const A2 = '222222222222';
const A3 = '333333333333';
const DENIED = '444444444444';
const EXCLUDED = '555555555555';
const SUSPENDED = '666666666666';

let world: EksWorld;
let logs: LogCapture;

beforeEach(() => {
  world = new EksWorld();
  logs = captureLogs();
});
afterEach(() => {
  world.reset();
  vi.restoreAllMocks();
});

/** r-root → A1; ou-prod → A2, EXCLUDED, SUSPENDED; ou-prod/ou-deep → A3, DENIED. */
function organization(): void {
  world.addAccounts('r-root', [A1]);
  world.addOu('r-root', 'ou-prod');
  world.addAccounts('ou-prod', [A2, EXCLUDED]);
  world.addAccounts('ou-prod', [SUSPENDED], 'SUSPENDED');
  world.addOu('ou-prod', 'ou-deep');
  world.addAccounts('ou-deep', [A3, DENIED]);
  world.deniedAccounts.add(DENIED);
  world.settings = { ...world.settings, excludeAccounts: [EXCLUDED] };
}

function handler(extra: Parameters<typeof createEksDiscoverHandler>[0] = {}) {
  return createEksDiscoverHandler({ env: world.env(), services: world.services, ...extra });
}

function reportLines(): Record<string, unknown>[] {
  return logs.records();
}

describe('eks-discover on a schedule', () => {
  it('judges every kind of cluster in nested OUs, records each verdict, and starts runs only for eligible ones — in the home region', async () => {
    organization();
    world.addCluster(A1, 'us-east-1', { name: 'creating', status: 'CREATING', authenticationMode: 'API' });
    world.addCluster(A1, 'us-west-2', { name: 'legacy', authenticationMode: undefined, nodegroups: ['ng'] });
    world.addCluster(A1, 'us-west-2', { name: 'cm', authenticationMode: 'CONFIG_MAP', nodegroups: ['ng'] });
    world.addCluster(A2, 'eu-west-1', {
      name: 'private',
      authenticationMode: 'API',
      endpointPublic: false,
      endpointPrivate: true,
      nodegroups: ['ng'],
    });
    world.addCluster(A2, 'eu-west-1', {
      name: 'nodes',
      authenticationMode: 'API_AND_CONFIG_MAP',
      nodegroups: ['ng-a', 'ng-b'],
    });
    world.addCluster(A3, 'us-west-2', {
      name: 'fargate',
      authenticationMode: 'API',
      fargateProfiles: ['fp'],
    });
    world.addCluster(A3, 'eu-west-1', {
      name: 'mixed',
      authenticationMode: 'API',
      nodegroups: ['ng'],
      fargateProfiles: ['fp'],
      publicAccessCidrs: ['203.0.113.0/24'],
    });
    world.addCluster(A3, 'us-east-1', { name: 'self-managed', authenticationMode: 'API' });
    world.addCluster(A3, 'us-east-1', {
      name: 'old',
      authenticationMode: 'API',
      version: '1.23',
      nodegroups: ['ng'],
    });

    const out = (await handler()(SCHEDULE, world.context())) as { counts: DiscoveryReport['counts'] };

    const verdicts = Object.fromEntries((await world.table.list()).map((i) => [i.cluster, i.verdict?.code]));
    expect(verdicts).toEqual({
      creating: 'not-active',
      legacy: 'config-map-auth',
      cm: 'config-map-auth',
      private: 'private-endpoint',
      nodes: 'eligible',
      fargate: 'eligible',
      mixed: 'eligible',
      'self-managed': 'no-listable-compute',
      old: 'unsupported-version',
    });
    const runs = Object.fromEntries(world.builds.map((b) => [b.env[RUN_ENV.cluster], b]));
    expect(Object.keys(runs).sort()).toEqual(['fargate', 'mixed', 'nodes', 'self-managed']);
    for (const build of world.builds) {
      expect(build.clientRegion).toBe(HOME_REGION);
      expect(build.projectName).toBe(PROJECT);
    }
    expect(runs.nodes?.env).toMatchObject({
      [RUN_ENV.accountId]: A2,
      [RUN_ENV.region]: 'eu-west-1',
      [RUN_ENV.compute]: 'nodes',
      [RUN_ENV.executionRoleArn]: `arn:aws:iam::${A2}:role/${ROLE_NAME}`,
      [RUN_ENV.mode]: 'install',
    });
    expect(runs.fargate?.env[RUN_ENV.compute]).toBe('fargate');
    expect(runs.fargate?.env[RUN_ENV.region]).toBe('us-west-2');
    expect(runs.mixed?.env[RUN_ENV.compute]).toBe('mixed');
    expect(runs['self-managed']?.env[RUN_ENV.compute]).toBe('none');
    // Each started run holds its cluster's lock under the run ID it was given.
    const nodesItem = await world.table.get({ accountId: A2, region: 'eu-west-1', cluster: 'nodes' });
    expect(nodesItem?.lockRunId).toBe(runs.nodes?.env[RUN_ENV.runId]);
    expect(out.counts).toMatchObject({
      accounts: 4,
      accountsFailed: 1,
      clusters: 9,
      eligible: 4,
      ineligible: 5,
      runsStarted: 4,
    });

    // The structured report: the denied account with its reason, the left-out ones with theirs.
    const lines = reportLines();
    const deniedLine = lines.find((l) => l.message === 'eks discovery account' && l.accountId === DENIED);
    expect(deniedLine).toMatchObject({ level: 'WARN', status: 'failed' });
    expect(String(deniedLine?.reason)).toMatch(/could not enter the account: .*AccessDenied.*sts:AssumeRole/);
    const skipped = lines
      .filter((l) => l.message === 'eks discovery skipped account')
      .map((l) => [l.accountId, l.reason]);
    expect(skipped).toEqual([
      [EXCLUDED, 'excluded'],
      [SUSPENDED, 'not-active'],
    ]);
    expect((await world.table.listAccounts()).map((a) => [a.accountId, a.status])).toEqual([
      [A1, 'ok'],
      [A2, 'ok'],
      [A3, 'ok'],
      [DENIED, 'failed'],
    ]);
  });

  it('assumes each member role once, however many regions the account has', async () => {
    world.addAccounts('r-root', [A1, A2]);
    world.settings = { ...world.settings, regions: 'enabled' };
    const seventeen = Array.from({ length: 17 }, (_, i) => `xx-test-${i + 1}`);
    world.defaultEnabledRegions = seventeen;
    world.addCluster(A1, 'xx-test-9', { name: 'c', authenticationMode: 'API', nodegroups: ['ng'] });

    await handler()(SCHEDULE, world.context());

    expect(world.sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    expect(world.eksCalls.get(A1)).toBe(17 + 3);
    expect(world.builds.map((b) => b.env[RUN_ENV.region])).toEqual(['xx-test-9']);
  });

  it('covers opt-in regions an account has enabled and reports configured ones it has not', async () => {
    world.addAccounts('r-root', [A1, A2]);
    world.enabledRegions.set(A1, ['us-east-1', 'ap-east-1']);
    world.enabledRegions.set(A2, ['us-east-1']);
    world.addCluster(A1, 'ap-east-1', { name: 'hk', authenticationMode: 'API', nodegroups: ['ng'] });
    world.addCluster(A2, 'us-east-1', { name: 'va', authenticationMode: 'API', nodegroups: ['ng'] });

    // Configured regions: the opt-in one is tried and recognised as not enabled where it is not.
    world.settings = { ...world.settings, regions: ['us-east-1', 'ap-east-1'] };
    const configured = (await handler()(SCHEDULE, world.context())) as { counts: DiscoveryReport['counts'] };

    expect(world.builds.map((b) => [b.env[RUN_ENV.accountId], b.env[RUN_ENV.region]]).sort()).toEqual([
      [A1, 'ap-east-1'],
      [A2, 'us-east-1'],
    ]);
    expect(configured.counts).toMatchObject({ accountsFailed: 0, regionsFailed: 0 });
    const a2 = (await world.table.listAccounts()).find((a) => a.accountId === A2);
    expect(a2?.status).toBe('ok');
    expect(a2?.regions).toEqual([
      {
        region: 'ap-east-1',
        status: 'not-enabled',
        reason: expect.stringMatching(
          /not enabled in this account \(opt-in region; UnrecognizedClientException/,
        ) as unknown,
      },
    ]);

    // Every enabled region: each account's own list, opt-in regions included, nothing called elsewhere.
    world.builds.length = 0;
    world.eksCalls.clear();
    world.settings = { ...world.settings, regions: 'enabled' };
    // Locks from the first sweep are still held, so both clusters report a run in progress.
    const swept = (await handler()(SCHEDULE, world.context())) as { counts: DiscoveryReport['counts'] };
    expect(swept.counts).toMatchObject({ regions: 3, regionsFailed: 0, clusters: 2, runsInProgress: 2 });
    expect(world.eksCalls.get(A2)).toBe(1 + 3); // us-east-1 only: list, then describe + two lists
  });

  it('rides out throttling: the throttled account slows down and retries, no item fails, the others are untouched', async () => {
    world.addAccounts('r-root', [A1, A2]);
    for (const region of world.defaultEnabledRegions) {
      world.addCluster(A1, region, { name: `c-${region}`, authenticationMode: 'API', nodegroups: ['ng'] });
      world.addCluster(A2, region, { name: `c-${region}`, authenticationMode: 'API', nodegroups: ['ng'] });
    }
    world.throttleNext.set(A1, 6);

    const out = (await handler()(SCHEDULE, world.context())) as { counts: DiscoveryReport['counts'] };

    expect(out.counts).toMatchObject({
      accountsFailed: 0,
      regionsFailed: 0,
      clustersFailed: 0,
      runsStarted: 6,
    });
    const summary = reportLines().find((l) => l.message === 'eks discovery summary');
    expect(summary?.throttled).toBe(6);
    expect(world.eksCalls.get(A1)).toBe(world.eksCalls.get(A2)! + 6);
  });

  it('does not start a second run while one holds the lock, and starts again once the deployer released it', async () => {
    world.addAccounts('r-root', [A1]);
    world.addCluster(A1, 'us-east-1', { name: 'prod', authenticationMode: 'API', nodegroups: ['ng'] });
    const discover = handler();

    await discover(SCHEDULE, world.context());
    const second = (await discover(SCHEDULE, world.context())) as { counts: DiscoveryReport['counts'] };
    expect(world.builds).toHaveLength(1);
    expect(second.counts).toMatchObject({ runsStarted: 0, runsInProgress: 1 });

    const first = world.builds[0];
    await world.table.releaseLock({
      runId: first.env[RUN_ENV.runId],
      accountId: A1,
      region: 'us-east-1',
      cluster: 'prod',
      mode: 'install',
      outcome: 'protected',
      components: [],
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      durationsMs: {},
    });
    await discover(SCHEDULE, world.context());
    expect(world.builds).toHaveLength(2);
    expect(world.builds[1]?.env[RUN_ENV.runId]).not.toBe(first.env[RUN_ENV.runId]);
  });
});

describe('eks-discover repairs what killed runs left', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts a repair run for a cluster that gets no install run, once the killed run’s lock has run out', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-29T12:00:00Z') });
    world.addAccounts('r-root', [A1]);
    const privateOnly = {
      authenticationMode: 'API',
      endpointPublic: false,
      endpointPrivate: true,
      nodegroups: ['ng'],
    };
    world.addCluster(A1, 'us-east-1', { name: 'left-behind', ...privateOnly });
    world.addCluster(A1, 'us-east-1', { name: 'clean', ...privateOnly });
    // A run took the lock, recorded the allow-list it was about to widen, and was killed.
    const ref = { accountId: A1, region: 'us-east-1', cluster: 'left-behind' };
    const table = new DynamoRunsTable(world.dynamo.client, TABLE, { now: () => Date.now() });
    await table.takeLock(ref, 'killed', 3600);
    expect(
      await table.recordClusterChanges(ref, {
        runId: 'killed',
        recordedAt: new Date().toISOString(),
        allowList: { original: ['198.51.100.0/24'], widened: ['198.51.100.0/24', '203.0.113.10/32'] },
      }),
    ).toBe('recorded');
    const discover = handler();

    const early = (await discover(SCHEDULE, world.context())) as { counts: DiscoveryReport['counts'] };
    expect(world.builds).toHaveLength(0);
    expect(early.counts).toMatchObject({ runsStarted: 0, runsInProgress: 1 });

    vi.setSystemTime(Date.parse('2026-11-29T14:00:00Z'));
    await discover(SCHEDULE, world.context());

    expect(world.builds).toHaveLength(1);
    expect(world.builds[0]?.env).toMatchObject({
      [RUN_ENV.cluster]: 'left-behind',
      [RUN_ENV.mode]: 'repair',
      [RUN_ENV.accountId]: A1,
      [RUN_ENV.region]: 'us-east-1',
    });
    const line = reportLines().findLast(
      (l) => l['message'] === 'eks discovery account' && JSON.stringify(l).includes('left-behind'),
    );
    expect(JSON.stringify(line)).toContain('"mode":"repair"');
  });
});

describe('eks-discover spreads work over SQS when one invocation cannot finish', () => {
  it('hands the accounts it could not start to the queue, and the queue consumer finishes them', async () => {
    const accounts = Array.from({ length: 40 }, (_, i) => String(100000000000 + i));
    world.addAccounts('r-root', accounts);
    for (const a of accounts)
      world.addCluster(a, 'us-east-1', { name: `c-${a}`, authenticationMode: 'API', nodegroups: ['ng'] });
    world.settings = { ...world.settings, concurrency: 2, accountsPerMessage: 4, regions: ['us-east-1'] };
    world.eksLatencyMs = 15;
    // Stop starting accounts after ~60 ms of a 900 s invocation.
    const discover = handler({ reserveMs: (remaining) => remaining - 60 });

    const first = (await discover(SCHEDULE, world.context())) as {
      counts: DiscoveryReport['counts'];
      queuedAccounts: number;
    };

    expect(first.queuedAccounts).toBeGreaterThan(0);
    expect(first.counts.accountsNotStarted).toBe(first.queuedAccounts);
    expect(world.queued.flat()).toHaveLength(first.queuedAccounts);
    expect(world.queued.every((batch) => batch.length <= 4)).toBe(true);
    const startedFirst = world.builds.length;
    expect(startedFirst).toBe(40 - first.queuedAccounts);

    // Deliver the messages as SQS would; the consumer is the same function (no time pressure now).
    const consumer = handler();
    const records = world.queued.splice(0).map((batch, i) => ({
      messageId: `msg-${i}`,
      eventSource: 'aws:sqs',
      body: JSON.stringify({ kind: 'falcon-org.eks-discovery', accounts: batch }),
    }));
    const answer = (await consumer({ Records: records }, world.context())) as SQSBatchResponse;

    expect(answer).toEqual({ batchItemFailures: [] });
    expect(new Set(world.builds.map((b) => b.env[RUN_ENV.accountId]))).toEqual(new Set(accounts));
    expect(world.builds).toHaveLength(40);
  });

  it('drops malformed messages with a log line, and asks SQS to redeliver only messages whose accounts could not be handed on', async () => {
    const more = Array.from({ length: 6 }, (_, i) => String(800000000000 + i));
    const accounts = [A1, A2, A3, ...more];
    world.addAccounts('r-root', accounts);
    world.settings = { ...world.settings, concurrency: 1, regions: ['us-east-1'] };
    world.eksLatencyMs = 30;
    world.failQueue = true;
    const consumer = handler({ reserveMs: (remaining) => remaining - 10 });

    const answer = (await consumer(
      {
        Records: [
          { messageId: 'bad', eventSource: 'aws:sqs', body: '{"kind":"something-else"}' },
          {
            messageId: 'm1',
            eventSource: 'aws:sqs',
            body: JSON.stringify({ kind: 'falcon-org.eks-discovery', accounts: [A1] }),
          },
          {
            messageId: 'm2',
            eventSource: 'aws:sqs',
            body: JSON.stringify({ kind: 'falcon-org.eks-discovery', accounts: [A2, A3, ...more] }),
          },
        ],
      },
      world.context(),
    )) as SQSBatchResponse;

    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(
      reportLines().some((l) => l.message === 'dropped malformed discovery message' && l.messageId === 'bad'),
    ).toBe(true);
  });
});

describe('eks-discover as a custom resource', () => {
  let capture: CfnCaptureServer;
  beforeAll(async () => {
    capture = await CfnCaptureServer.start();
  });
  afterAll(() => capture.close());

  const request = (type: 'Create' | 'Update' | 'Delete', id: string) => ({
    RequestType: type,
    ResponseURL: capture.url(id),
    StackId: 'arn:aws:cloudformation:us-east-1:999999999999:stack/falcon-org/abc',
    RequestId: id,
    LogicalResourceId: 'EksDiscovery',
    ResourceType: 'Custom::FalconEksDiscovery',
    ResourceProperties: { ServiceToken: 'x' },
    ...(type === 'Create' ? {} : { PhysicalResourceId: 'falcon-org-eks-discovery-abc' }),
  });

  it('answers SUCCESS with the summary on Create', async () => {
    world.addAccounts('r-root', [A1, DENIED]);
    world.deniedAccounts.add(DENIED);
    world.addCluster(A1, 'us-east-1', { name: 'prod', authenticationMode: 'API', nodegroups: ['ng'] });

    await handler()(request('Create', 'cr-1'), world.context());

    const answer = capture.answerFor('cr-1').body;
    expect(answer.Status).toBe('SUCCESS');
    expect(answer.Reason).toMatch(/2 accounts \(1 failed\).*1 eligible.*runs: 1 started/);
    expect(answer.Data).toMatchObject({ runsStarted: '1', accountsFailed: '1' });
    expect(world.builds).toHaveLength(1);
  });

  it('still answers SUCCESS, with the reason, when discovery cannot run at all', async () => {
    world.addAccounts('r-root', [A1]);
    world.orgs.reset();
    world.orgs.rejects(
      Object.assign(new Error('not in an organization'), { name: 'AWSOrganizationsNotInUseException' }),
    );

    await handler()(request('Update', 'cr-2'), world.context());

    const answer = capture.answerFor('cr-2').body;
    expect(answer.Status).toBe('SUCCESS');
    expect(answer.Reason).toMatch(
      /discovery could not run .*AWSOrganizationsNotInUseException.*the schedule retries it/,
    );
    expect(answer.PhysicalResourceId).toBe('falcon-org-eks-discovery-abc');
  });

  it('answers SUCCESS on Delete without touching any account, and even when misconfigured', async () => {
    world.addAccounts('r-root', [A1]);
    await createEksDiscoverHandler({ env: {}, services: world.services })(
      request('Delete', 'cr-3'),
      world.context(),
    );
    expect(capture.answerFor('cr-3').body.Status).toBe('SUCCESS');
    expect(world.sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);

    await createEksDiscoverHandler({ env: {}, services: world.services })(
      request('Create', 'cr-4'),
      world.context(),
    );
    const answer = capture.answerFor('cr-4').body;
    expect(answer.Status).toBe('SUCCESS');
    expect(answer.Reason).toMatch(/FALCON_ORG_EKS_SETTINGS is not set/);
  });
});

describe('eks-discover keeps to the organization and to the deployment’s state', () => {
  const OUTSIDER = '777777777777';

  it('enters only the accounts of a queue message that are in scope, and says which it ignored', async () => {
    organization();
    world.addCluster(A1, 'us-east-1', { name: 'ours', authenticationMode: 'API', nodegroups: ['ng'] });
    // An account outside the organization, and one excluded by configuration, named in a message.
    world.addCluster(OUTSIDER, 'us-east-1', {
      name: 'theirs',
      authenticationMode: 'API',
      nodegroups: ['ng'],
    });
    world.addCluster(EXCLUDED, 'us-east-1', {
      name: 'excluded',
      authenticationMode: 'API',
      nodegroups: ['ng'],
    });
    const body = JSON.stringify({ kind: 'falcon-org.eks-discovery', accounts: [A1, OUTSIDER, EXCLUDED] });

    const answer = (await handler()(
      { Records: [{ messageId: 'm-1', eventSource: 'aws:sqs', body }] },
      world.context(),
    )) as SQSBatchResponse;

    expect(answer).toEqual({ batchItemFailures: [] });
    const assumed = world.sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn);
    expect(assumed).toEqual([`arn:aws:iam::${A1}:role/${ROLE_NAME}`]);
    expect(world.builds.map((b) => b.env[RUN_ENV.cluster])).toEqual(['ours']);
    expect(world.eksCalls.get(OUTSIDER)).toBeUndefined();
    expect(
      reportLines().find((l) => l.message === 'eks discovery ignored accounts out of scope'),
    ).toMatchObject({
      level: 'WARN',
      accounts: [OUTSIDER, EXCLUDED],
    });
  });

  it('starts nothing, and enters no account, while the deployment is being destroyed', async () => {
    organization();
    world.addCluster(A1, 'us-east-1', { name: 'prod', authenticationMode: 'API', nodegroups: ['ng'] });
    await world.table.markDestroying({
      since: '2026-11-29T12:00:00.000Z',
      by: 'arn:aws:iam::999999999999:role/Admin',
    });

    const out = await handler()(SCHEDULE, world.context());

    expect(out).toEqual({
      stopped:
        'the deployment is being destroyed (since 2026-11-29T12:00:00.000Z, by arn:aws:iam::999999999999:role/Admin); nothing was discovered or started',
    });
    expect(world.builds).toEqual([]);
    expect(world.sts.commandCalls(AssumeRoleCommand)).toEqual([]);
    const queued = await handler()(
      {
        Records: [
          {
            messageId: 'm-1',
            eventSource: 'aws:sqs',
            body: JSON.stringify({ kind: 'falcon-org.eks-discovery', accounts: [A1] }),
          },
        ],
      },
      world.context(),
    );
    expect(queued).toEqual({ batchItemFailures: [] }); // dropped: the deployment goes away
    expect(world.builds).toEqual([]);

    // Destroy stopped before deleting anything and lifted the mark: discovery runs again.
    await world.table.clearDestroying();
    await handler()(SCHEDULE, world.context());
    expect(world.builds.map((b) => b.env[RUN_ENV.cluster])).toEqual(['prod']);
  });

  it('judges a cluster tagged falcon-org/protect=false as opted out and starts no run for it', async () => {
    organization();
    world.addCluster(A1, 'us-east-1', {
      name: 'opted-out',
      authenticationMode: 'API',
      nodegroups: ['ng'],
      tags: { 'falcon-org/protect': 'False' },
    });
    world.addCluster(A1, 'us-east-1', {
      name: 'kept',
      authenticationMode: 'API',
      nodegroups: ['ng'],
      tags: { 'falcon-org/protect': 'true' },
    });

    const out = (await handler()(SCHEDULE, world.context())) as { counts: DiscoveryReport['counts'] };

    expect(world.builds.map((b) => b.env[RUN_ENV.cluster])).toEqual(['kept']);
    const item = await world.table.get({ accountId: A1, region: 'us-east-1', cluster: 'opted-out' });
    expect(item?.verdict).toMatchObject({ kind: 'ineligible', code: 'opted-out' });
    expect(out.counts).toMatchObject({ optedOut: 1, runsStarted: 1 });
  });
});
