/**
 * Acceptance lifecycles of `falcon-org destroy` with EKS Protection, through the destroy command's
 * core (runDestroy) and the real eks-discover / eks-event handlers, over stateful fakes: the
 * organization and its clusters (EksWorld), the runs table (FakeDynamoTable), the deployer project
 * and its builds (DeployerSimulator), and the home account's rules and queue event source.
 */
import { ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DescribeOrganizationCommand } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHomeClients } from '../../src/aws/clients.js';
import type { DeployerClock } from '../../src/cluster/wait.js';
import { createProgress } from '../../src/deploy/progress.js';
import { renderEksDestroyed } from '../../src/deploy/report.js';
import { runDestroy, type DestroyFlags } from '../../src/deploy/run-destroy.js';
import { RUN_ENV } from '../../src/eks/run-contract.js';
import { createEksDiscoverHandler } from '../../src/handlers/eks-discover.js';
import { createEksEventHandler } from '../../src/handlers/eks-event.js';
import { ACCOUNT, captureOutput, mockAws, RecordingDeployer, testConfig } from '../deploy/helpers.js';
import { DeployerSimulator, serveDeployerProject } from '../eks/deployer-simulator.js';
import { cloudTrailEvent, EksWorld, PROJECT, TABLE } from '../eks/eks-world.js';
import { HomeTriggersFake } from '../eks/home-triggers-fake.js';
import { VirtualClock } from './harness.js';
import { captureLogs } from '../shared/log-capture.js';

const MEMBER = '111122223333';
const REGION = 'us-east-1';
const SCHEDULE = { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'tick' };
const key = (cluster: string) => `${MEMBER}/${REGION}/${cluster}`;

const aws = mockAws();

const createCluster = (name: string) =>
  cloudTrailEvent({ account: MEMBER, region: REGION }, 'CreateCluster', { name });

