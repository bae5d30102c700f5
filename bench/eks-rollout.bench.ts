/**
 * EKS rollout benchmark (issue 15): a simulated organization of CLUSTERS EKS clusters behind the ports
 * discovery uses (ClusterApi with LATENCY ms per call, the runs table over the stateful DynamoDB fake
 * of the tests, CodeBuild as a simulator with a concurrent-build quota QUOTA and a queue of 5× that,
 * beyond which StartBuild answers AccountLimitExceededException). Time is compressed: a "wave" is one
 * build time; between waves every build in flight finishes. Measured in one run:
 *   - paced (this code): the first rollout, looking again at the accounts with deferred runs after each
 *     wave (the discovery queue), until every cluster is protected; then a sweep of the unchanged
 *     organization;
 *   - then (c) one setting changed (the rollout generation) rolled out to the end, and (d) 1 % of the
 *     clusters' nodes reported silent by coverage, rolled out to the end;
 *   - baseline (the old behaviour, every eligible cluster started every sweep, no pacing, no desired
 *     state): the same first sweep and the same unchanged sweep.
 * Builds started, StartBuild calls, refusals and wall time are reported, with ratios.
 *
 *   npx tsx bench/eks-rollout.bench.ts [--clusters 5000] [--quota 60] [--latency 1] [--per-account 10]
 */
import type { Cluster } from '@aws-sdk/client-eks';
import { desiredState } from '../src/cluster/desired-state.js';
import { deployerRunSettingsFromConfig } from '../src/cluster/settings.js';
import { validateConfig } from '../src/config/load.js';
import { StaticEnabledRegions } from '../src/aws/account-regions.js';
import type { BuildCapacity } from '../src/eks/build-capacity.js';
import type { ClusterApi } from '../src/eks/cluster-api.js';
import { discoverAccounts, type DiscoveryDeps, type DiscoverySettings } from '../src/eks/discover.js';
import type { ClusterRef } from '../src/eks/runs-table.js';
import type { CoverageSignal } from '../src/eks/run-decision.js';
import type { ComputeMode, DesiredState } from '../src/eks/run-contract.js';
import { DynamoRunsTable } from '../src/eks/runs-table.js';
import { RunStarter } from '../src/eks/start-run.js';
import { DeployerSimulator } from '../test/eks/deployer-simulator.js';
import { FakeDynamoTable } from '../test/eks/fake-dynamo.js';

function num(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}
const CLUSTERS = num('clusters', 5000);
const QUOTA = num('quota', 60);
const LATENCY = num('latency', 1);
const PER_ACCOUNT = num('per-account', 10);
const REGION = 'us-east-1';
const ACCOUNTS = Array.from({ length: Math.ceil(CLUSTERS / PER_ACCOUNT) }, (_, i) =>
  String(200_000_000_000 + i),
);
const clustersOf = (account: string) => {
  const a = ACCOUNTS.indexOf(account);
  return Array.from({ length: Math.min(PER_ACCOUNT, CLUSTERS - a * PER_ACCOUNT) }, (_, i) => `c-${a}-${i}`);
};

const config = validateConfig({
  falcon: { cloud: 'us-1', credentials: { source: 'environment' } },
  aws: { partition: 'aws', homeRegion: REGION },
  organization: { id: 'o-a1b2c3d4e5', targets: ['r-root'] },
  features: { eksProtection: { enabled: true } },
});
const settings = deployerRunSettingsFromConfig(config, {
  homeAccountId: '999999999999',
  manifestBucket: 'artifacts',
  manifestKey: 'operator.yaml',
});
const desired = (compute: ComputeMode) => desiredState(settings, compute);
/** What the simulated deployer works towards: the settings of the deployment as it is now. */
let deployed = desired;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let eksCalls = 0;
const api: ClusterApi = {
  listClusters: async () => (eksCalls++, await sleep(LATENCY), []),
  describeCluster: async (name) => {
    eksCalls += 1;
    await sleep(LATENCY);
    return {
      name,
      status: 'ACTIVE',
      version: '1.31',
      accessConfig: { authenticationMode: 'API' },
      resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
    } satisfies Cluster;
  },
  listNodegroups: async () => (eksCalls++, await sleep(LATENCY), ['ng']),
  listFargateProfiles: async () => (eksCalls++, await sleep(LATENCY), []),
};

interface World {
  readonly table: DynamoRunsTable;
  readonly deployer: DeployerSimulator;
  readonly counts: { startBuildCalls: number; refused: number };
  readonly deps: DiscoveryDeps;
}

