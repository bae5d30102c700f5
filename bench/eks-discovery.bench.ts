/**
 * EKS discovery benchmark: a simulated organization of ACCOUNTS × REGIONS where every API call takes
 * LATENCY ms and every member account has its own API rate (a token bucket of RATE calls per second,
 * BURST deep: beyond it calls answer ThrottlingException). Measured in one run, on the same
 * organization and latency model:
 *   1. ours: scope (OUs listed concurrently) → discoverAccounts (the code eks-discover runs: role assumed
 *      once per account, bounded adaptive fan-out, verdicts, lock + StartBuild for eligible clusters);
 *   2. the reference algorithm: accounts listed page by page, then accounts × regions one after the
 *      other, a role assumed per region, ListClusters, per cluster DescribeCluster +
 *      ListFargateProfiles + StartBuild, no retry.
 *
 *   npx tsx bench/eks-discovery.bench.ts [--accounts 1000] [--regions 17] [--latency 50]
 *     [--concurrency 50] [--rate 10] [--burst 5] [--cluster-every 10] [--reference-accounts 25|all]
 *
 * The reference is strictly sequential, so its time is the sum of its calls: at full size it runs
 * for about half an hour. By default it runs on the first --reference-accounts accounts (all their
 * regions) and its full-organization time is EXTRAPOLATED from the measured time per call times the
 * number of calls it would make on the full organization (counted exactly); the output labels which
 * figures are measured and which extrapolated. `--reference-accounts all` measures it in full.
 * Results are printed and written to bench/results/eks-discovery-<timestamp>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { Cluster } from '@aws-sdk/client-eks';
import { join } from 'node:path';
import { AccountCredentials, type TemporaryCredentials } from '../src/aws/account-credentials.js';
import { StaticEnabledRegions } from '../src/aws/account-regions.js';
import {
  resolveScope,
  type DirectoryAccount,
  type OrganizationDirectory,
} from '../src/aws/organization-scope.js';
import type { ClusterApi } from '../src/eks/cluster-api.js';
import { discoverAccounts } from '../src/eks/discover.js';
import {
  clusterKey,
  type AccountOutcome,
  type ClusterVerdict,
  type RunResult,
} from '../src/eks/run-contract.js';
import type {
  ClusterRef,
  LockAttempt,
  ReleaseOutcome,
  RunsTable,
  RunStateTable,
  RunsTableItem,
} from '../src/eks/runs-table.js';
import { RunStarter, type BuildStarter } from '../src/eks/start-run.js';
import { BENCH_REGIONS } from './regions.js';

if (process.argv.includes('--help')) {
  console.log(
    'npx tsx bench/eks-discovery.bench.ts [--accounts 1000] [--regions 17] [--latency 50] [--concurrency 50]\n' +
      '  [--rate 10] [--burst 5] [--cluster-every 10] [--reference-accounts 25|all]',
  );
  process.exit(0);
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
function num(name: string, fallback: number): number {
  const value = Number(arg(name, String(fallback)));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const ACCOUNTS = num('accounts', 1000);
const REGION_COUNT = num('regions', 17);
const LATENCY = num('latency', 50);
const CONCURRENCY = num('concurrency', 50); // the configuration's default (features.eksProtection.concurrency)
const RATE = num('rate', 10);
const BURST = num('burst', 5);
const CLUSTER_EVERY = num('cluster-every', 10);
const REFERENCE_ACCOUNTS =
  arg('reference-accounts', '25') === 'all' ? ACCOUNTS : num('reference-accounts', 25);

const REGIONS = BENCH_REGIONS.slice(0, REGION_COUNT);
const OUS = 10;
const PAGE = 20; // Organizations' ListAccounts page size

// ---------------------------------------------------------------------------------------------
// The simulated organization
// ---------------------------------------------------------------------------------------------

type Kind = 'nodes' | 'fargate' | 'mixed' | 'config-map' | 'private';
const KINDS: Kind[] = ['nodes', 'fargate', 'mixed', 'config-map', 'private'];
const accountIds = Array.from({ length: ACCOUNTS }, (_, i) => String(100_000_000_000 + i));
const clustersAt = new Map<string, { name: string; kind: Kind }[]>();
let clusterCount = 0;
accountIds.forEach((account, a) =>
  REGIONS.forEach((region, r) => {
    const n = a * REGIONS.length + r;
    if (n % CLUSTER_EVERY !== 0) return;
    const kind = KINDS[(n / CLUSTER_EVERY) % KINDS.length];
    clustersAt.set(`${account}#${region}`, [{ name: `c-${n}`, kind }]);
    clusterCount += 1;
  }),
);
const eligibleCount = [...clustersAt.values()]
  .flat()
  .filter((c) => c.kind !== 'config-map' && c.kind !== 'private').length;

class Stats {
  calls = 0;
  throttled = 0;
  inFlight = 0;
  peakInFlight = 0;
}

/** Per-account token buckets (each member account has its own API rate). */
class Buckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  take(account: string): boolean {
    const now = performance.now();
    const b = this.buckets.get(account) ?? { tokens: BURST, at: now };
    b.tokens = Math.min(BURST, b.tokens + ((now - b.at) / 1000) * RATE);
    b.at = now;
    this.buckets.set(account, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One call: LATENCY ms; member-account calls are checked against the account's bucket first. */
async function simulate<T>(
  stats: Stats,
  buckets: Buckets | undefined,
  account: string | undefined,
  value: () => T,
): Promise<T> {
  stats.calls += 1;
  stats.inFlight += 1;
  stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
  try {
    if (buckets && account && !buckets.take(account)) {
      stats.throttled += 1;
      await sleep(LATENCY / 5);
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    await sleep(LATENCY);
    return value();
  } finally {
    stats.inFlight -= 1;
  }
}

function describe(
  account: string,
  region: string,
  name: string,
): { cluster: Cluster; nodegroups: string[]; fargate: string[] } {
  const c = clustersAt.get(`${account}#${region}`)?.find((x) => x.name === name);
  if (!c) throw new Error(`no cluster ${name}`);
  return {
    cluster: {
      name,
      status: 'ACTIVE',
      version: '1.31',
      accessConfig: { authenticationMode: c.kind === 'config-map' ? 'CONFIG_MAP' : 'API' },
      resourcesVpcConfig: {
        endpointPublicAccess: c.kind !== 'private',
        endpointPrivateAccess: c.kind === 'private',
        publicAccessCidrs: ['0.0.0.0/0'],
      },
    },
    nodegroups: c.kind === 'nodes' || c.kind === 'mixed' ? ['ng'] : [],
    fargate: c.kind === 'fargate' || c.kind === 'mixed' ? ['fp'] : [],
  };
}

function ouOf(account: number): string {
  return `ou-sim${String(account % OUS).padStart(2, '0')}-abcdefgh`;
}

// ---------------------------------------------------------------------------------------------
// Ours
// ---------------------------------------------------------------------------------------------

class MemoryRunsTable implements RunsTable, RunStateTable {
  readonly items = new Map<string, RunsTableItem>();
  constructor(private readonly stats: Stats) {}
  async takeLock(ref: ClusterRef, runId: string, ttl: number): Promise<LockAttempt> {
    return simulate(this.stats, undefined, undefined, () => {
      const key = clusterKey(ref.accountId, ref.region, ref.cluster);
      const item = this.items.get(key);
      const now = Math.floor(Date.now() / 1000);
      if (item?.lockRunId && (item.lockExpiresAt ?? 0) >= now)
        return { taken: false, heldBy: item.lockRunId };
      this.items.set(key, { ...ref, ...item, lockRunId: runId, lockExpiresAt: now + ttl });
      return { taken: true, runId, expiresAt: now + ttl };
    });
  }
  releaseLock(_result: RunResult): Promise<ReleaseOutcome> {
    return Promise.resolve('released');
  }
  async recordVerdict(ref: ClusterRef, verdict: ClusterVerdict): Promise<void> {
    await simulate(this.stats, undefined, undefined, () => {
      const key = clusterKey(ref.accountId, ref.region, ref.cluster);
      this.items.set(key, { ...ref, ...this.items.get(key), verdict });
    });
  }
  recordJudgement(ref: ClusterRef, verdict: ClusterVerdict): Promise<void> {
    return this.recordVerdict(ref, verdict);
  }
  recordRunTrigger(): Promise<'recorded'> {
    return Promise.resolve('recorded');
  }
  requestFollowUp(): Promise<void> {
    return Promise.resolve();
  }
  get(ref: ClusterRef): Promise<RunsTableItem | undefined> {
    return Promise.resolve(this.items.get(clusterKey(ref.accountId, ref.region, ref.cluster)));
  }
  list(): Promise<RunsTableItem[]> {
    return Promise.resolve([...this.items.values()]);
  }
  recordAccount(_outcome: AccountOutcome): Promise<void> {
    return Promise.resolve();
  }
  listAccounts(): Promise<AccountOutcome[]> {
    return Promise.resolve([]);
  }
  abandonLock(_ref: ClusterRef, _runId: string): Promise<boolean> {
    return Promise.resolve(true);
  }
  recordFalconInstalled(_ref: ClusterRef, _runId: string): Promise<void> {
    return Promise.resolve();
  }
  recordFalconRemoved(_ref: ClusterRef, _runId: string): Promise<void> {
    return Promise.resolve();
  }
  markDestroying(): Promise<void> {
    return Promise.resolve();
  }
  clearDestroying(): Promise<void> {
    return Promise.resolve();
  }
  /** One read per started run, as DynamoDB answers it. */
  async destroying(): Promise<undefined> {
    await simulate(this.stats, undefined, undefined, () => undefined);
    return undefined;
  }
}

async function runOurs() {
  const stats = new Stats();
  const buckets = new Buckets();
  const directory: OrganizationDirectory = {
    listAccounts: async (parent) => {
      const ids = parent.startsWith('ou-') ? accountIds.filter((_, i) => ouOf(i) === parent) : [];
      const out: DirectoryAccount[] = [];
      for (let page = 0; page * PAGE < ids.length || page === 0; page += 1) {
        out.push(
          ...(await simulate(stats, undefined, undefined, () =>
            ids.slice(page * PAGE, (page + 1) * PAGE).map((id) => ({ id, state: 'ACTIVE' })),
          )),
        );
      }
      return out;
    },
    listChildOus: (parent) =>
      simulate(stats, undefined, undefined, () =>
        parent === 'r-sim0' ? Array.from({ length: OUS }, (_, i) => ouOf(i)) : [],
      ),
  };
  const credentials = new AccountCredentials(
    {
      assume: (roleArn) =>
        simulate(stats, undefined, undefined, (): TemporaryCredentials => ({
          accessKeyId: `ASIA${roleArn.slice(13, 25)}`,
          secretAccessKey: 's',
          sessionToken: 't',
          expiration: new Date(Date.now() + 3_600_000),
        })),
    },
    { roleArn: (a) => `arn:aws:iam::${a}:role/falcon-org-eks-execution`, sessionName: 'bench' },
  );
  const table = new MemoryRunsTable(stats);
  let builds = 0;
  const buildStarter: BuildStarter = {
    start: () => simulate(stats, undefined, undefined, () => `build-${(builds += 1)}`),
  };
  const clusterApi = (account: string, region: string): ClusterApi => ({
    listClusters: () =>
      simulate(stats, buckets, account, () =>
        (clustersAt.get(`${account}#${region}`) ?? []).map((c) => c.name),
      ),
    describeCluster: (name) =>
      simulate(stats, buckets, account, () => describe(account, region, name).cluster),
    listNodegroups: (name) =>
      simulate(stats, buckets, account, () => describe(account, region, name).nodegroups),
    listFargateProfiles: (name) =>
      simulate(stats, buckets, account, () => describe(account, region, name).fargate),
  });

  const started = performance.now();
  const scope = await resolveScope(directory, { targets: ['r-sim0'] });
  const report = await discoverAccounts(
    scope.accounts.map((a) => a.id),
    {
      credentials,
      enabledRegions: new StaticEnabledRegions(REGIONS),
      clusterApi,
      table,
      runs: new RunStarter(table, buildStarter, {
        partition: 'aws',
        executionRoleName: 'falcon-org-eks-execution',
        lockTtlSeconds: 7200,
      }),
    },
    { regions: REGIONS, concurrency: CONCURRENCY },
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, report, stats, assumed: credentials.assumed, scopeAccounts: scope.accounts.length };
}

// ---------------------------------------------------------------------------------------------
// The reference algorithm: sequential, a role per region, no retry
// ---------------------------------------------------------------------------------------------

async function runReference(accounts: readonly string[]) {
  const stats = new Stats();
  const buckets = new Buckets();
  let failed = 0;
  let builds = 0;
  let clusters = 0;
  const started = performance.now();
  const pages = Math.ceil(accounts.length / PAGE);
  for (let p = 0; p < pages; p += 1) await simulate(stats, undefined, undefined, () => undefined); // ListAccounts
  for (const account of accounts) {
    for (const region of REGIONS) {
      try {
        await simulate(stats, undefined, undefined, () => undefined); // AssumeRole, again for every region
        const names = await simulate(stats, buckets, account, () =>
          (clustersAt.get(`${account}#${region}`) ?? []).map((c) => c.name),
        );
        for (const name of names) {
          clusters += 1;
          const d = await simulate(stats, buckets, account, () => describe(account, region, name));
          await simulate(stats, buckets, account, () => d.fargate); // ListFargateProfiles
          if (
            d.cluster.accessConfig?.authenticationMode === 'CONFIG_MAP' ||
            !d.cluster.resourcesVpcConfig?.endpointPublicAccess
          )
            continue;
          await simulate(stats, undefined, undefined, () => (builds += 1)); // StartBuild
        }
      } catch {
        failed += 1;
      }
    }
  }
  return { seconds: (performance.now() - started) / 1000, stats, failed, builds, clusters };
}

/** Calls the reference makes on a set of accounts (counted from the organization, not run). */
function referenceCalls(accounts: readonly string[]): number {
  let calls = Math.ceil(accounts.length / PAGE);
  for (const account of accounts) {
    for (const region of REGIONS) {
      calls += 2;
      for (const c of clustersAt.get(`${account}#${region}`) ?? [])
        calls += c.kind === 'config-map' || c.kind === 'private' ? 2 : 3;
    }
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------

console.log(
  `organization: ${ACCOUNTS} accounts × ${REGIONS.length} regions, ${clusterCount} clusters (${eligibleCount} eligible), ` +
    `${LATENCY} ms per call, ${RATE} calls/s per account (burst ${BURST})`,
);
const ours = await runOurs();
const c = ours.report.counts;
const throttleFailures = ours.report.accounts.flatMap((a) => [
  ...(a.reason?.includes('throttled') ? [a.accountId] : []),
  ...a.regions.filter((r) => r.reason?.includes('throttled')).map((r) => `${a.accountId}/${r.region}`),
  ...a.regions.flatMap((r) =>
    r.clusters.filter((x) => x.status === 'failed').map((x) => `${a.accountId}/${r.region}/${x.cluster}`),
  ),
]);
console.log(
  `ours (measured): ${ours.seconds.toFixed(1)} s — ${c.accounts} accounts, ${c.regions} regions, ${c.clusters} clusters, ` +
    `${c.runsStarted} runs started; ${ours.stats.calls} calls (peak ${ours.stats.peakInFlight} in flight), ` +
    `${ours.report.throttled} throttling answers absorbed, ${ours.assumed} roles assumed; ` +
    `failed: ${c.accountsFailed} accounts, ${c.regionsFailed} regions, ${c.clustersFailed} clusters`,
);

const sample = accountIds.slice(0, REFERENCE_ACCOUNTS);
const ref = await runReference(sample);
const fullCalls = referenceCalls(accountIds);
const sampleCalls = referenceCalls(sample);
const measuredInFull = sample.length === accountIds.length;
const refFullSeconds = measuredInFull ? ref.seconds : (ref.seconds / sampleCalls) * fullCalls;
console.log(
  `reference (measured on ${sample.length} of ${ACCOUNTS} accounts, all regions): ${ref.seconds.toFixed(1)} s, ` +
    `${ref.stats.calls} calls, ${ref.failed} account-regions failed, ${ref.builds} builds`,
);
if (!measuredInFull) {
  console.log(
    `reference on the full organization (EXTRAPOLATED from the measured ${((ref.seconds * 1000) / sampleCalls).toFixed(1)} ms per call × ${fullCalls} calls): ${refFullSeconds.toFixed(0)} s`,
  );
}
const ratio = refFullSeconds / ours.seconds;
console.log(
  `ratio: ${ratio.toFixed(0)}× faster (${measuredInFull ? 'both measured' : 'reference extrapolated'}); ` +
    `goal ≥ 50× and < 60 s: ${ratio >= 50 && ours.seconds < 60 && throttleFailures.length === 0 && c.accountsFailed === 0 ? 'met' : 'NOT met'}`,
);
if (c.clusters !== clusterCount || c.runsStarted !== eligibleCount) {
  console.log(`MISMATCH: expected ${clusterCount} clusters and ${eligibleCount} runs`);
  process.exitCode = 1;
}
if (throttleFailures.length > 0) {
  console.log(`items failed: ${throttleFailures.slice(0, 10).join(', ')}`);
  process.exitCode = 1;
}

const dir = join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `eks-discovery-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(
  file,
  JSON.stringify(
    {
      settings: {
        ACCOUNTS,
        REGIONS: REGIONS.length,
        LATENCY,
        CONCURRENCY,
        RATE,
        BURST,
        CLUSTER_EVERY,
        REFERENCE_ACCOUNTS,
      },
      ours: {
        seconds: ours.seconds,
        counts: c,
        calls: ours.stats.calls,
        peakInFlight: ours.stats.peakInFlight,
        throttled: ours.report.throttled,
        assumed: ours.assumed,
        itemsFailed: throttleFailures.length,
      },
      reference: {
        sampleAccounts: sample.length,
        measuredSeconds: ref.seconds,
        sampleCalls,
        fullCalls,
        fullSeconds: refFullSeconds,
        extrapolated: !measuredInFull,
        failed: ref.failed,
      },
      ratio,
    },
    null,
    2,
  ),
);
console.log(`written: ${file}`);
