import { BatchGetProjectsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareEksForDestroy, type DestroyHookClients } from '../../src/cluster/destroy-hook.js';
import { validateConfig } from '../../src/config/load.js';
import { RUN_ENV } from '../../src/eks/run-contract.js';
import { DynamoRunsTable, type ClusterRef } from '../../src/eks/runs-table.js';
import { DeployerSimulator, serveDeployerProject } from '../eks/deployer-simulator.js';
import { FakeDynamoTable } from '../eks/fake-dynamo.js';
import { HomeTriggersFake } from '../eks/home-triggers-fake.js';
import { VirtualClock } from './harness.js';

const TABLE = 'falcon-org-runs-1';
const PROJECT = 'falcon-org-eks-deployer';
const BY = 'arn:aws:sts::999999999999:assumed-role/Admin/alice';

const config = (enabled: boolean) =>
  validateConfig({
    falcon: { cloud: 'us-1', credentials: { source: 'environment' } },
    aws: { partition: 'aws', homeRegion: 'us-east-1' },
    organization: { id: 'o-a1b2c3d4e5', targets: ['r-abcd'] },
    features: { eksProtection: { enabled } },
  });

const ref = (cluster: string, accountId = '111122223333'): ClusterRef => ({
  accountId,
  region: 'eu-west-1',
  cluster,
});