function world(paced: boolean): World {
  const dynamo = new FakeDynamoTable('runs');
  dynamo.pageSize = 1000;
  const table = new DynamoRunsTable(dynamo.client, 'runs');
  const deployer = new DeployerSimulator(table, Date.now, (compute) => deployed(compute));
  const counts = { startBuildCalls: 0, refused: 0 };
  const codeBuild = {
    start(env: Readonly<Record<string, string>>, token: string): Promise<string> {
      counts.startBuildCalls += 1;
      // Running + queued: CodeBuild accepts the quota running and five times it queued.
      if (deployer.inProgress().length >= QUOTA * 6) {
        counts.refused += 1;
        return Promise.reject(
          Object.assign(new Error('Cannot have more than 360 active builds'), {
            name: 'AccountLimitExceededException',
          }),
        );
      }
      return Promise.resolve(deployer.started('deployer', env, token));
    },
  };
  const capacity: BuildCapacity = {
    limit: () => Promise.resolve({ limit: QUOTA, source: 'bench quota' }),
    inFlight: () => Promise.resolve({ count: deployer.inProgress().length }),
    // One process, sweeps one after another: the turn is always free.
    exclusively: async (work) => ({ value: await work(Number.POSITIVE_INFINITY) }),
  };
  const runs = new RunStarter(table, codeBuild, {
    partition: 'aws',
    executionRoleName: 'exec',
    lockTtlSeconds: 3600,
    sleep: () => Promise.resolve(), // the retries of a refused start, compressed
  });
  const credentials = {
    get: () => Promise.resolve({}),
    provider: () => () => Promise.reject(new Error('unused')),
  };
  const deps: DiscoveryDeps = {
    credentials,
    enabledRegions: new StaticEnabledRegions([REGION]),
    clusterApi: (account) => ({
      ...api,
      listClusters: async () => (eksCalls++, await sleep(LATENCY), clustersOf(account)),
    }),
    table,
    runs,
    ...(paced ? { capacity } : {}),
  };
  return { table, deployer, counts, deps };
}

const base: DiscoverySettings = { regions: [REGION], concurrency: 50 };

interface SweepInputs {
  readonly desired?: (compute: ComputeMode) => DesiredState;
  readonly coverage?: (ref: ClusterRef) => CoverageSignal | undefined;
}

async function sweep(w: World, accounts: readonly string[], paced: boolean, inputs: SweepInputs = {}) {
  const settingsNow: DiscoverySettings = paced
    ? {
        ...base,
        desired: inputs.desired ?? desired,
        ...(inputs.coverage ? { coverage: inputs.coverage } : {}),
      }
    : base;
  const report = await discoverAccounts(accounts, w.deps, settingsNow);
  const deferredAccounts = report.accounts
    .filter((a) => a.regions.some((r) => r.clusters.some((c) => c.run?.status === 'deferred')))
    .map((a) => a.accountId);
  return { counts: report.counts, deferredAccounts };
}

/**
 * A paced rollout to the end: a sweep of every account, then, after each wave (one build time), a look
 * at the accounts with deferred runs (what the discovery queue does), until nothing is deferred.
 */
async function rollOut(w: World, inputs: SweepInputs = {}): Promise<{ builds: number; waves: number }> {
  const before = w.deployer.builds.length;
  let look = await sweep(w, ACCOUNTS, true, inputs);
  let waves = 0;
  while (true) {
    if (waves > 10 * Math.ceil(CLUSTERS / QUOTA)) throw new Error(`no end after ${waves} waves`);
    waves += w.deployer.inProgress().length > 0 ? 1 : 0;
    await w.deployer.finishAll();
    if (look.deferredAccounts.length === 0) break;
    look = await sweep(w, look.deferredAccounts, true, inputs);
  }
  return { builds: w.deployer.builds.length - before, waves };
}

