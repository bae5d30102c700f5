import { StartBuildCommand } from '@aws-sdk/client-codebuild';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventOutcome } from '../../src/eks/handle-event.js';
import { clusterKey, RUN_ENV } from '../../src/eks/run-contract.js';
import { createEksEventHandler } from '../../src/handlers/eks-event.js';
import { cloudTrailEvent, EksWorld, HOME_REGION, PROJECT, ROLE_NAME } from '../eks/eks-world.js';
import { captureLogs, type LogCapture } from '../shared/log-capture.js';

const MEMBER = '111111111111';
const OUTSIDER = '777777777777';
const REGION = 'eu-west-1';

let world: EksWorld;
let logs: LogCapture;

beforeEach(() => {
  world = new EksWorld();
  logs = captureLogs();
  world.addAccounts('r-root', []);
  world.addOu('r-root', 'ou-ab12-workloads');
  world.addAccounts('ou-ab12-workloads', [MEMBER]);
  world.settings = { ...world.settings, targets: ['ou-ab12-workloads'], regions: ['us-east-1', REGION] };
});
afterEach(() => {
  world.reset();
  vi.restoreAllMocks();
});

function handler() {
  return createEksEventHandler({
    env: world.env(),
    services: world.services,
    sleep: () => Promise.resolve(),
  });
}

const cloudTrail = (
  eventName: string,
  requestParameters: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
) => cloudTrailEvent({ account: MEMBER, region: REGION }, eventName, requestParameters, overrides);

const createCluster = (name: string, overrides: Record<string, unknown> = {}) =>
  cloudTrail('CreateCluster', { name }, overrides);

