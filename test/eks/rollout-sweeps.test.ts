import { Readable } from 'node:stream';
/**
 * Issue 15 points 1 and 3 across sweeps, over the stateful runs table (FakeDynamoTable): a sweep
 * builds only what needs building (never protected, desired state changed, failed and backed off,
 * a follow-up an event left), and every eligible cluster's decision says why.
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetServiceQuotaCommand } from '@aws-sdk/client-service-quotas';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { desiredState } from '../../src/cluster/desired-state.js';
import { countItems, stateOf, totalsOf } from '../../src/coverage/cells.js';
import {
  COVERAGE_SCHEMA_VERSION,
  type CoverageCell,
  type CoverageItem,
  type CoverageReport,
  type ItemState,
} from '../../src/coverage/model.js';
import { publishReport } from '../../src/coverage/publish.js';
import { InMemoryDetails } from '../../src/coverage/report-store.js';
import { deployerRunSettingsFromConfig, type DeployerRunSettings } from '../../src/cluster/settings.js';
import { validateConfig } from '../../src/config/load.js';
import { RunsTableBuildCapacity } from '../../src/eks/build-capacity.js';
import { paceRuns } from '../../src/eks/pace-runs.js';
import type { DiscoveryReport } from '../../src/eks/report.js';
import { EKS_FUNCTION_ENV, RUN_ENV, type ComputeMode } from '../../src/eks/run-contract.js';
import { createEksDiscoverHandler } from '../../src/handlers/eks-discover.js';
import { createEksEventHandler } from '../../src/handlers/eks-event.js';
import { DeployerSimulator, serveDeployerProject } from './deployer-simulator.js';
import { cloudTrailEvent, EksWorld, HOME_ACCOUNT, PROJECT, QUEUE_URL, TABLE } from './eks-world.js';
import { bodyText } from '../handlers/coverage-harness.js';
import { captureLogs, type LogCapture } from '../shared/log-capture.js';

const SCHEDULE = { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'tick' };
const A1 = '111111111111';
const T0 = Date.parse('2030-03-01T00:00:00Z');
const MINUTE = 60_000;

let world: EksWorld;
let deployer: DeployerSimulator;
let settings: DeployerRunSettings;
let logs: LogCapture;

function settingsFor(generation: number): DeployerRunSettings {
  const config = validateConfig({
    falcon: { cloud: 'us-1', credentials: { source: 'environment' } },
    aws: { partition: 'aws', homeRegion: 'us-east-1' },
    organization: { id: 'o-a1b2c3d4e5', targets: ['r-root'] },
    features: { eksProtection: { enabled: true, rollout: { generation } } },
  });
  return deployerRunSettingsFromConfig(config, {
    homeAccountId: HOME_ACCOUNT,
    manifestBucket: 'artifacts',
    manifestKey: 'operator.yaml',
  });
}

function env(): Record<string, string> {
  return { ...world.env(), [EKS_FUNCTION_ENV.deployerSettings]: JSON.stringify(settings) };
}

async function sweep(): Promise<DiscoveryReport['counts']> {
  const handler = createEksDiscoverHandler({ env: env(), services: world.services });
  const out = (await handler(SCHEDULE, world.context())) as { counts: DiscoveryReport['counts'] };
  return out.counts;
}

function builtClusters(from: number): string[] {
  return deployer.builds
    .slice(from)
    .map((b) => b.env[RUN_ENV.cluster] ?? '')
    .sort();
}

async function decisionOf(cluster: string, region = 'us-east-1') {
  return (await world.table.get({ accountId: A1, region, cluster }))?.decision;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: T0 });
  world = new EksWorld();
  world.addAccounts('r-root', [A1]);
  world.addCluster(A1, 'us-east-1', { name: 'nodes', authenticationMode: 'API', nodegroups: ['ng'] });
  world.addCluster(A1, 'us-east-1', { name: 'fargate', authenticationMode: 'API', fargateProfiles: ['fp'] });
  settings = settingsFor(0);
  // The deployer, like the real one, reports the desired state of its settings with each install.
  deployer = new DeployerSimulator(world.table, Date.now, (compute: ComputeMode) =>
    desiredState(settings, compute),
  );
  serveDeployerProject(world.codeBuild, deployer, { projectName: PROJECT, runsTable: TABLE });
  logs = captureLogs();
});
afterEach(() => {
  world.reset();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('a sweep builds only what needs building', () => {
  it('starts 0 builds on an unchanged, fully protected organization, and says since when each is up to date', async () => {
    const first = await sweep();
    expect(first.runsStarted).toBe(2);
    expect(builtClusters(0)).toEqual(['fargate', 'nodes']);
    expect((await decisionOf('nodes'))?.code).toBe('never-protected');
    await deployer.finishAll();

    vi.setSystemTime(T0 + 24 * 60 * MINUTE);
    const second = await sweep();
    expect(deployer.builds).toHaveLength(2); // nothing new started
    expect(second).toMatchObject({ eligible: 2, runsStarted: 0, upToDate: 2 });
    const decision = await decisionOf('nodes');
    expect(decision?.code).toBe('up-to-date');
    expect(decision?.reason).toContain(`up to date since ${new Date(T0).toISOString()}`);
  });

  it('rebuilds every cluster once when what reaches the clusters changes (the rollout generation), then rests', async () => {
    await sweep();
    await deployer.finishAll();
    settings = settingsFor(1);
    vi.setSystemTime(T0 + 60 * MINUTE);
    const changed = await sweep();
    expect(changed.runsStarted).toBe(2);
    expect((await decisionOf('fargate'))?.code).toBe('changed');
    await deployer.finishAll();
    vi.setSystemTime(T0 + 120 * MINUTE);
    expect((await sweep()).runsStarted).toBe(0);
  });

  it('rebuilds a cluster whose compute changed (a Fargate profile added to a node cluster)', async () => {
    await sweep();
    await deployer.finishAll();
    const nodes = world.clusters.get(`${A1}#us-east-1`)?.find((c) => c.name === 'nodes');
    if (nodes) nodes.fargateProfiles = ['fp'];
    vi.setSystemTime(T0 + 60 * MINUTE);
    await sweep();
    expect(builtClusters(2)).toEqual(['nodes']);
    expect((await decisionOf('nodes'))?.reason).toContain('compute nodes → mixed');
  });

  it('backs a failing cluster off 1 h, then 2 h, retries after each, and rests again once a run succeeds', async () => {
    deployer.outcomes.set(`${A1}/us-east-1/nodes`, 'failed');
    await sweep();
    await deployer.finishAll(); // failure 1 at T0

    vi.setSystemTime(T0 + 30 * MINUTE);
    expect((await sweep()).runsStarted).toBe(0);
    const off = await decisionOf('nodes');
    expect(off?.code).toBe('backing-off');
    expect(off?.reason).toContain(`backing off until ${new Date(T0 + 60 * MINUTE).toISOString()}`);

    vi.setSystemTime(T0 + 61 * MINUTE);
    await sweep();
    expect(builtClusters(2)).toEqual(['nodes']);
    expect((await decisionOf('nodes'))?.code).toBe('retry');
    await deployer.finishAll(); // failure 2 at T0+61: next try after 2 h

    vi.setSystemTime(T0 + 61 * MINUTE + 119 * MINUTE);
    await sweep();
    expect(deployer.builds).toHaveLength(3);
    expect((await decisionOf('nodes'))?.reason).toContain(
      `backing off until ${new Date(T0 + 181 * MINUTE).toISOString()} after 2 failed runs in a row`,
    );

    deployer.outcomes.delete(`${A1}/us-east-1/nodes`);
    vi.setSystemTime(T0 + 182 * MINUTE);
    await sweep();
    expect(deployer.builds).toHaveLength(4);
    await deployer.finishAll();
    expect(
      (await world.table.get({ accountId: A1, region: 'us-east-1', cluster: 'nodes' }))?.failureStreak,
    ).toBe(
      undefined, // reset to 0 by the good run
    );
    vi.setSystemTime(T0 + 183 * MINUTE);
    expect((await sweep()).runsStarted).toBe(0);
  });
});

describe('an event that meets a held lock', () => {
  it('records a follow-up, queues the account to be looked at again, and the next discovery builds it once', async () => {
    await sweep(); // both clusters' runs hold their locks
    vi.setSystemTime(T0 + 5 * MINUTE);
    const event = createEksEventHandler({ env: env(), services: world.services });
    const outcome = await event(
      cloudTrailEvent({ account: A1, region: 'us-east-1' }, 'CreateFargateProfile', {
        clusterName: 'fargate',
        fargateProfileName: 'fp2',
      }),
      world.context(),
    );
    expect(outcome).toMatchObject({ action: 'judged', run: { status: 'in-progress' } });
    expect((outcome as { followUp?: string }).followUp).toMatch(/follow-up run starts after it/);
    expect(world.queued).toEqual([[A1]]);
    const item = await world.table.get({ accountId: A1, region: 'us-east-1', cluster: 'fargate' });
    expect(item?.followUp?.at).toBe(new Date(T0 + 5 * MINUTE).toISOString());

    vi.setSystemTime(T0 + 10 * MINUTE);
    await deployer.finishAll(); // the holder ends; its run started before the event

    // The queued batch (or the next sweep): the follow-up is served although nothing else changed.
    vi.setSystemTime(T0 + 20 * MINUTE);
    await sweep();
    expect(builtClusters(2)).toEqual(['fargate']);
    expect((await decisionOf('fargate'))?.code).toBe('requested');
    await deployer.finishAll();

    vi.setSystemTime(T0 + 30 * MINUTE);
    expect((await sweep()).runsStarted).toBe(0);
  });

  it('a follow-up that meets the lock again during discovery is queued again', async () => {
    await sweep();
    vi.setSystemTime(T0 + 5 * MINUTE);
    const event = createEksEventHandler({ env: env(), services: world.services });
    await event(
      cloudTrailEvent({ account: A1, region: 'us-east-1' }, 'CreateFargateProfile', {
        clusterName: 'fargate',
        fargateProfileName: 'fp2',
      }),
      world.context(),
    );
    vi.setSystemTime(T0 + 20 * MINUTE);
    await sweep(); // the holder has not finished
    expect(deployer.builds).toHaveLength(2);
    expect(world.queued).toEqual([[A1], [A1]]);
    expect(QUEUE_URL).toContain('eks-discovery');
  });
});

describe('a sweep paced to the CodeBuild quota (issue 15 point 2)', () => {
  function addClusters(names: string[]): void {
    for (const name of names)
      world.addCluster(A1, 'us-east-1', { name, authenticationMode: 'API', nodegroups: ['ng'] });
  }
  const lockOf = async (cluster: string) =>
    (await world.table.get({ accountId: A1, region: 'us-east-1', cluster }))?.lockRunId;
  const delays = () =>
    world.sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.[0]?.DelaySeconds);

  it('never has more builds in flight than the quota, starts new clusters first, defers the rest and picks them up at the next look', async () => {
    world.codeBuildQuota = 2;
    await sweep(); // nodes and fargate: 2 of 2
    await deployer.finishAll();
    settings = settingsFor(1); // both out of date now …
    addClusters(['new-a', 'new-b', 'new-c']); // … and three clusters nobody protects yet

    vi.setSystemTime(T0 + 60 * MINUTE);
    const first = await sweep();
    expect(first).toMatchObject({ runsStarted: 2, runsDeferred: 3, runsFailed: 0 });
    expect(builtClusters(2)).toEqual(['new-a', 'new-b']); // new clusters before changed ones
    const deferred = await decisionOf('new-c');
    expect(deferred?.code).toBe('deferred');
    expect(deferred?.reason).toMatch(/^deferred: CodeBuild at 2 of 2 builds \(CodeBuild quota L-9D07B6EF\)/);
    expect(deferred?.reason).toContain('wanted: never protected');
    expect((await decisionOf('nodes'))?.code).toBe('deferred');
    expect(await lockOf('new-c')).toBeUndefined(); // no lock taken for what did not fit
    expect((await world.table.get({ accountId: A1, region: 'us-east-1', cluster: 'new-c' }))?.lastRun).toBe(
      undefined, // nothing recorded against the cluster
    );
    expect(world.queued).toEqual([[A1]]); // looked at again once builds have finished
    expect(delays()).toEqual([300]);

    // Nothing finished yet: the next look starts nothing (2 of 2 in flight).
    vi.setSystemTime(T0 + 65 * MINUTE);
    expect(await sweep()).toMatchObject({ runsStarted: 0, runsDeferred: 3, runsInProgress: 2 });
    expect(deployer.inProgress()).toHaveLength(2);

    await deployer.finishAll();
    vi.setSystemTime(T0 + 70 * MINUTE);
    expect((await sweep()).runsStarted).toBe(2);
    expect(builtClusters(4)).toContain('new-c'); // the last new cluster before the second changed one
    expect(deployer.inProgress()).toHaveLength(2);
    await deployer.finishAll();
    vi.setSystemTime(T0 + 75 * MINUTE);
    expect((await sweep()).runsStarted).toBe(1);
    await deployer.finishAll();
    vi.setSystemTime(T0 + 80 * MINUTE);
    expect(await sweep()).toMatchObject({ runsStarted: 0, runsDeferred: 0, upToDate: 5 });
    // Every cluster built once for the change or its first protection: 2 + 5 builds in all.
    expect(deployer.builds).toHaveLength(7);
  });

  it("two invocations at once never pass the limit together: the second waits its turn and counts the first one's builds", async () => {
    world.codeBuildQuota = 2;
    addClusters(['new-a', 'new-b', 'new-c']); // five clusters nobody protects yet

    // The schedule's sweep and a queued batch (or two batches) at the same moment.
    const [left, right] = await Promise.all([sweep(), sweep()]);

    expect(deployer.builds).toHaveLength(2);
    expect(deployer.inProgress()).toHaveLength(2);
    expect(left.runsStarted + right.runsStarted).toBe(2);
    const reasons = await Promise.all(
      ['nodes', 'fargate', 'new-a', 'new-b', 'new-c'].map(async (c) => (await decisionOf(c))?.reason ?? ''),
    );
    expect(reasons.filter((r) => r.startsWith('deferred: CodeBuild at 2 of 2 builds'))).toHaveLength(3);
    // Nothing is left holding the turn: the next look starts builds as they finish.
    await deployer.finishAll();
    vi.setSystemTime(T0 + 10 * MINUTE);
    expect((await sweep()).runsStarted).toBe(2);
  });

  it('two invocations pacing at the same moment start no more than the limit together', async () => {
    const refs = ['a', 'b', 'c', 'd', 'e', 'f'].map((cluster) => ({
      accountId: A1,
      region: 'us-east-1',
      cluster,
    }));
    const capacity = () =>
      new RunsTableBuildCapacity(world.table, undefined, {
        override: 2,
        leasePollMs: 5,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      });
    // Each start takes the cluster's lock, then waits for CodeBuild a little, as RunStarter does.
    const start = async (run: { ref: (typeof refs)[number] }) => {
      const lock = await world.table.takeLock(run.ref, `run-${run.ref.cluster}`, 3600);
      if (!lock.taken) return { status: 'in-progress' } as const;
      await new Promise((r) => setTimeout(r, 20));
      return { status: 'started', runId: `run-${run.ref.cluster}`, buildId: `b-${run.ref.cluster}` } as const;
    };
    const wanted = (from: number) =>
      refs.slice(from, from + 4).map((ref) => ({ ref, compute: 'nodes' as const, mode: 'install' as const }));
    const [left, right] = await Promise.all([
      paceRuns(wanted(0), capacity(), start, 4),
      paceRuns(wanted(2), capacity(), start, 4),
    ]);
    const started = [...left.starts, ...right.starts].filter((s) => s.status === 'started');
    expect(started).toHaveLength(2);
    const locked = (await world.table.list()).filter((i) => i.lockRunId !== undefined);
    expect(locked).toHaveLength(2);
  });

  it('an invocation that cannot get its turn defers its runs, never starting past the limit', async () => {
    // Another invocation holds the turn, for longer than this one is willing to wait, and has started
    // the build of one of the clusters this one wants.
    expect(await world.table.takePacingLease('another-invocation', 240)).toBe(true);
    const busyRef = { accountId: A1, region: 'us-east-1', cluster: 'fargate' };
    expect((await world.table.takeLock(busyRef, 'their-run', 3600)).taken).toBe(true);
    const capacity = new RunsTableBuildCapacity(world.table, undefined, { override: 2, leaseWaitMs: 0 });
    const ref = { accountId: A1, region: 'us-east-1', cluster: 'nodes' };
    let started = 0;
    const paced = await paceRuns(
      [
        { ref, compute: 'nodes', mode: 'install' },
        { ref: busyRef, compute: 'fargate', mode: 'install' },
      ],
      capacity,
      () => {
        started += 1;
        return Promise.resolve({ status: 'started', runId: 'r-1', buildId: 'b-1' } as never);
      },
      4,
    );
    expect(started).toBe(0);
    expect(paced.starts).toEqual([
      {
        status: 'deferred',
        reason:
          'deferred: another discovery invocation is starting builds; started at the next look at the account',
      },
      { status: 'in-progress' },
    ]);
    // Once the holder lets go, the turn is free again.
    await world.table.releasePacingLease('another-invocation');
    const again = await paceRuns(
      [{ ref, compute: 'nodes', mode: 'install' }],
      capacity,
      () => {
        started += 1;
        return Promise.resolve({ status: 'started', runId: 'r-2', buildId: 'b-2' } as never);
      },
      4,
    );
    expect(started).toBe(1);
    expect(again.starts[0]?.status).toBe('started');
    await world.table.abandonLock(busyRef, 'their-run');
    expect(await world.table.takePacingLease('after', 240)).toBe(true); // released after its turn
  });

  it('starts nothing once half the turn is gone: the rest waits for the next look, never past the lease', async () => {
    let clock = T0;
    const capacity = new RunsTableBuildCapacity(world.table, undefined, { override: 10, now: () => clock });
    const refs = ['s1', 's2', 's3'].map((cluster) => ({ accountId: A1, region: 'us-east-1', cluster }));
    const paced = await paceRuns(
      refs.map((ref) => ({ ref, compute: 'nodes' as const, mode: 'install' as const })),
      capacity,
      (run) => {
        clock += 100_000; // each start takes 100 s (CodeBuild throttling, retried)
        return Promise.resolve({ status: 'started', runId: `r-${run.ref.cluster}`, buildId: 'b' } as never);
      },
      1,
      () => clock,
    );
    // The turn is 240 s; past 120 s nothing more starts.
    expect(paced.starts.map((s) => s.status)).toEqual(['started', 'started', 'deferred']);
    expect(paced.starts[2]).toMatchObject({
      reason: "deferred: this sweep's turn to start builds ran out; started at the next look at the account",
    });
  });

  it('rollout.concurrentBuilds overrides the quota', async () => {
    world.settings = { ...world.settings, concurrentBuilds: 1 };
    const counts = await sweep();
    expect(counts).toMatchObject({ runsStarted: 1, runsDeferred: 1 });
    expect((await decisionOf(builtClusters(0)[0] === 'nodes' ? 'fargate' : 'nodes'))?.reason).toContain(
      'deferred: CodeBuild at 1 of 1 builds (features.eksProtection.rollout.concurrentBuilds)',
    );
    expect(world.serviceQuotas.commandCalls(GetServiceQuotaCommand)).toHaveLength(0);
  });

  it('reads the AWS default when the quota was never adjusted, and paces to 5 when Service Quotas cannot be read', async () => {
    world.codeBuildQuota = undefined; // NoSuchResourceException: the default (20) applies
    expect((await sweep()).runsStarted).toBe(2);

    world.reset();
    world = new EksWorld();
    world.addAccounts('r-root', [A1]);
    addClusters(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']);
    deployer = new DeployerSimulator(world.table, Date.now, (compute: ComputeMode) =>
      desiredState(settings, compute),
    );
    serveDeployerProject(world.codeBuild, deployer, { projectName: PROJECT, runsTable: TABLE });
    world.serviceQuotas
      .on(GetServiceQuotaCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    expect(await sweep()).toMatchObject({ runsStarted: 5, runsDeferred: 2, runsFailed: 0 });
    expect((await decisionOf('c7'))?.reason).toContain('the CodeBuild quota could not be read');
  });

  it('an unchanged organization costs no quota or lock reads', async () => {
    await sweep();
    await deployer.finishAll();
    const quotaCalls = world.serviceQuotas.commandCalls(GetServiceQuotaCommand).length;
    vi.setSystemTime(T0 + 60 * MINUTE);
    expect((await sweep()).runsStarted).toBe(0);
    expect(world.serviceQuotas.commandCalls(GetServiceQuotaCommand)).toHaveLength(quotaCalls);
  });
});

describe('the closed loop with coverage (issue 15 point 4)', () => {
  const BUCKET = 'fo-test-coverage-reports';
  let objects: Map<string, string>;
  let s3: AwsClientStub<S3Client>;

  /** The coverage function's own publishing (details, dated copy, latest.json) into the fake bucket. */
  async function publishCoverage(clusters: Record<string, ItemState | 'not-reporting' | 'partial'>) {
    const items = Object.entries(clusters).map(([id, state]): CoverageItem => {
      if (state === 'not-reporting')
        return {
          kind: 'cluster',
          id,
          state: 'unprotected',
          reasons: [{ code: 'nodes-not-reporting', text: 'none of its 3 EC2 nodes reports to Falcon' }],
          facts: { ec2Nodes: 3, nodesReporting: 0 },
        };
      if (state === 'partial')
        return {
          kind: 'cluster',
          id,
          state: 'partial',
          reasons: [{ code: 'nodes-partly-reporting', text: '1 of its 3 EC2 nodes do not report' }],
          facts: { ec2Nodes: 3, nodesReporting: 2 },
        };
      return { kind: 'cluster', id, state, reasons: [], facts: {} };
    });
    const counts = countItems(items);
    const cell: CoverageCell = {
      feature: 'eksProtection',
      accountId: A1,
      region: 'us-east-1',
      state: stateOf(counts),
      counts,
      reasons: [],
      items,
    };
    const report: CoverageReport = {
      schemaVersion: COVERAGE_SCHEMA_VERSION,
      generatedAt: new Date().toISOString(),
      scope: {
        partition: 'aws',
        homeAccountId: HOME_ACCOUNT,
        homeRegion: 'us-east-1',
        targets: ['r-root'],
        excludeAccounts: [],
        features: ['eksProtection'],
      },
      accounts: [{ id: A1, readable: true }],
      regions: ['us-east-1'],
      cells: [cell],
      totals: totalsOf([cell]),
      allProtected: cell.state === 'protected',
    };
    const summaryCell = { ...cell, items: undefined };
    await publishReport(
      { ...report, cells: [summaryCell] },
      new InMemoryDetails(report),
      { bucket: BUCKET, namespace: 'FalconOrg' },
      { s3: new S3Client({ region: 'us-east-1' }), cloudWatch: { send: () => Promise.resolve({}) } },
    );
  }

  const repairStreakOf = async (cluster: string) =>
    (await world.table.get({ accountId: A1, region: 'us-east-1', cluster }))?.repairStreak;

  function coverageEnv(): Record<string, string> {
    return { ...env(), [EKS_FUNCTION_ENV.coverageReportBucket]: BUCKET };
  }

  async function coverageSweep(): Promise<DiscoveryReport['counts']> {
    const handler = createEksDiscoverHandler({ env: coverageEnv(), services: world.services });
    return ((await handler(SCHEDULE, world.context())) as { counts: DiscoveryReport['counts'] }).counts;
  }

  beforeEach(() => {
    objects = new Map();
    s3 = mockClient(S3Client);
    // The coverage publisher sends its summary as a stream (src/coverage/publish.ts): read what it sends.
    s3.on(PutObjectCommand).callsFake(async (input: { Bucket: string; Key: string; Body: unknown }) => {
      objects.set(`${input.Bucket}/${input.Key}`, await bodyText(input.Body));
      return {};
    });
    s3.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
      const text = objects.get(`${input.Bucket}/${input.Key}`);
      if (text === undefined)
        throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      // As the SDK answers in Node.js: a stream of the bytes that can also be read whole.
      return {
        Body: Object.assign(Readable.from([Buffer.from(text)]), {
          transformToString: () => Promise.resolve(text),
        }),
      };
    });
  });
  afterEach(() => s3.restore());

  it('rebuilds exactly the clusters whose nodes stopped (or partly stopped) reporting, backs the repair off, and rests once they report', async () => {
    world.addCluster(A1, 'us-east-1', { name: 'quiet', authenticationMode: 'API', nodegroups: ['ng'] });
    await coverageSweep(); // no report stored yet: the sweep still protects everything
    await deployer.finishAll();
    expect(deployer.builds).toHaveLength(3);

    vi.setSystemTime(T0 + 60 * MINUTE);
    await publishCoverage({ nodes: 'partial', fargate: 'protected', quiet: 'not-reporting' });
    vi.setSystemTime(T0 + 70 * MINUTE);
    const repaired = await coverageSweep();
    expect(repaired).toMatchObject({ runsStarted: 2, upToDate: 1 });
    expect(builtClusters(3)).toEqual(['nodes', 'quiet']);
    expect((await decisionOf('quiet'))?.code).toBe('repair');
    expect((await decisionOf('quiet'))?.reason).toContain('coverage says its nodes do not report');
    expect((await decisionOf('nodes'))?.reason).toContain('only some nodes report');
    // Only the account with a troubled EKS cell had its details read, and latest.json once.
    const reads = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key ?? '');
    expect(reads.filter((k) => k === 'latest.json')).toHaveLength(2);
    expect(reads.filter((k) => k.endsWith(`/accounts/${A1}.json`))).toHaveLength(1);
    await deployer.finishAll();

    // The next report still says so (it was made before the runs): backing off 1 h, as failures do.
    vi.setSystemTime(T0 + 100 * MINUTE);
    expect((await coverageSweep()).runsStarted).toBe(0);
    expect((await decisionOf('quiet'))?.reason).toMatch(
      /coverage says its nodes do not report; backing off until/,
    );

    vi.setSystemTime(T0 + 131 * MINUTE);
    expect((await coverageSweep()).runsStarted).toBe(2); // second repair after the backoff
    await deployer.finishAll();

    expect(await repairStreakOf('quiet')).toBe(2);

    // Every node reports again: no more repairs, the streak resets.
    await publishCoverage({ nodes: 'protected', fargate: 'protected', quiet: 'protected' });
    vi.setSystemTime(T0 + 400 * MINUTE);
    expect(await coverageSweep()).toMatchObject({ runsStarted: 0, upToDate: 3 });
    expect(await repairStreakOf('quiet')).toBeUndefined(); // reset to 0, read back as absent
  });

  it('a missing or unreadable report means no repairs, logged, never a failed sweep', async () => {
    await coverageSweep();
    await deployer.finishAll();
    const warnings = () =>
      logs
        .records()
        .filter((r) => r.level === 'WARN')
        .map((r) => `${String(r.message)}: ${String(r.reason)}`)
        .join('\n');

    vi.setSystemTime(T0 + 60 * MINUTE);
    const none = await coverageSweep(); // nothing stored: NoSuchKey
    expect(none).toMatchObject({ runsStarted: 0, upToDate: 2, accountsFailed: 0 });
    expect(warnings()).toMatch(/no coverage repairs this sweep.*no coverage report has been stored yet/);

    objects.set(`${BUCKET}/latest.json`, '{"schemaVersion": 2, "cells": "truncated');
    vi.setSystemTime(T0 + 120 * MINUTE);
    expect(await coverageSweep()).toMatchObject({ runsStarted: 0, upToDate: 2, accountsFailed: 0 });
    expect(warnings()).toMatch(/latest.json is not laid out as falcon-org writes it \(line 1: the header/);

    // Cut off after the header and a cell: the end is missing.
    const stored = `{"schemaVersion":2,"generatedAt":"2026-01-01T00:00:00Z","cells":[\n{"accountId":"${A1}"`;
    objects.set(`${BUCKET}/latest.json`, stored);
    vi.setSystemTime(T0 + 180 * MINUTE);
    expect(await coverageSweep()).toMatchObject({ runsStarted: 0, upToDate: 2, accountsFailed: 0 });
    expect(warnings()).toMatch(
      /latest.json is not laid out as falcon-org writes it \(line 2: the document ends early\)/,
    );
  });
});