async function main(): Promise<void> {
  // Paced: first rollout in waves (the discovery queue looks again at deferred accounts).
  const paced = world(true);
  let t = performance.now();
  let look = await sweep(paced, ACCOUNTS, true);
  let waves = 0;
  let maxInFlight = 0;
  while (true) {
    maxInFlight = Math.max(maxInFlight, paced.deployer.inProgress().length);
    waves += paced.deployer.inProgress().length > 0 ? 1 : 0;
    await paced.deployer.finishAll(); // one build time
    if (look.deferredAccounts.length === 0) break;
    look = await sweep(paced, look.deferredAccounts, true);
  }
  const pacedFirstMs = performance.now() - t;
  const pacedFirst = { ...paced.counts, builds: paced.deployer.builds.length, waves, maxInFlight };
  const protectedAfter = new Set(paced.deployer.falconOn).size;
  paced.counts.startBuildCalls = 0;
  t = performance.now();
  const steady = await sweep(paced, ACCOUNTS, true);
  const pacedSteadyMs = performance.now() - t;
  const pacedSteady = { builds: steady.counts.runsStarted, startBuildCalls: paced.counts.startBuildCalls };

  // (c) One setting changed (the rollout generation, part of every cluster's desired state).
  const changedSettings = { ...settings, rollout: { ...settings.rollout, generation: 1 } };
  const changedDesired = (compute: ComputeMode) => desiredState(changedSettings, compute);
  deployed = changedDesired;
  const changed = await rollOut(paced, { desired: changedDesired });
  // (d) 1 % of the clusters' nodes stop reporting in the coverage input: exactly those are rebuilt.
  const silent = new Set(ACCOUNTS.flatMap(clustersOf).filter((_, i) => i % 100 === 0));
  const repair = await rollOut(paced, {
    desired: changedDesired,
    coverage: (ref) => (silent.has(ref.cluster) ? 'not-reporting' : 'reporting'),
  });

  // Baseline: every eligible cluster started every sweep.
  const old = world(false);
  t = performance.now();
  const oldFirstReport = await sweep(old, ACCOUNTS, false);
  const oldFirstMs = performance.now() - t;
  const oldFirst = {
    ...old.counts,
    builds: old.deployer.builds.length,
    deferred: oldFirstReport.counts.runsDeferred,
  };
  const oldUnprotectedAfterOneSweep = CLUSTERS - old.deployer.builds.length;
  await old.deployer.finishAll(); // the day passes; a second (unchanged) sweep starts everything again
  old.counts.startBuildCalls = 0;
  old.counts.refused = 0;
  const before = old.deployer.builds.length;
  t = performance.now();
  await sweep(old, ACCOUNTS, false);
  const oldSteadyMs = performance.now() - t;
  const oldSteady = {
    builds: old.deployer.builds.length - before,
    startBuildCalls: old.counts.startBuildCalls,
  };

  const ratio = (a: number, b: number) => (b === 0 ? null : Number((a / b).toFixed(3)));
  const out = {
    clusters: CLUSTERS,
    quota: QUOTA,
    latencyMs: LATENCY,
    firstRollout: {
      paced: { ...pacedFirst, protectedAfter, ms: Math.round(pacedFirstMs) },
      baseline: {
        ...oldFirst,
        unprotectedAfterOneSweep: oldUnprotectedAfterOneSweep,
        ms: Math.round(oldFirstMs),
      },
      waveBound: Math.ceil(CLUSTERS / QUOTA),
      startBuildCallsRatio: ratio(pacedFirst.startBuildCalls, oldFirst.startBuildCalls),
      refusedByQuota: pacedFirst.refused,
      baselineRefused: oldFirst.refused,
    },
    unchangedSweep: {
      paced: { ...pacedSteady, ms: Math.round(pacedSteadyMs) },
      baseline: { ...oldSteady, ms: Math.round(oldSteadyMs) },
      buildsRatio: ratio(pacedSteady.builds, oldSteady.builds),
      startBuildCallsRatio: ratio(pacedSteady.startBuildCalls, oldSteady.startBuildCalls),
      timeRatio: ratio(pacedSteadyMs, oldSteadyMs),
    },
    eksCalls,
  };
  console.log(JSON.stringify(out));
  // The one-line summary (makespanRatio: waves of the first rollout / the bound ⌈clusters / quota⌉).
  console.log(
    JSON.stringify({
      clusters: CLUSTERS,
      quota: QUOTA,
      firstWaveBuilds: pacedFirst.builds,
      refusedByQuota: pacedFirst.refused,
      makespanRatio: Number((pacedFirst.waves / Math.ceil(CLUSTERS / QUOTA)).toFixed(3)),
      steadyStateBuilds: pacedSteady.builds,
      changedBuilds: changed.builds,
      changedWaves: changed.waves,
      repairBuilds: repair.builds,
      silentClusters: silent.size,
      referenceRefused: oldFirst.refused,
      referenceUnprotected: oldUnprotectedAfterOneSweep,
    }),
  );
}

await main();