describe('destroy: stop EKS Protection, then uninstall', () => {
  let codeBuild: AwsClientStub<CodeBuildClient>;
  let dynamo: FakeDynamoTable;
  let triggers: HomeTriggersFake;
  let clock: VirtualClock;
  let table: DynamoRunsTable;
  let deployer: DeployerSimulator;
  let batchGetCalls: number[];
  /** Every observable step, in order: trigger changes, the mark, started builds. */
  let order: string[];

  beforeEach(() => {
    codeBuild = mockClient(CodeBuildClient);
    dynamo = new FakeDynamoTable(TABLE);
    dynamo.pageSize = 1000;
    triggers = new HomeTriggersFake();
    clock = new VirtualClock();
    table = new DynamoRunsTable(dynamo.client, TABLE, { now: clock.now });
    deployer = new DeployerSimulator(table, clock.now);
    ({ batchGetCalls } = serveDeployerProject(codeBuild, deployer, {
      projectName: PROJECT,
      runsTable: TABLE,
    }));
    order = triggers.log;
  });
  afterEach(() => {
    codeBuild.restore();
    dynamo.reset();
    triggers.reset();
  });

  const clients = (): DestroyHookClients => ({
    codeBuild: new CodeBuildClient({ region: 'us-east-1' }),
    documentClient: () => dynamo.client,
    ...triggers.clients(),
  });

  /** CodeBuild runs the builds while destroy waits, and the order of events is noted. */
  function runningClock() {
    return {
      now: clock.now,
      sleep: async (ms: number) => {
        for (const b of deployer.inProgress())
          order.push(`build ${b.env[RUN_ENV.mode]} ${b.env[RUN_ENV.cluster]}`);
        await deployer.finishAll();
        await clock.sleep(ms);
      },
    };
  }

  async function installed(r: ClusterRef): Promise<void> {
    deployer.falconOn.add(`${r.accountId}/${r.region}/${r.cluster}`);
    await table.takeLock(r, `install-${r.cluster}`, 60);
    await table.recordFalconInstalled(r, `install-${r.cluster}`);
    await table.releaseLock({
      runId: `install-${r.cluster}`,
      ...r,
      mode: 'install',
      outcome: 'protected',
      components: [],
      startedAt: '2026-11-01T00:00:00Z',
      finishedAt: '2026-11-01T00:10:00Z',
      durationsMs: {},
    });
  }

  it('does nothing when EKS Protection is off or its project does not exist', async () => {
    const lines: string[] = [];
    expect(
      await prepareEksForDestroy(config(false), (l) => lines.push(l), { by: BY, clients: clients() }),
    ).toBeUndefined();
    expect(codeBuild.calls()).toEqual([]);
    codeBuild.on(BatchGetProjectsCommand).resolves({ projects: [], projectsNotFound: [PROJECT] });
    expect(
      await prepareEksForDestroy(config(true), (l) => lines.push(l), { by: BY, clients: clients() }),
    ).toBeUndefined();
    expect(lines).toEqual([`EKS deployer project ${PROJECT} not found; no clusters to uninstall from.`]);
    expect(triggers.log).toEqual([]);
  });

  it('marks the deployment, switches off the schedule, the event rule and the queue, waits for the run in flight, then uninstalls', async () => {
    await installed(ref('prod'));
    // A run started just before destroy: it installs Falcon on a cluster the table knew nothing about.
    await table.takeLock(ref('new'), 'install-new', 3600);
    const inFlight = deployer.started(PROJECT, {
      [RUN_ENV.accountId]: '111122223333',
      [RUN_ENV.region]: 'eu-west-1',
      [RUN_ENV.cluster]: 'new',
      [RUN_ENV.runId]: 'install-new',
      [RUN_ENV.mode]: 'install',
    });
    // Whether the deployment was already marked when each trigger was switched off.
    const markedAtChange: boolean[] = [];
    triggers.onChange = () => markedAtChange.push(dynamo.items.get('deployment')?.destroying !== undefined);
    const lines: string[] = [];

    const report = await prepareEksForDestroy(config(true), (l) => lines.push(l), {
      by: BY,
      clients: clients(),
      clock: runningClock(),
    });

    expect(dynamo.items.get('deployment')?.destroying).toMatchObject({ by: BY });
    expect(markedAtChange).toEqual([true, true, true]);
    expect(triggers.anythingEnabled()).toBe(false);
    expect(order.slice(0, 3)).toEqual([
      'disable FalconOrg-EksProtectionDiscoveryScheduleA1B2',
      'disable FalconOrg-EksProtectionClusterEventsC3D4',
      'disable mapping-1',
    ]);
    // The in-flight install ended first, then both clusters got an uninstall run.
    expect(order.slice(3)).toEqual(['build install new', 'build uninstall new', 'build uninstall prod']);
    expect(deployer.builds.find((b) => b.id === inFlight)?.status).toBe('SUCCEEDED');
    expect(deployer.falconOn.size).toBe(0);
    expect(report).toEqual({
      runsTable: { name: TABLE, region: 'us-east-1' },
      stopped:
        'rule FalconOrg-EksProtectionDiscoveryScheduleA1B2, rule FalconOrg-EksProtectionClusterEventsC3D4 (bus falcon-org-eks-events), queue event source mapping-1',
      clusters: [
        { ...ref('new'), status: 'uninstalled' },
        { ...ref('prod'), status: 'uninstalled' },
      ],
      keptClusterSensors: false,
    });
    expect(lines).toContain(
      'Waiting for 1 deployer run(s) already in flight: new (111122223333/eu-west-1, run install-new)',
    );
  });

  it('asks CodeBuild about at most 100 builds at a time', async () => {
    for (let i = 0; i < 230; i += 1) await installed(ref(`c${String(i).padStart(3, '0')}`));

    const report = await prepareEksForDestroy(config(true), () => undefined, {
      by: BY,
      clients: clients(),
      clock: runningClock(),
    });

    expect(report?.clusters.filter((c) => c.status === 'uninstalled')).toHaveLength(230);
    expect(Math.max(...batchGetCalls)).toBe(100);
    expect(batchGetCalls.slice(0, 3)).toEqual([100, 100, 30]);
  });

  it('stops without deleting anything when a cluster cannot be reached, switches everything on again, and names the flags that leave it', async () => {
    await installed(ref('prod'));
    await installed(ref('private', '444455556666'));
    deployer.outcomes.set('444455556666/eu-west-1/private', 'not-reachable');

    const error = await prepareEksForDestroy(config(true), () => undefined, {
      by: BY,
      clients: clients(),
      clock: runningClock(),
    }).catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(
      'the Falcon Operator could not be removed from 1 cluster(s) (private in 444455556666/eu-west-1: not-reachable — the public endpoint admits only 10.0.0.0/8, which excludes the deployer); nothing was deleted; EKS Protection runs again as before.',
    );
    expect((error as Error).message).toContain(
      '--skip-cluster 444455556666/eu-west-1/private (or --skip-account 444455556666 for a closed or suspended account)',
    );
    expect(triggers.rules.map((r) => r.state)).toEqual(['ENABLED', 'ENABLED']);
    expect(triggers.mappings.get('mapping-1')?.state).toBe('Enabled');
    expect(dynamo.items.get('deployment')?.destroying).toBeUndefined();

    // The same destroy, leaving that cluster: it goes through and says what stays (prod was
    // uninstalled by the first attempt, which the runs table remembers).
    const report = await prepareEksForDestroy(config(true), () => undefined, {
      by: BY,
      clients: clients(),
      clock: runningClock(),
      skip: { accounts: [], clusters: [ref('private', '444455556666')] },
    });
    expect(report?.clusters.map((c) => [c.cluster, c.status])).toEqual([['private', 'skipped']]);
    expect([...deployer.falconOn]).toEqual(['444455556666/eu-west-1/private']);
    expect(triggers.anythingEnabled()).toBe(false);
  });

  it('names the flag that skips the uninstalls when CodeBuild cannot be asked', async () => {
    codeBuild.on(BatchGetProjectsCommand).rejects(new Error('AccessDeniedException: not allowed'));
    await expect(
      prepareEksForDestroy(config(true), () => undefined, { by: BY, clients: clients() }),
    ).rejects.toThrow(
      /could not run the EKS uninstalls before destroy: AccessDeniedException: not allowed; .*--keep-cluster-sensors/,
    );
  });

  it('with --keep-cluster-sensors still stops every trigger, starts no uninstall, and keeps the runs table', async () => {
    await installed(ref('prod'));
    const report = await prepareEksForDestroy(config(true), () => undefined, {
      by: BY,
      clients: clients(),
      keepClusterSensors: true,
    });
    expect(triggers.anythingEnabled()).toBe(false);
    expect(deployer.builds).toEqual([]);
    expect(report).toMatchObject({ keptClusterSensors: true, clusters: [], runsTable: { name: TABLE } });
  });
});