describe('eks-event', () => {
  it('starts a run for a new cluster while it is still CREATING — in the home region, with the cluster’s region as input', async () => {
    world.addCluster(MEMBER, REGION, { name: 'new', status: 'CREATING', authenticationMode: 'API' });

    const outcome = await handler()(createCluster('new'), world.context());

    expect(outcome).toMatchObject({
      action: 'judged',
      verdict: { kind: 'eligible' },
      run: { status: 'started' },
    });
    expect(world.builds).toHaveLength(1);
    const build = world.builds[0];
    expect(build.clientRegion).toBe(HOME_REGION);
    expect(build.projectName).toBe(PROJECT);
    expect(build.env).toMatchObject({
      [RUN_ENV.accountId]: MEMBER,
      [RUN_ENV.region]: REGION,
      [RUN_ENV.cluster]: 'new',
      [RUN_ENV.compute]: 'none',
      [RUN_ENV.executionRoleArn]: `arn:aws:iam::${MEMBER}:role/${ROLE_NAME}`,
    });
    expect(world.dynamo.items.get(clusterKey(MEMBER, REGION, 'new'))?.lockRunId).toBe(
      build.env[RUN_ENV.runId],
    );
  });

  it('starts one run for duplicate deliveries arriving together, and none for a later duplicate while it runs', async () => {
    world.addCluster(MEMBER, REGION, { name: 'dup', status: 'CREATING', authenticationMode: 'API' });
    const event = createCluster('dup');
    const handle = handler();

    const outcomes = await Promise.all([handle(event, world.context()), handle(event, world.context())]);
    const late = await handle(event, world.context());

    expect(world.codeBuild.commandCalls(StartBuildCommand)).toHaveLength(1);
    const runs = [...outcomes, late].map((o) => (o.action === 'judged' ? o.run?.status : o.action)).sort();
    expect(runs).toEqual(['in-progress', 'in-progress', 'started']);
  });

  it('starts again after a crashed run’s lock expired', async () => {
    world.addCluster(MEMBER, REGION, { name: 'crash', authenticationMode: 'API', nodegroups: ['ng'] });
    const handle = handler();
    await handle(createCluster('crash'), world.context());
    expect(world.builds).toHaveLength(1);

    // The deployer crashed and never released; its lease (lockTtlSeconds) has now run out.
    const item = world.dynamo.items.get(clusterKey(MEMBER, REGION, 'crash'))!;
    item.lockExpiresAt = Math.floor(Date.now() / 1000) - 1;

    const outcome = await handle(createCluster('crash'), world.context());

    expect(outcome).toMatchObject({ action: 'judged', run: { status: 'started' } });
    expect(world.builds).toHaveLength(2);
    expect(world.dynamo.items.get(clusterKey(MEMBER, REGION, 'crash'))?.lockRunId).toBe(
      world.builds[1]?.env[RUN_ENV.runId],
    );
  });

  it('CreateFargateProfile starts a run for that cluster with its compute read from the API', async () => {
    world.addCluster(MEMBER, REGION, {
      name: 'web',
      authenticationMode: 'API_AND_CONFIG_MAP',
      nodegroups: ['ng'],
      fargateProfiles: ['fp-new'],
    });

    const outcome = await handler()(
      cloudTrail('CreateFargateProfile', { clusterName: 'web', fargateProfileName: 'fp-new' }),
      world.context(),
    );

    expect(outcome).toMatchObject({
      action: 'judged',
      event: { kind: 'CreateFargateProfile', fargateProfile: 'fp-new' },
    });
    expect(world.builds.map((b) => [b.env[RUN_ENV.cluster], b.env[RUN_ENV.compute]])).toEqual([
      ['web', 'mixed'],
    ]);
  });

  it('records a CONFIG_MAP-only cluster as ineligible with what to do, and starts nothing', async () => {
    world.addCluster(MEMBER, REGION, { name: 'cm', status: 'CREATING', authenticationMode: 'CONFIG_MAP' });

    await handler()(createCluster('cm'), world.context());

    expect(world.builds).toHaveLength(0);
    const verdict = world.dynamo.items.get(clusterKey(MEMBER, REGION, 'cm'))?.verdict as {
      code: string;
      reason: string;
    };
    expect(verdict.code).toBe('config-map-auth');
    expect(verdict.reason).toMatch(/API_AND_CONFIG_MAP/);
  });

  it.each([
    ['not JSON-shaped', 'hello'],
    ['another service', cloudTrail('CreateCluster', { name: 'x' }, { source: 'aws.ec2' })],
    ['a cluster name missing', cloudTrail('CreateCluster', {})],
    ['an unknown event name', cloudTrail('DeleteCluster', { name: 'x' })],
    ['a bad account', createCluster('x', { account: '12' })],
    ['CloudTrail disagreeing with the envelope', createCluster('x', { region: 'us-east-1' })],
  ])(
    'drops a malformed event (%s) with a log line, without throwing or calling AWS',
    async (_what, event) => {
      const outcome = await handler()(event, world.context());

      expect(outcome.action).toBe('dropped');
      expect(logs.records().at(-1)).toMatchObject({ level: 'WARN', message: 'dropped malformed eks event' });
      expect(world.sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
      expect(world.builds).toHaveLength(0);
    },
  );

  it('ignores events from accounts and regions out of scope, and failed API calls', async () => {
    world.addAccounts('r-root', [OUTSIDER]); // in the organization, not under the targets
    world.addCluster(OUTSIDER, REGION, { name: 'x', authenticationMode: 'API', nodegroups: ['ng'] });
    world.addCluster(MEMBER, 'ap-south-1', { name: 'x', authenticationMode: 'API', nodegroups: ['ng'] });
    const handle = handler();

    const outcomes: EventOutcome[] = [
      await handle(
        createCluster('x', {
          account: OUTSIDER,
          detail: { ...createCluster('x').detail, recipientAccountId: OUTSIDER },
        }),
        world.context(),
      ),
      await handle(
        createCluster('x', {
          region: 'ap-south-1',
          detail: { ...createCluster('x').detail, awsRegion: 'ap-south-1' },
        }),
        world.context(),
      ),
      await handle(
        createCluster('x', {
          detail: { ...createCluster('x').detail, errorCode: 'ResourceLimitExceededException' },
        }),
        world.context(),
      ),
    ];

    expect(outcomes.map((o) => o.action)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(outcomes.map((o) => (o.action === 'ignored' ? o.reason : ''))).toEqual([
      expect.stringMatching(/account 777777777777 is not in scope/),
      expect.stringMatching(/region ap-south-1 is not one of the configured/),
      expect.stringMatching(/call failed \(ResourceLimitExceededException\)/),
    ]);
    expect(world.eks.commandCalls(DescribeClusterCommand)).toHaveLength(0);
    expect(world.builds).toHaveLength(0);
  });

  it('ignores a cluster deleted before it could be read, and throws (for EventBridge to retry) when the member role is denied', async () => {
    const handle = handler();
    await expect(handle(createCluster('gone'), world.context())).resolves.toMatchObject({
      action: 'ignored',
      reason: 'cluster gone no longer exists',
    });

    world.deniedAccounts.add(MEMBER);
    world.addCluster(MEMBER, REGION, { name: 'later', authenticationMode: 'API' });
    await expect(handle(createCluster('later'), world.context())).rejects.toThrow(/AccessDenied/);
  });

  it('starts no run while the deployment is being destroyed, and starts again once the mark is lifted', async () => {
    world.addCluster(MEMBER, REGION, { name: 'late', status: 'CREATING', authenticationMode: 'API' });
    await world.table.markDestroying({ since: '2026-11-29T12:00:00.000Z', by: 'destroyer' });
    const handle = handler();

    const outcome = await handle(createCluster('late'), world.context());

    expect(outcome).toMatchObject({
      action: 'ignored',
      reason:
        'the deployment is being destroyed (since 2026-11-29T12:00:00.000Z, by destroyer); no run is started',
    });
    expect(world.builds).toEqual([]);
    expect(world.eks.commandCalls(DescribeClusterCommand)).toHaveLength(0);

    await world.table.clearDestroying();
    expect(await handle(createCluster('late'), world.context())).toMatchObject({
      run: { status: 'started' },
    });
  });

  it('judges a cluster created with falcon-org/protect=false as opted out and starts nothing', async () => {
    world.addCluster(MEMBER, REGION, {
      name: 'lab',
      status: 'CREATING',
      authenticationMode: 'API',
      tags: { 'falcon-org/protect': 'false' },
    });

    const outcome = await handler()(createCluster('lab'), world.context());

    expect(outcome).toMatchObject({ action: 'judged', verdict: { kind: 'ineligible', code: 'opted-out' } });
    expect(outcome.action === 'judged' ? outcome.run : 'x').toBeUndefined();
    expect(world.builds).toEqual([]);
  });
});