describe('destroy with EKS Protection: a destroy that stays destroyed', () => {
  let world: EksWorld;
  let deployer: DeployerSimulator;
  let triggers: HomeTriggersFake;
  let clock: VirtualClock;

  beforeEach(() => {
    aws.healthy();
    aws.stackSets(['falcon-org-eks-roles']);
    // The world's STS and Organizations stubs replace the deploy helpers' ones: answer for both.
    world = new EksWorld();
    world.sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:role/Admin` });
    world.orgs
      .on(DescribeOrganizationCommand)
      .resolves({ Organization: { Id: 'o-abcdefghij', MasterAccountId: ACCOUNT } });
    world.addAccounts('r-root', [MEMBER]);
    world.settings = { ...world.settings, regions: [REGION] };
    clock = new VirtualClock();
    deployer = new DeployerSimulator(world.table, clock.now);
    serveDeployerProject(world.codeBuild, deployer, { projectName: PROJECT, runsTable: TABLE });
    triggers = new HomeTriggersFake();
    captureLogs();
  });
  afterEach(() => {
    world.reset();
    triggers.reset();
    aws.reset();
    vi.restoreAllMocks();
  });

  const discover = () => createEksDiscoverHandler({ env: world.env(), services: world.services });
  const event = () =>
    createEksEventHandler({ env: world.env(), services: world.services, sleep: () => Promise.resolve() });

  function destroy(
    flags: Partial<DestroyFlags>,
    eksClock: DeployerClock,
    deployerOfStack = new RecordingDeployer(),
  ) {
    // The StackSet goes with the stack: after the toolkit's destroy CloudFormation no longer knows it.
    aws.cfn.on(ListStackInstancesCommand).callsFake(() => {
      if (deployerOfStack.calls.includes('destroy'))
        throw Object.assign(new Error('StackSet not found'), { name: 'StackSetNotFoundException' });
      return { Summaries: [{ Account: ACCOUNT, Region: 'us-east-1', Status: 'CURRENT' }] };
    });
    return {
      deployerOfStack,
      result: runDestroy(
        testConfig('  eksProtection:\n    enabled: true\n'),
        { yes: true, ...flags },
        {
          deployer: deployerOfStack,
          clients: createHomeClients({ region: 'us-east-1' }),
          env: {},
          progress: createProgress(captureOutput()),
          wait: { sleep: () => Promise.resolve(), initialDelayMs: 1 },
          eks: {
            clients: {
              codeBuild: new CodeBuildClient({ region: 'us-east-1' }),
              documentClient: () => world.dynamo.client,
              ...triggers.clients(),
            },
            clock: eksClock,
          },
        },
      ),
    };
  }

  it('install → destroy while a sweep and an event fire: nothing is reinstalled, every cluster ends without Falcon', async () => {
    world.addCluster(MEMBER, REGION, { name: 'prod', authenticationMode: 'API', nodegroups: ['ng'] });
    world.addCluster(MEMBER, REGION, { name: 'busy', authenticationMode: 'API', nodegroups: ['ng'] });
    await discover()(SCHEDULE, world.context());
    // prod is protected; busy's install run is still going when destroy starts.
    const installs = deployer.inProgress('install');
    expect(installs.map((b) => b.env[RUN_ENV.cluster]).sort()).toEqual(['busy', 'prod']);
    await deployer.finish(installs.find((b) => b.env[RUN_ENV.cluster] === 'prod')!.id);
    expect([...deployer.falconOn]).toEqual([key('prod')]);

    // While destroy waits: a sweep that was already running, and a CreateCluster for a new
    // cluster plus one for prod (an EventBridge retry) arrive. Then CodeBuild finishes what runs.
    world.addCluster(MEMBER, REGION, { name: 'new', status: 'CREATING', authenticationMode: 'API' });
    const lateTriggers: unknown[] = [];
    let uninstallStartedWithTriggersOn = false;
    const eksClock: DeployerClock = {
      now: clock.now,
      sleep: async (ms) => {
        if (lateTriggers.length === 0) {
          lateTriggers.push(await discover()(SCHEDULE, world.context()));
          lateTriggers.push(await event()(createCluster('new'), world.context()));
          lateTriggers.push(await event()(createCluster('prod'), world.context()));
        }
        if (deployer.inProgress('uninstall').length > 0 && triggers.anythingEnabled())
          uninstallStartedWithTriggersOn = true;
        await deployer.finishAll();
        await clock.sleep(ms);
      },
    };

    const { result, deployerOfStack } = destroy({}, eksClock);
    const done = await result;

    expect(done.error).toBeUndefined();
    expect(done.ok).toBe(true);
    expect(deployerOfStack.calls).toEqual(['destroy']);
    // Nothing installed after destroy began: the only installs are the two from before.
    const byMode = (mode: string) =>
      deployer.builds.filter((b) => b.env[RUN_ENV.mode] === mode).map((b) => b.env[RUN_ENV.cluster]);
    expect(byMode('install').sort()).toEqual(['busy', 'prod']);
    expect(byMode('uninstall').sort()).toEqual(['busy', 'prod']);
    expect(deployer.falconOn.size).toBe(0);
    expect(uninstallStartedWithTriggersOn).toBe(false);
    expect(lateTriggers[0]).toMatchObject({
      stopped: expect.stringMatching(/^the deployment is being destroyed/) as unknown,
    });
    expect(lateTriggers[1]).toMatchObject({
      action: 'ignored',
      reason: expect.stringMatching(/being destroyed/) as unknown,
    });
    expect(lateTriggers[2]).toMatchObject({ action: 'ignored' });
    expect(done.eks).toMatchObject({
      runsTable: { name: TABLE, region: 'us-east-1' },
      clusters: [
        { cluster: 'busy', status: 'uninstalled' },
        { cluster: 'prod', status: 'uninstalled' },
      ],
    });
    expect(triggers.anythingEnabled()).toBe(false);

    // The stack is gone but the runs table stays, with the mark: a last retried event starts nothing.
    expect(await event()(createCluster('prod'), world.context())).toMatchObject({ action: 'ignored' });
    expect(byMode('install')).toHaveLength(2);
  });

  it('destroy with a cluster that was protected and later unreachable: its uninstall is attempted and reported, and nothing is deleted until it is skipped', async () => {
    world.addCluster(MEMBER, REGION, { name: 'prod', authenticationMode: 'API', nodegroups: ['ng'] });
    world.addCluster(MEMBER, REGION, { name: 'web', authenticationMode: 'API', nodegroups: ['ng'] });
    await discover()(SCHEDULE, world.context());
    await deployer.finishAll();
    // Later prod's allow-list shuts the deployer out: its next run ends not-reachable.
    deployer.outcomes.set(key('prod'), 'not-reachable');
    await discover()(SCHEDULE, world.context());
    await deployer.finishAll();
    expect(
      (await world.table.get({ accountId: MEMBER, region: REGION, cluster: 'prod' }))?.lastRun?.outcome,
    ).toBe('not-reachable');
    const running: DeployerClock = {
      now: clock.now,
      sleep: async (ms) => {
        await deployer.finishAll();
        await clock.sleep(ms);
      },
    };

    const first = destroy({}, running);
    const error = await first.result.catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /could not be removed from 1 cluster\(s\) \(prod in 111122223333\/us-east-1: not-reachable — .*\); nothing was deleted; EKS Protection runs again as before/,
    );
    expect((error as Error).message).toContain('--skip-cluster 111122223333/us-east-1/prod');
    const uninstalls = deployer.builds.filter((b) => b.env[RUN_ENV.mode] === 'uninstall');
    expect(uninstalls.map((b) => b.env[RUN_ENV.cluster]).sort()).toEqual(['prod', 'web']); // attempted
    expect(first.deployerOfStack.calls).toEqual([]); // nothing deleted
    expect(triggers.anythingEnabled()).toBe(true); // and nothing left switched off
    expect([...deployer.falconOn]).toEqual([key('prod')]);

    // Leaving prod to its owner: destroy goes through and says what stays where.
    const second = destroy(
      { skipClusters: [{ accountId: MEMBER, region: REGION, cluster: 'prod' }] },
      running,
    );
    const done = await second.result;
    expect(done.error).toBeUndefined();
    expect(done.ok).toBe(true);
    expect(second.deployerOfStack.calls).toEqual(['destroy']);
    expect(done.eks?.clusters).toEqual([
      {
        accountId: MEMBER,
        region: REGION,
        cluster: 'prod',
        status: 'skipped',
        reason: 'skipped on request: Falcon stays on this cluster',
      },
    ]);
    expect(renderEksDestroyed(done.eks!)).toBe(
      [
        'EKS: Falcon removed from 0 cluster(s).',
        'EKS: Falcon stays on 1 cluster(s):',
        '  111122223333 us-east-1 prod: skipped (skipped on request: Falcon stays on this cluster)',
        `EKS: the runs table ${TABLE} (home region us-east-1) is kept: it records every cluster Falcon was installed on and each cluster's last run. Delete it when you no longer need it: aws dynamodb delete-table --table-name ${TABLE} --region us-east-1`,
      ].join('\n'),
    );
  });
});
